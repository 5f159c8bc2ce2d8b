package io.jobscheduler;

import io.jobscheduler.config.ConfigLoader;
import io.jobscheduler.config.SchedulerSettings;
import io.jobscheduler.config.WorkerSettings;
import io.jobscheduler.scheduler.SchedulerServer;
import io.jobscheduler.worker.WorkerServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.Map;
import java.util.stream.Stream;

/**
 * {@code jobscheduler train}: runs a scheduler and a worker in this process on free ports, drives
 * one job through the HTTP API, and exits. {@code bin/jobscheduler} runs it once per build under
 * {@code -XX:AOTCacheOutput}, so that the JVM's ahead-of-time cache holds the classes every
 * later start needs (JEP 483/514): start-up takes about half the time.
 */
final class Training {
    private Training() {
    }

    static void run() throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("jobscheduler-train");
        try {
            Path here = Path.of("").toAbsolutePath();
            SchedulerSettings schedulerSettings = SchedulerSettings.from(new ConfigLoader(SchedulerSettings.SCHEMA,
                    Map.of(), here).loadWithoutFile(Map.of(
                    "http_server.addr", "127.0.0.1:0", "grpc_server.addr", "127.0.0.1:0")));
            try (SchedulerServer scheduler = SchedulerServer.start(schedulerSettings);
                 WorkerServer worker = WorkerServer.start(WorkerSettings.from(new ConfigLoader(WorkerSettings.SCHEMA,
                         Map.of("JOBSCHEDULER_JOBS_WORK_DIR", dir.toString(),
                                 "JOBSCHEDULER_JOBS_DATA_DIR", dir.resolve("data").toString()), here)
                         .loadWithoutFile(Map.of("grpc_server.addr", "127.0.0.1:0",
                                 "scheduler.addr", "127.0.0.1:" + scheduler.grpcPort())), here));
                 HttpClient http = HttpClient.newHttpClient()) {
                if (!worker.awaitRegistered(Duration.ofSeconds(30))) {
                    throw new IllegalStateException("the training worker did not register");
                }
                String base = "http://127.0.0.1:" + scheduler.httpPort();
                String workerId = scheduler.registry().list().getFirst().id().toString();
                String started = send(http, HttpRequest.newBuilder(URI.create(base + "/start"))
                        .POST(HttpRequest.BodyPublishers.ofString(
                                "{\"worker_id\":\"" + workerId + "\",\"command\":\"echo\",\"path\":\"trained\"}")));
                String jobId = started.strip().replaceAll(".*\"job_id\":\"([^\"]+)\".*", "$1");
                send(http, HttpRequest.newBuilder(URI.create(base + "/jobs/" + jobId + "/output")));
                send(http, HttpRequest.newBuilder(URI.create(base + "/query"))
                        .POST(HttpRequest.BodyPublishers.ofString("{\"job_id\":\"" + jobId + "\"}")));
                send(http, HttpRequest.newBuilder(URI.create(base + "/jobs")));
                send(http, HttpRequest.newBuilder(URI.create(base + "/workers")));
            }
        } finally {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
            }
        }
    }

    private static String send(HttpClient http, HttpRequest.Builder request) throws InterruptedException {
        try {
            HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() >= 300) {
                throw new IllegalStateException(request.build().uri() + " answered " + response.statusCode()
                        + ": " + response.body());
            }
            return response.body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
