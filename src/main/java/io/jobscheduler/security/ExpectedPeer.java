package io.jobscheduler.security;

import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * A client's trust in one server: its certificate must verify against the CA (and name the host
 * dialled, as the JDK checks) and carry exactly the {@link Identity} expected. The scheduler dials
 * an identity-bound worker with it, so a call meant for {@code worker/alpha} never reaches another
 * holder of a certificate for that address.
 */
public final class ExpectedPeer extends X509ExtendedTrustManager {
    private final X509ExtendedTrustManager authority;
    private final Identity expected;

    private ExpectedPeer(X509ExtendedTrustManager authority, Identity expected) {
        this.authority = authority;
        this.expected = Objects.requireNonNull(expected, "expected");
    }

    /** The JDK's trust manager for the CA certificates of a PEM file. */
    public static X509ExtendedTrustManager trusting(Path caFile) {
        try (InputStream in = Files.newInputStream(caFile)) {
            KeyStore store = KeyStore.getInstance("PKCS12");
            store.load(null, null);
            int n = 0;
            for (var certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                store.setCertificateEntry("ca-" + n++, certificate);
            }
            TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            factory.init(store);
            for (TrustManager manager : factory.getTrustManagers()) {
                if (manager instanceof X509ExtendedTrustManager x509) {
                    return x509;
                }
            }
            throw new IllegalStateException("the JDK made no X509ExtendedTrustManager");
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot read the CA certificates in " + caFile + ": " + e.getMessage(), e);
        }
    }

    /** Trusts what {@code authority} trusts, from a server presenting {@code expected} only. */
    public static ExpectedPeer of(X509ExtendedTrustManager authority, Identity expected) {
        return new ExpectedPeer(authority, expected);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        authority.checkServerTrusted(chain, authType, engine);
        requireExpected(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        authority.checkServerTrusted(chain, authType, socket);
        requireExpected(chain);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        authority.checkServerTrusted(chain, authType);
        requireExpected(chain);
    }

    /** A server's trust manager only: it verifies no client. */
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        throw new CertificateException("ExpectedPeer verifies servers only");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        throw new CertificateException("ExpectedPeer verifies servers only");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        throw new CertificateException("ExpectedPeer verifies servers only");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return authority.getAcceptedIssuers();
    }

    private void requireExpected(X509Certificate[] chain) throws CertificateException {
        Optional<Identity> found;
        try {
            found = Identity.of(chain[0]);
        } catch (IllegalArgumentException e) {
            throw new CertificateException(e.getMessage(), e);
        }
        if (!found.equals(Optional.of(expected))) {
            throw new CertificateException("the server presents " + found.map(Identity::toString).orElse("no identity")
                    + ", not " + expected);
        }
    }
}
