package io.jobscheduler.config;

import java.nio.file.Path;
import java.util.Optional;

/** The CA (PEM) that signed the other side's certificate, for a client that dials TLS. */
public record ClientTls(Path caFile) {

    /** Reads {@code [section] use_tls, ca_file}; the file is checked only when TLS is on. */
    static Optional<ClientTls> from(Settings section, String name) {
        if (!section.bool("use_tls")) {
            return Optional.empty();
        }
        return Optional.of(new ClientTls(ServerTls.readable(section, name, "ca_file")));
    }
}
