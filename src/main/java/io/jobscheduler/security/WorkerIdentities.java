package io.jobscheduler.security;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.UUID;

/**
 * What a worker's certificate entitles its holder to, under the CAs the scheduler trusts for
 * workers ({@code [grpc_server] client_ca_file}): the one worker id its identity owns
 * ({@link Identity#workerId}, a name-based UUID of the signing CA's fingerprint and the worker's
 * name, so the same after every scheduler restart with nothing stored) and the addresses it may
 * register (its IP and DNS SANs). Only for certificates the TLS handshake has already verified.
 */
public final class WorkerIdentities {
    private static final int SAN_DNS = 2;  // GeneralName dNSName, RFC 5280 §4.2.1.6
    private static final int SAN_IP = 7;   // GeneralName iPAddress

    private final List<X509Certificate> authorities;

    private WorkerIdentities(List<X509Certificate> authorities) {
        this.authorities = List.copyOf(authorities);
    }

    /** The CAs in a PEM file (one or more certificates). */
    public static WorkerIdentities trusting(Path caFile) {
        List<X509Certificate> found = new ArrayList<>();
        try (InputStream in = Files.newInputStream(caFile)) {
            for (Certificate certificate : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
                if (certificate instanceof X509Certificate x509) {
                    found.add(x509);
                }
            }
        } catch (IOException | GeneralSecurityException e) {
            throw new IllegalArgumentException("cannot read the CA certificates in " + caFile + ": " + e.getMessage(), e);
        }
        if (found.isEmpty()) {
            throw new IllegalArgumentException(caFile + " holds no certificate");
        }
        return new WorkerIdentities(found);
    }

    /** The worker id {@code identity} (read from {@code leaf}) owns: under the CA whose key signed the leaf. */
    public UUID workerId(Identity identity, X509Certificate leaf) {
        for (X509Certificate authority : authorities) {
            if (authority.getSubjectX500Principal().equals(leaf.getIssuerX500Principal()) && signed(authority, leaf)) {
                return identity.workerId(CertificateAuthority.fingerprint(authority));
            }
        }
        // The handshake verified the leaf against these CAs, so one of them signed it.
        throw new IllegalStateException("no trusted CA signed the certificate of " + identity);
    }

    /** Whether {@code host} (an IP literal or a DNS name) is among the leaf's IP and DNS SANs. */
    public static boolean names(X509Certificate leaf, String host) {
        HostSan wanted;
        try {
            wanted = HostSan.parse(host);
        } catch (IllegalArgumentException e) {
            return false;
        }
        return hostSans(leaf).contains(wanted);
    }

    /** The leaf's IP and DNS SANs, as an error message lists them. */
    public static List<HostSan> hostSans(X509Certificate leaf) {
        Collection<List<?>> sans;
        try {
            sans = leaf.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            return List.of();
        }
        List<HostSan> hosts = new ArrayList<>();
        if (sans != null) {
            for (List<?> san : sans) {
                if (san.get(0) instanceof Integer type && (type == SAN_DNS || type == SAN_IP)
                        && san.get(1) instanceof String text) {
                    try {
                        hosts.add(HostSan.parse(text));
                    } catch (IllegalArgumentException notOurs) {
                        // A wildcard or other name our CA never writes: it names no address we accept.
                    }
                }
            }
        }
        return hosts;
    }

    private static boolean signed(X509Certificate authority, X509Certificate leaf) {
        try {
            leaf.verify(authority.getPublicKey());
            return true;
        } catch (GeneralSecurityException e) {
            return false;
        }
    }
}
