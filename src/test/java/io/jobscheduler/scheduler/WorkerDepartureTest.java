package io.jobscheduler.scheduler;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jobscheduler.worker.TestWorkers;
import io.jobscheduler.worker.WorkerServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A worker that shuts down cleanly stops its jobs, then deregisters; the scheduler takes their
 * final states as it leaves, so they answer afterwards instead of staying LOST.
 */
class WorkerDepartureTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();

    @TempDir
    Path work;
    @TempDir
    Path data;

    private HttpResponse<String> send(SchedulerServer scheduler, String path, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + scheduler.httpPort() + path))
                .timeout(Duration.ofSeconds(30));
        return http.send(body == null ? request.GET().build() : request.POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void theFinalStatesOfALeavingWorkersJobsAreKept() throws Exception {
        Files.writeString(work.resolve("long.sh"), "echo started\nexec sleep 1000\n");
        try (SchedulerServer scheduler = SchedulerServer.start(TestServers.plaintext())) {
            WorkerServer worker = WorkerServer.start(TestWorkers.settings(scheduler.grpcPort(), work, data));
            String jobId;
            JsonNode running;
            try {
                assertTrue(worker.awaitRegistered(Duration.ofSeconds(10)));
                String workerId = scheduler.registry().list().getFirst().id().toString();
                var started = send(scheduler, "/start", "{\"worker_id\":\"" + workerId + "\",\"command\":\"sh\",\"path\":\"long.sh\"}");
                assertEquals(201, started.statusCode(), started.body());
                jobId = JSON.readTree(started.body()).get("job_id").asText();
                running = JSON.readTree(send(scheduler, "/jobs/" + jobId, null).body());
                assertEquals("RUNNING", running.get("state").asText());
            } finally {
                worker.close();
            }
            assertTrue(scheduler.registry().list().isEmpty(), "the worker deregistered");

            JsonNode stopped = JSON.readTree(send(scheduler, "/jobs/" + jobId, null).body());
            assertEquals("STOPPED", stopped.get("state").asText(), stopped.toString());
            assertEquals(running.get("started_at"), stopped.get("started_at"));
            var output = send(scheduler, "/jobs/" + jobId + "/output", null);
            assertEquals(503, output.statusCode(), output.body());
            assertTrue(JSON.readTree(output.body()).get("error").asText().contains("has left the cluster"), output.body());
        }
    }
}
