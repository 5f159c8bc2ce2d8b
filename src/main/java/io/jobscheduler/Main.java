package io.jobscheduler;

import io.helidon.logging.common.LogConfig;
import io.jobscheduler.config.ConfigException;
import io.jobscheduler.config.ConfigKey;
import io.jobscheduler.config.ConfigLoader;
import io.jobscheduler.config.SchedulerSettings;
import io.jobscheduler.config.WorkerSettings;
import io.jobscheduler.scheduler.SchedulerServer;
import io.jobscheduler.scheduler.WorkerRecord;
import io.jobscheduler.scheduler.WorkerRegistry;
import io.jobscheduler.scheduler.http.Readiness;
import io.jobscheduler.worker.WorkerServer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The command line: {@code scheduler | worker | dev [flags]}. Loads configuration, starts the
 * servers, and closes them on SIGTERM/SIGINT. Only wiring lives here.
 */
public final class Main {
    private static final String USAGE = """
            usage: jobscheduler scheduler [--config FILE] [--http-addr HOST:PORT] [--grpc-addr HOST:PORT]
                   jobscheduler worker    [--config FILE] [--grpc-addr HOST:PORT] [--scheduler-addr HOST:PORT]
                   jobscheduler dev       [--http-addr HOST:PORT] [--grpc-addr HOST:PORT]
            """;

    /** The settings each command reads; their flags are the flags it takes (dev: the scheduler's). */
    private static final Map<String, List<ConfigKey>> SCHEMAS = Map.of(
            "scheduler", SchedulerSettings.SCHEMA,
            "worker", WorkerSettings.SCHEMA,
            "dev", SchedulerSettings.SCHEMA);

    private Main() {
    }

    public static void main(String[] args) {
        LogConfig.configureRuntime();
        if (args.length == 1 && args[0].equals("train")) {
            try {
                Training.run();
                System.exit(0);
            } catch (Exception e) {
                System.err.println("jobscheduler train: " + e.getMessage());
                System.exit(1);
            }
        }
        if (args.length == 0 || !SCHEMAS.containsKey(args[0])) {
            System.err.print(USAGE);
            System.exit(2);
        }
        String command = args[0];
        Map<String, String> flags = new HashMap<>();
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
            Optional<ConfigKey> key = SCHEMAS.get(command).stream().filter(k -> flag.equals(k.flag())).findFirst();
            boolean known = arg.equals("--config") ? !command.equals("dev") : key.isPresent();
            if (!known || value == null) {
                System.err.println("jobscheduler " + command + ": " + (known ? "missing value for " : "unknown flag ")
                        + arg);
                System.err.print(USAGE);
                System.exit(2);
            }
            if (arg.equals("--config")) {
                configFile = Optional.of(Path.of(value));
            } else {
                flags.put(key.orElseThrow().path(), value);
            }
        }
        List<AutoCloseable> running = new ArrayList<>();
        try {
            Path here = Path.of("").toAbsolutePath();
            Map<String, String> env = System.getenv();
            switch (command) {
                case "scheduler" -> running.add(SchedulerServer.start(SchedulerSettings.from(
                        new ConfigLoader(SchedulerSettings.SCHEMA, env, here)
                                .load(configFile, SchedulerSettings.FILE_NAME, flags))));
                case "worker" -> running.add(WorkerServer.start(WorkerSettings.from(
                        new ConfigLoader(WorkerSettings.SCHEMA, env, here)
                                .load(configFile, WorkerSettings.FILE_NAME, flags), here)));
                default -> {
                    // dev: both halves on the built-in defaults (no files), jobs in the current folder.
                    SchedulerSettings scheduler = SchedulerSettings.from(new ConfigLoader(SchedulerSettings.SCHEMA, env, here)
                            .loadWithoutFile(flags));
                    // Ready (GET /observe/health/ready) once this worker has registered, not merely listening.
                    Readiness readiness = new Readiness();
                    AtomicBoolean workerJoined = new AtomicBoolean();
                    readiness.require("the dev worker to register", workerJoined::get);
                    running.add(SchedulerServer.start(scheduler, new WorkerRegistry.Listener() {
                        @Override
                        public void added(WorkerRecord worker) {
                            workerJoined.set(true);
                        }
                    }, readiness));
                    running.add(WorkerServer.start(WorkerSettings.from(new ConfigLoader(WorkerSettings.SCHEMA, env, here)
                            .loadWithoutFile(Map.of("scheduler.addr", dialable(scheduler))), here)));
                }
            }
        } catch (ConfigException e) {
            System.err.println("jobscheduler " + command + ": configuration: " + e.getMessage());
            closeAll(running);
            System.exit(2);
        } catch (RuntimeException e) {
            System.err.println("jobscheduler " + command + ": cannot start: " + e.getMessage());
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

    /** The scheduler's gRPC address as a worker on this host dials it. */
    private static String dialable(SchedulerSettings scheduler) {
        var grpc = scheduler.grpcAddress();
        return (grpc.isWildcard() ? "127.0.0.1" : grpc.host()) + ":" + grpc.port();
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
