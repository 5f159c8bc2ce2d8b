package io.jobscheduler.scheduler;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.helidon.common.media.type.MediaTypes;
import io.helidon.webclient.http1.Http1Client;
import io.helidon.webclient.http1.Http1ClientResponse;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpRoute;
import io.jobscheduler.ManualClock;
import io.jobscheduler.scheduler.http.Readiness;
import io.jobscheduler.scheduler.http.SchedulerHttp;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code DELETE /workers/{id}}: an admin forgets a worker that is down, and its unfinished jobs
 * are {@code LOST} for good; a worker that is alive is 409. Liveness runs on a clock the test
 * moves, so the worker is down exactly when the test says.
 */
@ServerTest
class WorkerRemovalTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ManualClock CLOCK = new ManualClock();
    private static final SchedulerCore CORE = SchedulerCore.create(TestServers.plaintext(), CLOCK,
            WorkerRegistry.Listener.NONE);
    private static final ScriptedWorker WORKER = scriptedWorker();

    private final Http1Client client;

    WorkerRemovalTest(Http1Client client) {
        this.client = client;
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        SchedulerHttp.routing(routing, CORE.registry(), CORE.gateway(), new Readiness());
    }

    @AfterAll
    static void stop() throws InterruptedException {
        CORE.close();
        WORKER.close();
    }

    private static ScriptedWorker scriptedWorker() {
        try {
            return new ScriptedWorker();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void aWorkerThatIsDownIsForgottenAndItsRunningJobsAreLost() throws Exception {
        UUID id = CORE.registry().register(WORKER.address(), null, List.of()).id();
        WORKER.nextStream();
        try (Http1ClientResponse started = client.post("/start").contentType(MediaTypes.APPLICATION_JSON)
                .submit("{\"worker_id\":\"" + id + "\",\"command\":\"removal-job\"}")) {
            assertEquals(201, started.status().code(), started.as(String.class));
        }

        JsonNode alive = error(client.delete("/workers/" + id).request(), 409);
        assertEquals("worker '" + id + "' is alive; only a worker that is down can be removed"
                + " (stop the worker, or wait until it is marked down)", alive.get("error").asText());

        CLOCK.advance(TestServers.TTL.plus(Duration.ofMillis(1)));
        CORE.sweep();
        try (Http1ClientResponse removed = client.delete("/workers/" + id).request()) {
            assertEquals(200, removed.status().code());
            JsonNode body = JSON.readTree(removed.as(String.class));
            assertEquals(id.toString(), body.get("worker_id").asText());
            assertEquals(1, body.get("jobs_lost").asInt());
        }

        error(client.get("/workers/" + id).request(), 404);
        try (Http1ClientResponse job = client.get("/jobs/removal-job").request()) {
            assertEquals(200, job.status().code());
            JsonNode body = JSON.readTree(job.as(String.class));
            assertEquals("LOST", body.get("state").asText());
            assertEquals("worker lost", body.get("error_text").asText());
        }
        try (Http1ClientResponse lost = client.get("/jobs").queryParam("state", "LOST").request()) {
            assertTrue(lost.as(String.class).contains("\"job_id\":\"removal-job\""));
        }
        error(client.delete("/workers/" + id).request(), 404);
    }

    private JsonNode job(String jobId) throws IOException {
        try (Http1ClientResponse job = client.get("/jobs/" + jobId).request()) {
            assertEquals(200, job.status().code());
            return JSON.readTree(job.as(String.class));
        }
    }

    @Test
    void aJobQueuedForAWorkerWaitsWhileItIsDownAndFailsOnceItIsRemoved() throws Exception {
        try (ScriptedWorker pinnedTo = new ScriptedWorker(); ScriptedWorker probe = new ScriptedWorker()) {
            UUID id = register(pinnedTo);
            // Drained, it takes nothing: the start pinned to it waits in the queue.
            drain(id, "drain");
            String jobId = queue("{\"worker_id\":\"" + id + "\",\"command\":\"pinned-job\"}");

            CLOCK.advance(TestServers.TTL.plus(Duration.ofMillis(1)));
            CORE.sweep();
            assertEquals("down", JSON.readTree(client.get("/workers/" + id).request().as(String.class))
                    .get("state").asText());
            // A probe job on another worker: once it is sent, a dispatch pass that looked for jobs of
            // workers gone (it looks at least every second of the clock) has run with this one down.
            UUID other = register(probe);
            drain(other, "drain");
            queue("{\"command\":\"probe-job\"}");
            CLOCK.advance(Duration.ofMillis(1001));
            drain(other, "resume");
            ScriptedWorker.await("the probe job sent", () -> probe.starts.get() == 1);
            assertEquals("QUEUED", job(jobId).get("state").asText(), "a worker that is down may come back");

            try (Http1ClientResponse removed = client.delete("/workers/" + id).request()) {
                assertEquals(200, removed.status().code());
            }
            ScriptedWorker.await("the job failed", () -> {
                try {
                    return job(jobId).get("state").asText().equals("FAILED");
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            assertEquals("worker '" + id + "' left the cluster before the job could start",
                    job(jobId).get("error_text").asText());
            assertEquals(0, pinnedTo.starts.get(), "never sent");
        }
    }

    /** Registers a worker that runs one job at a time and adopts job ids. */
    private static UUID register(ScriptedWorker worker) throws InterruptedException {
        UUID id = CORE.registry().register(worker.address(), null, new WorkerRegistry.Advertised(
                List.of(Worker.CAPACITY, Worker.JOB_ID), List.of(), java.util.Map.of(), 1)).id();
        worker.nextStream();
        return id;
    }

    private void drain(UUID id, String action) {
        try (Http1ClientResponse drained = client.post("/workers/" + id + "/" + action).request()) {
            assertEquals(200, drained.status().code());
        }
    }

    /** Posts a start that must be queued; answers its id. */
    private String queue(String body) throws IOException {
        try (Http1ClientResponse queued = client.post("/start").contentType(MediaTypes.APPLICATION_JSON).submit(body)) {
            String text = queued.as(String.class);
            assertEquals(202, queued.status().code(), text);
            return JSON.readTree(text).get("job_id").asText();
        }
    }

    @Test
    void aWorkerIdThatIsNotAUuidIs400AndAnUnknownOneIs404() throws Exception {
        assertEquals("worker id 'x' is not a UUID", error(client.delete("/workers/x").request(), 400).get("error").asText());
        UUID unknown = UUID.randomUUID();
        assertEquals("worker '" + unknown + "' is not registered",
                error(client.delete("/workers/" + unknown).request(), 404).get("error").asText());
    }

    private static JsonNode error(Http1ClientResponse response, int status) throws IOException {
        try (response) {
            String body = response.as(String.class);
            assertEquals(status, response.status().code(), body);
            assertEquals("application/json", response.headers().contentType().orElseThrow().mediaType().text());
            return JSON.readTree(body);
        }
    }
}
