package io.jobscheduler.security;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;

/** A certificate and its private key, as {@link CertificateAuthority} makes them. */
public record IssuedCertificate(X509Certificate certificate, PrivateKey key) {

    /**
     * Writes {@code dir/NAME.pem} (mode 0644: a certificate is public) and {@code dir/NAME.key}
     * (mode 0600) as PEM. Refuses when either exists, and leaves neither behind when it fails.
     */
    public void save(Path dir, String name) {
        Path certificateFile = dir.resolve(name + ".pem");
        Path keyFile = dir.resolve(name + ".key");
        for (Path file : new Path[] {certificateFile, keyFile}) {
            if (Files.exists(file)) {
                throw new IllegalStateException(file + " already exists; refusing to overwrite it");
            }
        }
        Pem.create(keyFile, Pem.privateKey(key), Pem.OWNER_ONLY);
        try {
            Pem.create(certificateFile, Pem.certificate(certificate), Pem.PUBLIC);
        } catch (RuntimeException e) {
            try {
                Files.delete(keyFile);
            } catch (IOException suppressed) {
                e.addSuppressed(new UncheckedIOException(suppressed));
            }
            throw e;
        }
    }
}
