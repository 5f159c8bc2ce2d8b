package io.jobscheduler;

import io.helidon.config.Config;
import io.helidon.logging.common.LogConfig;
import io.helidon.service.registry.Services;
import io.jobscheduler.cli.Cli;
import io.jobscheduler.config.ConfigException;
import io.jobscheduler.config.ConfigKey;
import io.jobscheduler.config.ConfigLoader;
import io.jobscheduler.config.ObserveSettings;
import io.jobscheduler.config.SchedulerSettings;
import io.jobscheduler.config.ServerStartException;
import io.jobscheduler.config.WorkerSettings;
import io.jobscheduler.scheduler.SchedulerServer;
import io.jobscheduler.scheduler.WorkerRegistry;
import io.jobscheduler.scheduler.http.Readiness;
import io.jobscheduler.observe.Meters;
import io.jobscheduler.security.SecurityCommands;
import io.jobscheduler.worker.WorkerServer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;

/**
 * The command line: {@code scheduler | worker | dev [flags]}, {@code certs}, {@code token}, the client commands
 * ({@code io.jobscheduler.cli}), {@code help}, {@code version}.
 * Loads configuration, starts the servers, and closes them on SIGTERM/SIGINT. Only wiring lives here.
 */
public final class Main {
    private static final String USAGE = """
            usage: jobscheduler scheduler [--config FILE] [--http-addr HOST:PORT] [--grpc-addr HOST:PORT]
                   jobscheduler worker    [--config FILE] [--grpc-addr HOST:PORT] [--scheduler-addr HOST:PORT]
                   jobscheduler dev       [--http-addr HOST:PORT] [--grpc-addr HOST:PORT] [--worker-addr HOST:PORT]
                   jobscheduler certs ca DIR | certs issue DIR --role ROLE --name NAME [--san HOST]... [--days N]
                   jobscheduler token create|revoke|list --file FILE [--name NAME] [--role ROLE]
                   jobscheduler workers | jobs [--limit N] [--all] | status JOB | stop JOB     [--json]
                   jobscheduler start [--worker ID] [--json] -- COMMAND [PATH]   (prints the job id)
                   jobscheduler run [--worker ID] -- COMMAND [PATH]   (follows the output, exits with the job's outcome)
                   jobscheduler logs [-f] [--worker ID] JOB
                   jobscheduler completion   (a bash completion script)
                   jobscheduler version
                   jobscheduler help
            FILE is TOML, or HOCON (.conf) or JSON (.json); flags override the environment, which overrides the file.
            The client commands also take --server URL (else $JOBSCHEDULER_SERVER, else http://127.0.0.1:3000),
            --ca-file FILE (else $JOBSCHEDULER_CA_FILE) and --help; $JOBSCHEDULER_TOKEN is sent as a bearer token.
            """;

    /** One server a command starts, with the settings it reads; a key's flag is the flag that sets it. */
    private record Component(String name, List<ConfigKey> schema) {
        Optional<String> flagOf(String setting) {
            return schema.stream().filter(k -> k.path().equals(setting) && k.flag() != null)
                    .map(ConfigKey::flag).findFirst();
        }
    }

    private static final Component SCHEDULER = new Component("scheduler", SchedulerSettings.SCHEMA);
    private static final Component WORKER = new Component("worker", WorkerSettings.SCHEMA);
    /** dev's worker: its socket is {@code --worker-addr} (dev's {@code --grpc-addr} is the scheduler's); no other flag. */
    /** What {@code dev}'s readiness waits for, after the sockets ("not ready: waiting for ..."). */
    public static final String DEV_WORKER_MILESTONE = "the dev worker to register";
    private static final ConfigKey DEV_WORKER_SOCKET = WorkerSettings.SCHEMA.stream()
            .filter(k -> k.path().equals("grpc_server.addr")).findFirst().orElseThrow().withFlag("--worker-addr");
    private static final Component DEV_WORKER = new Component("worker", WorkerSettings.SCHEMA.stream()
            .map(k -> k.path().equals(DEV_WORKER_SOCKET.path()) ? DEV_WORKER_SOCKET : k.withFlag(null)).toList());

