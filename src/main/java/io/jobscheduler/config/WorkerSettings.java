package io.jobscheduler.config;

import io.helidon.config.Config;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static io.jobscheduler.config.ConfigKey.Kind.*;

/**
 * Everything a worker is configured with, read once from {@code worker.toml}.
 *
 * @param grpcAddress the socket the worker serves its jobs on
 * @param advertiseAddress the address sent at registration, which the scheduler dials
 * @param grpcTls TLS for the worker's gRPC socket
 * @param schedulerAddress where the scheduler's gRPC socket is
 * @param schedulerTls TLS for the worker's calls to the scheduler
 * @param callTimeout the bound on each call to the scheduler
 * @param workDir where jobs run and {@code path} resolves
 * @param dataDir where the worker keeps its id, job records and output
 * @param stopGrace how long a stopped job has between SIGTERM and SIGKILL
 * @param keepFinished how many finished jobs (with their output) are kept
 * @param keepOutputBytes how many bytes of finished jobs' output are kept in all
 * @param jobRules how jobs are shaped and confined (arguments, environment, timeout, run-as)
 * @param grpcInsecure {@code [grpc_server] insecure}: serve off loopback without mutual TLS, or as root without run_as
 */
public record WorkerSettings(Address grpcAddress, Address advertiseAddress, Optional<ServerTls> grpcTls,
                             Address schedulerAddress, Optional<ClientTls> schedulerTls, Duration callTimeout,
                             Path workDir, Path dataDir, Duration stopGrace, int keepFinished,
                             long keepOutputBytes, JobRules jobRules, boolean grpcInsecure) {

    public static final String FILE_NAME = "worker.toml";

    public static final List<ConfigKey> SCHEMA = java.util.stream.Stream.concat(java.util.stream.Stream.of(
            new ConfigKey("grpc_server", "addr", LISTEN_ADDRESS, "127.0.0.1:30000", "--grpc-addr"),
            new ConfigKey("grpc_server", "advertise_addr", ADDRESS, null),
            new ConfigKey("grpc_server", "use_tls", BOOLEAN, "false"),
            new ConfigKey("grpc_server", "crt_file", PATH, "server.pem"),
            new ConfigKey("grpc_server", "key_file", PATH, "server.key"),
            new ConfigKey("grpc_server", "client_ca_file", PATH, ""),
            new ConfigKey("grpc_server", "tls_min_version", STRING, ServerTls.DEFAULT_MIN_VERSION),
            new ConfigKey("grpc_server", "tls_handshake_timeout", DURATION, "10s"),
            new ConfigKey("grpc_server", "insecure", BOOLEAN, "false"),
            new ConfigKey("scheduler", "addr", ADDRESS, "127.0.0.1:50000", "--scheduler-addr"),
            new ConfigKey("scheduler", "use_tls", BOOLEAN, "false"),
            new ConfigKey("scheduler", "ca_file", PATH, ""),
            new ConfigKey("scheduler", "crt_file", PATH, ""),
            new ConfigKey("scheduler", "key_file", PATH, ""),
            new ConfigKey("scheduler", "call_timeout", DURATION, "10s"),
            new ConfigKey("jobs", "work_dir", PATH, null),
            new ConfigKey("jobs", "data_dir", PATH, null),
            new ConfigKey("jobs", "stop_grace", DURATION, "5s"),
            new ConfigKey("jobs", "keep_finished", INTEGER, "1000"),
            new ConfigKey("jobs", "keep_output_bytes", INTEGER, String.valueOf(10L << 30))),
            java.util.stream.Stream.concat(JobRules.KEYS.stream(), ObserveSettings.KEYS.stream())).toList();

    /** @param workingDir the worker's current folder, the default {@code work_dir} */
    public static WorkerSettings from(Config config, Path workingDir) {
        Settings grpc = Settings.of(config, "grpc_server");
        Settings scheduler = Settings.of(config, "scheduler");
        Settings jobs = Settings.of(config, "jobs");
        Address listen = grpc.address("addr");
        String advertised = grpc.string("advertise_addr");
        if (advertised.isEmpty() && listen.isWildcard()) {
            throw new ConfigException("grpc_server.advertise_addr: required when grpc_server.addr is "
                    + listen + " (an address the scheduler cannot dial)");
        }
        Address advertise = advertised.isEmpty() ? listen : Address.parse(advertised, false);
        String workDir = jobs.string("work_dir");
        String dataDir = jobs.string("data_dir");
        return new WorkerSettings(
                listen,
                advertise,
                ServerTls.from(grpc, "grpc_server", true),
                scheduler.address("addr"),
                ClientTls.from(scheduler, "scheduler"),
                SchedulerSettings.positive("scheduler.call_timeout", scheduler.duration("call_timeout")),
                workDir.isEmpty() ? workingDir : workingDir.resolve(workDir),
                dataDir.isEmpty() ? workingDir.resolve("data/worker-" + listen.port()) : workingDir.resolve(dataDir),
                jobs.duration("stop_grace"),
                (int) Math.min(Integer.MAX_VALUE, jobs.integer("keep_finished")),
                jobs.integer("keep_output_bytes"),
                JobRules.from(jobs),
                grpc.bool("insecure"));
    }

    /** Settings with the safe default {@code insecure = false}. */
    public WorkerSettings(Address grpcAddress, Address advertiseAddress, Optional<ServerTls> grpcTls,
                          Address schedulerAddress, Optional<ClientTls> schedulerTls, Duration callTimeout,
                          Path workDir, Path dataDir, Duration stopGrace, int keepFinished,
                          long keepOutputBytes, JobRules jobRules) {
        this(grpcAddress, advertiseAddress, grpcTls, schedulerAddress, schedulerTls, callTimeout, workDir, dataDir,
                stopGrace, keepFinished, keepOutputBytes, jobRules, false);
    }

    /** The same settings once the socket is bound: a listener on port 0 advertises the port it got. */
    public WorkerSettings withBoundPort(int port) {
        if (advertiseAddress.port() != 0) {
            return this;
        }
        return new WorkerSettings(grpcAddress, new Address(advertiseAddress.host(), port), grpcTls, schedulerAddress,
                schedulerTls, callTimeout, workDir, dataDir, stopGrace, keepFinished, keepOutputBytes, jobRules,
                grpcInsecure);
    }
}
