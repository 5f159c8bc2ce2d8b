package io.jobscheduler.config;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * How a client dials TLS: the CA (PEM) that signed the other side's certificate and, for mutual
 * TLS, the certificate and key it presents itself.
 */
public record ClientTls(Path caFile, Optional<Certificate> certificate) {

    /** A PEM certificate and its private key. */
    public record Certificate(Path certificateFile, Path keyFile) {
        public Certificate {
            Objects.requireNonNull(certificateFile, "certificateFile");
            Objects.requireNonNull(keyFile, "keyFile");
        }
    }

    public ClientTls {
        Objects.requireNonNull(caFile, "caFile");
        Objects.requireNonNull(certificate, "certificate");
    }

    /** Trusting {@code caFile}, presenting no certificate. */
    public ClientTls(Path caFile) {
        this(caFile, Optional.empty());
    }

    /** The same, presenting this certificate. */
    public ClientTls presenting(Path certificateFile, Path keyFile) {
        return new ClientTls(caFile, Optional.of(new Certificate(certificateFile, keyFile)));
    }

    /** Whether this client presents a certificate of its own. */
    public boolean mutual() {
        return certificate.isPresent();
    }

    /** Reads {@code [section] use_tls, ca_file, crt_file, key_file}; the files are checked only when TLS is on. */
    static Optional<ClientTls> from(Settings section, String name) {
        boolean presents = !section.string("crt_file").isEmpty() || !section.string("key_file").isEmpty();
        if (!section.bool("use_tls")) {
            if (presents) {
                throw new ConfigException(name + "." + (section.string("crt_file").isEmpty() ? "key_file" : "crt_file")
                        + ": requires " + name + ".use_tls = true");
            }
            return Optional.empty();
        }
        Path ca = ServerTls.readable(section, name, "ca_file");
        if (!presents) {
            return Optional.of(new ClientTls(ca));
        }
        return Optional.of(new ClientTls(ca, Optional.of(new Certificate(
                ServerTls.readable(section, name, "crt_file"), ServerTls.readable(section, name, "key_file")))));
    }
}