    private static final Map<String, List<Component>> COMMANDS = Map.of(
            "scheduler", List.of(SCHEDULER),
            "worker", List.of(WORKER),
            "dev", List.of(SCHEDULER, DEV_WORKER));

    /** A server that could not start, named when the command starts two. */
    private static final class StartFailure extends RuntimeException {
        private final String server;

        StartFailure(String server, String message, Throwable cause) {
            super(message, cause);
            this.server = server;
        }

        String who() {
            return server == null ? "" : " the " + server;
        }
    }

    private Main() {
    }

    public static void main(String[] args) {
        LogConfig.configureRuntime();
        if (args.length > 0 && SecurityCommands.handles(args[0])) {
            System.exit(SecurityCommands.run(args, System.out, System.err));
        }
        if (args.length > 0 && Cli.handles(args[0])) {
            System.exit(Cli.run(args, System.out, System.err, System.getenv()));
        }
        if (args.length == 1 && args[0].equals("train")) {
            try {
                Training.run();
                System.exit(0);
            } catch (Exception e) {
                System.err.println("jobscheduler train: " + e.getMessage());
                System.exit(1);
            }
        }
        if (args.length > 0 && (args[0].equals("help") || List.of(args).contains("--help") || List.of(args).contains("-h"))) {
            System.out.print(USAGE);
            System.exit(0);
        }
        if (args.length == 1 && args[0].equals("version")) {
            System.out.println("jobscheduler " + version());
            System.exit(0);
        }
        if (args.length == 0 || !COMMANDS.containsKey(args[0])) {
            usageError(args.length == 0 ? "a command is required" : "unknown command " + args[0]);
        }
        String command = args[0];
        Invocation invocation = parse(command, args);
        // Helidon's own services (the metrics, the servers' features) ask its service registry for
        // a Config; unset, the registry builds its default one (application.* files on the class
        // path and in the working folder, the environment, system properties): a third of the main
        // thread's start-up in JFR's samples. This process's settings are ours (ConfigLoader), so
        // Helidon's services get none and run on their defaults. Only servers pay for the registry.
        Services.set(Config.class, Config.empty());
        List<AutoCloseable> running = new ArrayList<>();
        try {
            Path here = Path.of("").toAbsolutePath();
            Map<String, String> env = System.getenv();
            switch (command) {
                case "scheduler" -> {
                    SchedulerSettings scheduler = SchedulerSettings.from(new ConfigLoader(SCHEDULER.schema(), env, here)
                            .load(invocation.configFile(), SchedulerSettings.FILE_NAME, invocation.flags(SCHEDULER)));
                    running.add(started(SCHEDULER, false, () -> SchedulerServer.start(scheduler)));
                }
                case "worker" -> {
                    Config config = new ConfigLoader(WORKER.schema(), env, here)
                            .load(invocation.configFile(), WorkerSettings.FILE_NAME, invocation.flags(WORKER));
                    WorkerSettings worker = WorkerSettings.from(config, here);
                    ObserveSettings observe = ObserveSettings.from(config);
                    running.add(started(WORKER, false, () -> WorkerServer.start(worker, observe, Meters.ofProcess())));
                }
                default -> {
                    // dev: both halves on the built-in defaults (no files), jobs in the current folder;
                    // the worker dials the port the scheduler got (--grpc-addr may ask for port 0).
                    SchedulerSettings scheduler = SchedulerSettings.from(new ConfigLoader(SCHEDULER.schema(), env, here)
                            .loadWithoutFile(invocation.flags(SCHEDULER)));
                    // Ready (GET /observe/health/ready) once this worker has registered, not merely listening.
                    Readiness readiness = new Readiness();
                    WorkerRegistry.Listener joined = readiness.requireAWorker(DEV_WORKER_MILESTONE);
                    SchedulerServer schedulerServer = started(SCHEDULER, true,
                            () -> SchedulerServer.start(scheduler, joined, readiness));
                    running.add(schedulerServer);
                    Map<String, String> workerFlags = new HashMap<>(invocation.flags(DEV_WORKER));
                    workerFlags.put("scheduler.addr", dialable(scheduler, schedulerServer.grpcPort()));
                    // JOBSCHEDULER_GRPC_SERVER_ADDR is the scheduler's here, as --grpc-addr is.
                    Map<String, String> workerEnv = new HashMap<>(env);
                    workerEnv.remove(DEV_WORKER_SOCKET.envName());
                    Config workerConfig = new ConfigLoader(DEV_WORKER.schema(), workerEnv, here).loadWithoutFile(workerFlags);
                    WorkerSettings worker = WorkerSettings.from(workerConfig, here);
                    ObserveSettings observe = ObserveSettings.from(workerConfig);
                    running.add(started(DEV_WORKER, true, () -> WorkerServer.start(worker, observe, Meters.ofProcess())));
                }
            }
        } catch (ConfigException e) {
            System.err.println("jobscheduler " + command + ": configuration: " + e.getMessage());
            closeAll(running);
            System.exit(2);
        } catch (RuntimeException e) {
            System.err.println("jobscheduler " + command + ": cannot start"
                    + (e instanceof StartFailure failure ? failure.who() : "") + ": " + e.getMessage());
            closeAll(running);
            System.exit(1);
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            closeAll(running.reversed());
            stopped.countDown();
        }, "shutdown"));
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** A command's {@code --config} file and its flags, by the server they set and the key they set. */
    private record Invocation(Optional<Path> configFile, Map<Component, Map<String, String>> byComponent) {
        Map<String, String> flags(Component component) {
            return byComponent.getOrDefault(component, Map.of());
        }
    }

    /** Reads {@code --flag value} and {@code --flag=value}; exits with usage (status 2) on an unknown or incomplete flag. */
    private static Invocation parse(String command, String[] args) {
        List<Component> components = COMMANDS.get(command);
        Map<Component, Map<String, String>> flags = new HashMap<>();
        Optional<Path> configFile = Optional.empty();
        for (int i = 1; i < args.length; i++) {
            String arg = args[i];
            String value = null;
            int equals = arg.indexOf('=');
            if (equals > 0) {
                value = arg.substring(equals + 1);
                arg = arg.substring(0, equals);
            } else if (i + 1 < args.length) {
                value = args[++i];
            }
            String flag = arg;
            boolean isConfig = arg.equals("--config") && !command.equals("dev");
            Optional<Map.Entry<Component, ConfigKey>> target = components.stream()
                    .flatMap(c -> c.schema().stream().filter(k -> flag.equals(k.flag())).map(k -> Map.entry(c, k)))
                    .findFirst();
            if (!isConfig && target.isEmpty()) {
                usageError(command + ": unknown flag " + arg);
            }
            if (value == null) {
                usageError(command + ": missing value for " + arg);
            }
            if (isConfig) {
                configFile = Optional.of(Path.of(value));
            } else {
                flags.computeIfAbsent(target.get().getKey(), c -> new HashMap<>()).put(target.get().getValue().path(), value);
            }
        }
        return new Invocation(configFile, flags);
    }

    /**
     * Starts one server; a socket it cannot bind is reported naming the setting and the flag that
     * moves it, and, when the command starts two servers, which one failed.
     */
    private static <T extends AutoCloseable> T started(Component component, boolean name, Supplier<T> start) {
        try {
            return start.get();
        } catch (ServerStartException e) {
            throw new StartFailure(name ? component.name() : null, e.getMessage()
                    + e.setting().flatMap(component::flagOf).map(flag -> " (set another with " + flag + ")").orElse(""), e);
        }
    }

    /** The project's version, from the jar's manifest (Maven writes it there). */
    private static String version() {
        return Optional.ofNullable(Main.class.getPackage().getImplementationVersion())
                .orElse("(version unknown: not run from its jar)");
    }

    private static void usageError(String problem) {
        System.err.println("jobscheduler: " + problem);
        System.err.print(USAGE);
        System.exit(2);
    }

    /** The scheduler's gRPC address as a worker on this host dials it. */
    private static String dialable(SchedulerSettings scheduler, int boundPort) {
        var grpc = scheduler.grpcAddress();
        return (grpc.isWildcard() ? "127.0.0.1" : grpc.host()) + ":" + boundPort;
    }

    private static void closeAll(List<AutoCloseable> servers) {
        for (AutoCloseable server : servers) {
            try {
                server.close();
            } catch (Exception e) {
                System.err.println("jobscheduler: error while stopping: " + e.getMessage());
            }
        }
    }
}
