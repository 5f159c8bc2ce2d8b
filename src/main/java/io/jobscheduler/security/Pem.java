package io.jobscheduler.security;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.EnumSet;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.openssl.PEMException;
import org.bouncycastle.openssl.PEMKeyPair;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.openssl.jcajce.JcaPKCS8Generator;
import org.bouncycastle.util.io.pem.PemGenerationException;

/**
 * PEM files of certificates and keys. Keys are written as unencrypted PKCS#8 ("PRIVATE KEY"),
 * the form both Helidon's TLS and grpc-java's {@code TlsChannelCredentials} read.
 */
final class Pem {
    /** Private keys: owner read/write only. */
    static final String OWNER_ONLY = "rw-------";
    /** Certificates are public. */
    static final String PUBLIC = "rw-r--r--";

    private Pem() {
    }

    static String certificate(X509Certificate certificate) {
        return write(certificate);
    }

    static String privateKey(PrivateKey key) {
        try {
            return write(new JcaPKCS8Generator(key, null).generate());
        } catch (PemGenerationException e) {
            throw new IllegalStateException("cannot encode the private key: " + e.getMessage(), e);
        }
    }

    static X509Certificate readCertificate(Path file) {
        if (read(file) instanceof X509CertificateHolder holder) {
            try {
                return new JcaX509CertificateConverter().getCertificate(holder);
            } catch (CertificateException e) {
                throw new IllegalArgumentException(file + ": not a valid certificate: " + e.getMessage(), e);
            }
        }
        throw new IllegalArgumentException(file + ": no PEM certificate in it");
    }

    static PrivateKey readPrivateKey(Path file) {
        try {
            return switch (read(file)) {
                case PrivateKeyInfo info -> new JcaPEMKeyConverter().getPrivateKey(info);
                case PEMKeyPair pair -> new JcaPEMKeyConverter().getPrivateKey(pair.getPrivateKeyInfo());
                case null, default -> throw new IllegalArgumentException(file + ": no unencrypted PEM private key in it");
            };
        } catch (PEMException e) {
            throw new IllegalArgumentException(file + ": not a valid private key: " + e.getMessage(), e);
        }
    }

    /**
     * Creates {@code file} with {@code permissions} (e.g. {@link #OWNER_ONLY}) from the first
     * byte on, and never replaces an existing file.
     */
    static void create(Path file, String content, String permissions) {
        boolean created = false;
        try (SeekableByteChannel out = Files.newByteChannel(file,
                EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(permissions)))) {
            created = true;
            ByteBuffer bytes = ByteBuffer.wrap(content.getBytes(StandardCharsets.US_ASCII));
            while (bytes.hasRemaining()) {
                out.write(bytes);
            }
        } catch (FileAlreadyExistsException e) {
            throw new IllegalStateException(file + " already exists; refusing to overwrite it");
        } catch (NoSuchFileException e) {
            throw new UncheckedIOException("cannot write " + file + ": no such folder", e);
        } catch (IOException e) {
            if (created) {
                deleteQuietly(file, e); // never leave half a key or certificate behind
            }
            throw new UncheckedIOException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private static void deleteQuietly(Path file, IOException cause) {
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            cause.addSuppressed(e);
        }
    }

    private static Object read(Path file) {
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.US_ASCII);
             PEMParser parser = new PEMParser(in)) {
            return parser.readObject();
        } catch (NoSuchFileException e) {
            throw new IllegalArgumentException(file + ": no such file");
        } catch (IOException e) {
            throw new IllegalArgumentException(file + ": cannot read PEM: " + e.getMessage(), e);
        }
    }

    private static String write(Object pemObject) {
        StringWriter text = new StringWriter();
        try (JcaPEMWriter out = new JcaPEMWriter(text)) {
            out.writeObject(pemObject);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // a StringWriter does not fail
        }
        return text.toString();
    }
}
