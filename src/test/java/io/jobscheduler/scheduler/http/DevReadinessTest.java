package io.jobscheduler.scheduler.http;

import io.jobscheduler.Main;
import io.jobscheduler.scheduler.SchedulerServer;
import io.jobscheduler.scheduler.TestServers;
import io.jobscheduler.worker.TestWorkers;
import io.jobscheduler.worker.WorkerServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code dev}'s readiness, wired as {@code Main} wires it: not ready (503, naming the worker)
 * while its worker has not registered, ready (204) once it has; liveness and the cheap
 * {@code /observe/health} alike.
 */
class DevReadinessTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path work;
    @TempDir
    Path data;

    @Test
    void devIsNotReadyUntilItsWorkerRegistersAndReadyAfter() throws Exception {
        Readiness readiness = new Readiness();
        try (SchedulerServer scheduler = SchedulerServer.start(TestServers.plaintext(),
                readiness.requireAWorker(Main.DEV_WORKER_MILESTONE), readiness)) {
            for (String path : new String[] {"/observe/health/ready", "/observe/health"}) {
                WorkersHttpServiceTest.assertError(get(scheduler, path), 503,
                        "not ready: waiting for " + Main.DEV_WORKER_MILESTONE);
            }
            assertEquals(204, get(scheduler, "/observe/health/live").statusCode(), "live while not ready");

            try (WorkerServer worker = WorkerServer.start(TestWorkers.settings(scheduler.grpcPort(), work, data))) {
                assertTrue(worker.awaitRegistered(Duration.ofSeconds(20)), "the worker did not register");
                // The registry tells readiness as it adds the worker, before the worker hears its id.
                assertEquals(204, get(scheduler, "/observe/health/ready").statusCode());
                assertEquals(204, get(scheduler, "/observe/health").statusCode());
            }
            assertEquals(204, get(scheduler, "/observe/health/ready").statusCode(), "ready stays ready");
        }
    }

    private static HttpResponse<String> get(SchedulerServer scheduler, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + scheduler.httpPort() + path))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
