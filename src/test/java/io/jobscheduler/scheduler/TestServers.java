package io.jobscheduler.scheduler;

import io.jobscheduler.config.Address;
import io.jobscheduler.config.SchedulerSettings;
import io.jobscheduler.config.ServerTls;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/** Settings for a scheduler on free ports of 127.0.0.1, and the committed test TLS material. */
public final class TestServers {
    public static final Duration TTL = Duration.ofSeconds(5);

    private TestServers() {
    }

    public static SchedulerSettings plaintext() {
        return settings(Optional.empty(), "127.0.0.1:0", "127.0.0.1:0");
    }

    public static SchedulerSettings tls() {
        return settings(Optional.of(new ServerTls(tlsFile("server.pem"), tlsFile("server.key"))),
                "127.0.0.1:0", "127.0.0.1:0");
    }

    public static SchedulerSettings settings(Optional<ServerTls> grpcTls, String http, String grpc) {
        return new SchedulerSettings(Address.parse(http, true), Address.parse(grpc, true), grpcTls, Optional.empty(),
                Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(5), TTL, Duration.ofMinutes(10), 1000,
                Duration.ofSeconds(30), Duration.ofMinutes(5));
    }

    public static Path tlsFile(String name) {
        try {
            return Path.of(Objects.requireNonNull(TestServers.class.getResource("/tls/" + name), name).toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }
}
