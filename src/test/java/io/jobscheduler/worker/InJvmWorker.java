package io.jobscheduler.worker;

import io.helidon.webserver.WebServerConfig;
import io.jobscheduler.worker.job.JobRunner;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Comparator;
import java.util.Optional;
import java.util.stream.Stream;

/**
 * The worker's gRPC service for an in-JVM {@code @ServerTest}: set up with the routing production
 * uses ({@link WorkerServer#serve}), a runner of the test's, and watches that take the scheduler's
 * id to be {@link #WORKER_ID} (no scheduler runs).
 */
final class InJvmWorker {
    static final String WORKER_ID = "in-jvm-worker";

    private InJvmWorker() {
    }

    static void serve(WebServerConfig.Builder server, JobRunner runner) {
        serve(server, runner, 0);
    }

    /** @param maxRunning the worker's {@code [jobs] max_running}, 0: unlimited */
    static void serve(WebServerConfig.Builder server, JobRunner runner, int maxRunning) {
        WatchService watches = new WatchService(() -> Optional.of(WORKER_ID), runner::runningCount, maxRunning,
                runner.events(), new SchedulerContact(Clock.systemUTC()));
        WorkerServer.serve(server, runner, new StartGate(runner, maxRunning), watches);
    }

    static void deleteTree(Path root) {
        if (root == null || !Files.exists(root)) {
            return;
        }
        try (Stream<Path> all = Files.walk(root)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
