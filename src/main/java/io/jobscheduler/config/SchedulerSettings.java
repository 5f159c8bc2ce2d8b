package io.jobscheduler.config;

import io.helidon.config.Config;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static io.jobscheduler.config.ConfigKey.Kind.*;

/**
 * Everything the scheduler is configured with, read once from {@code config.toml}.
 *
 * @param httpAddress the HTTP gateway's socket
 * @param grpcAddress the socket workers register on
 * @param grpcTls TLS for the gRPC socket, when {@code use_tls = true}
 * @param workerTls TLS for the scheduler's channels to workers
 * @param callTimeout the deadline of each unary call to a worker
 * @param stopTimeout the deadline of a stop, which waits for the job to end (its grace period)
 * @param drainTimeout how long in-flight requests may take to finish on shutdown
 * @param workerTtl how long a worker may stay silent before it is down
 * @param workerExpiry how long a down worker is kept before it is removed
 * @param jobIndexSize how many job-to-worker entries the scheduler remembers
 * @param headerTimeout how long an HTTP request's head may take to arrive
 * @param idleTimeout how long an idle HTTP keep-alive connection is kept open
 * @param httpTls TLS for the HTTP API socket, when {@code [http_server] use_tls = true}
 * @param grpcInsecure {@code [grpc_server] insecure}: serve gRPC off loopback without mutual TLS
 * @param access API tokens, the audit log and the HTTP insecure override ({@code [auth]}, {@code [audit]})
 */
public record SchedulerSettings(Address httpAddress, Address grpcAddress, Optional<ServerTls> grpcTls,
                                Optional<ClientTls> workerTls, Duration callTimeout, Duration stopTimeout,
                                Duration drainTimeout,
                                Duration workerTtl, Duration workerExpiry, int jobIndexSize,
                                Duration headerTimeout, Duration idleTimeout, Optional<ServerTls> httpTls,
                                boolean grpcInsecure, AccessSettings access) {

    public static final String FILE_NAME = "config.toml";

    public static final List<ConfigKey> SCHEMA = List.of(
            new ConfigKey("grpc_server", "addr", LISTEN_ADDRESS, "127.0.0.1:50000", "--grpc-addr"),
            new ConfigKey("grpc_server", "use_tls", BOOLEAN, "false"),
            new ConfigKey("grpc_server", "crt_file", PATH, "server.pem"),
            new ConfigKey("grpc_server", "key_file", PATH, "server.key"),
            new ConfigKey("grpc_server", "client_ca_file", PATH, ""),
            new ConfigKey("grpc_server", "tls_min_version", STRING, ServerTls.DEFAULT_MIN_VERSION),
            new ConfigKey("grpc_server", "tls_handshake_timeout", DURATION, "10s"),
            new ConfigKey("grpc_server", "insecure", BOOLEAN, "false"),
            new ConfigKey("http_server", "addr", LISTEN_ADDRESS, "127.0.0.1:3000", "--http-addr"),
            new ConfigKey("http_server", "use_tls", BOOLEAN, "false"),
            new ConfigKey("http_server", "crt_file", PATH, "server.pem"),
            new ConfigKey("http_server", "key_file", PATH, "server.key"),
            new ConfigKey("http_server", "tls_min_version", STRING, ServerTls.DEFAULT_MIN_VERSION),
            new ConfigKey("http_server", "tls_handshake_timeout", DURATION, "10s"),
            new ConfigKey("http_server", "drain_timeout", DURATION, "10s"),
            new ConfigKey("http_server", "header_timeout", DURATION, "30s"),
            new ConfigKey("http_server", "idle_timeout", DURATION, "5m"),
            new ConfigKey("http_server", "insecure", BOOLEAN, "false"),
            new ConfigKey("auth", "tokens_file", PATH, ""),
            new ConfigKey("audit", "file", PATH, ""),
            new ConfigKey("audit", "max_size", STRING, "100MB"),
            new ConfigKey("workers", "use_tls", BOOLEAN, "false"),
            new ConfigKey("workers", "ca_file", PATH, ""),
            new ConfigKey("workers", "crt_file", PATH, ""),
            new ConfigKey("workers", "key_file", PATH, ""),
            new ConfigKey("workers", "call_timeout", DURATION, "10s"),
            new ConfigKey("workers", "stop_timeout", DURATION, "30s"),
            new ConfigKey("workers", "ttl", DURATION, "5s"),
            new ConfigKey("workers", "expiry", DURATION, "10m"),
            new ConfigKey("jobs", "index_size", INTEGER, "100000"));

    public static SchedulerSettings from(Config config) {
        Settings grpc = Settings.of(config, "grpc_server");
        Settings http = Settings.of(config, "http_server");
        Settings workers = Settings.of(config, "workers");
        Settings jobs = Settings.of(config, "jobs");
        return new SchedulerSettings(
                http.address("addr"),
                grpc.address("addr"),
                ServerTls.from(grpc, "grpc_server", true),
                ClientTls.from(workers, "workers"),
                positive("workers.call_timeout", workers.duration("call_timeout")),
                positive("workers.stop_timeout", workers.duration("stop_timeout")),
                http.duration("drain_timeout"),
                positive("workers.ttl", workers.duration("ttl")),
                workers.duration("expiry"),
                (int) Math.min(Integer.MAX_VALUE, jobs.integer("index_size")),
                positive("http_server.header_timeout", http.duration("header_timeout")),
                positive("http_server.idle_timeout", http.duration("idle_timeout")),
                ServerTls.from(http, "http_server", false),
                grpc.bool("insecure"),
                AccessSettings.from(Settings.of(config, "auth"), http, Settings.of(config, "audit")));
    }

    /** Settings with a plaintext HTTP socket, the safe gRPC default ({@code insecure = false}), no tokens and no audit log. */
    public SchedulerSettings(Address httpAddress, Address grpcAddress, Optional<ServerTls> grpcTls,
                             Optional<ClientTls> workerTls, Duration callTimeout, Duration stopTimeout,
                             Duration drainTimeout, Duration workerTtl, Duration workerExpiry, int jobIndexSize,
                             Duration headerTimeout, Duration idleTimeout) {
        this(httpAddress, grpcAddress, grpcTls, workerTls, callTimeout, stopTimeout, drainTimeout, workerTtl,
                workerExpiry, jobIndexSize, headerTimeout, idleTimeout, Optional.empty(), false, AccessSettings.OPEN);
    }

    /** These settings with {@code access} instead. */
    public SchedulerSettings withAccess(AccessSettings other) {
        return new SchedulerSettings(httpAddress, grpcAddress, grpcTls, workerTls, callTimeout, stopTimeout,
                drainTimeout, workerTtl, workerExpiry, jobIndexSize, headerTimeout, idleTimeout, httpTls, grpcInsecure,
                other);
    }

    /** The same settings with these TLS choices (tests and {@code dev} build on the defaults). */
    public SchedulerSettings withTls(Optional<ServerTls> grpc, Optional<ClientTls> workers, Optional<ServerTls> http) {
        return new SchedulerSettings(httpAddress, grpcAddress, grpc, workers, callTimeout, stopTimeout, drainTimeout,
                workerTtl, workerExpiry, jobIndexSize, headerTimeout, idleTimeout, http, grpcInsecure, access);
    }

    static Duration positive(String key, Duration value) {
        if (value.isZero()) {
            throw new ConfigException(key + ": must be more than 0");
        }
        return value;
    }
}
