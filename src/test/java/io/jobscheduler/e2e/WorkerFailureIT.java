package io.jobscheduler.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.io.TempDir;

import static io.jobscheduler.e2e.Cluster.object;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Workers that go away: killed outright, or asked to stop. One cluster of three workers: each test
 * takes down a worker of its own, and worker 2 is the one that stays.
 */
class WorkerFailureIT {
    @TempDir
    static Path dir;
    static Cluster cluster;
    static String survivor;
    final String marker = Processes.marker();

    @RegisterExtension
    final TestWatcher logs = Cluster.logsOnFailure(() -> cluster);

    @BeforeAll
    static void startCluster() {
        cluster = Cluster.start(dir, 3, Map.of(), Map.of("JOBSCHEDULER_JOBS_STOP_GRACE", "1s"));
        survivor = cluster.workerId(2);
    }

    @BeforeEach
    void writeScript() throws IOException {
        Files.writeString(cluster.workDir().resolve("long-" + marker + ".sh"),
                "#!/bin/bash\necho started\nexec -a " + marker + "-sleep sleep 1000\n");
    }

    @AfterEach
    void endOrphans() {
        // A worker killed with SIGKILL cannot stop its jobs: they are ours to end.
        Processes.kill(marker);
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aWorkerKilledBetweenTwoRequestsIsDownAtOnceItsJobsLostAndTheSchedulerKeepsServingTheOther() throws Exception {
        String killed = cluster.workerId(0);
        String alive = survivor;
        String lost = cluster.startJob(killed, "bash", "long-" + marker + ".sh");
        String kept = cluster.startJob(alive, "bash", "long-" + marker + ".sh");
        assertEquals("RUNNING", cluster.get("/jobs/" + lost).json().get("state").asText());

        cluster.killWorker(0);
        cluster.awaitWorkerState(killed, "down", Duration.ofSeconds(1));

        assertLost(cluster.get("/jobs/" + lost).json());
        assertLost(cluster.post("/query", object("job_id", lost).toString()).json());
        assertLost(cluster.post("/query", object("job_id", lost, "worker_id", killed).toString()).json());
        cluster.get("/jobs/" + lost + "/output?follow=false").assertError(503);
        cluster.post("/stop", object("job_id", lost).toString()).assertError(503);
        cluster.post("/start", object("worker_id", killed, "command", "true").toString()).assertError(503);

        // The other worker is untouched, and listing jobs still works.
        assertEquals("RUNNING", cluster.get("/jobs/" + kept).json().get("state").asText());
        JsonNode done = cluster.awaitDone(cluster.startJob(alive, "true", ""));
        assertEquals("SUCCEEDED", done.get("state").asText());
        assertEquals("started\n", cluster.get("/jobs/" + kept + "/output?follow=false").text());
        assertEquals(200, cluster.post("/stop", object("job_id", kept).toString()).status());
        assertEquals("STOPPED", cluster.get("/jobs/" + kept).json().get("state").asText());
        var list = cluster.get("/jobs");
        assertEquals(200, list.status(), list.toString());
        List<String> listed = new ArrayList<>();
        list.json().get("jobs").forEach(job -> listed.add(job.get("job_id").asText()));
        assertTrue(listed.containsAll(List.of(lost, kept)), list.toString());
        list.json().get("jobs").forEach(job -> {
            if (job.get("job_id").asText().equals(lost)) {
                assertEquals("LOST", job.get("state").asText(), list.toString());
            }
        });
        // Still answered, not a hang or a 500, on the next request too.
        assertLost(cluster.get("/jobs/" + lost).json());
        cluster.post("/start", object("worker_id", killed, "command", "true").toString()).assertError(503);
    }

    /** What a job of a worker the scheduler cannot reach answers: done, failed, "worker lost". */
    private static void assertLost(JsonNode job) {
        assertEquals("LOST", job.get("state").asText(), job.toString());
        assertTrue(job.get("done").asBoolean() && job.get("error").asBoolean(), job.toString());
        assertEquals("worker lost", job.get("error_text").asText(), job.toString());
    }

    @Test
    void aWorkerGivenSigtermDeregistersStopsItsJobsAndExits() throws Exception {
        String leaving = cluster.workerId(1);
        String staying = survivor;
        String jobId = cluster.startJob(leaving, "bash", "long-" + marker + ".sh");
        Cluster.await("the job's process", Duration.ofSeconds(20), () -> !Processes.withMarker(marker).isEmpty());

        cluster.sigterm(1);

        assertTrue(cluster.workerProcess(1).waitFor(60, TimeUnit.SECONDS), "the worker did not exit on SIGTERM");
        List<String> ids = new ArrayList<>();
        cluster.get("/workers").json().get("workers").forEach(w -> ids.add(w.get("id").asText()));
        assertTrue(!ids.contains(leaving) && ids.contains(staying), ids.toString());
        cluster.get("/workers/" + leaving).assertError(404);
        assertTrue(Processes.withMarker(marker).isEmpty(), "the worker left its job running: " + Processes.withMarker(marker));
        // It stopped the job before it left: the scheduler kept that final state.
        assertEquals("STOPPED", cluster.get("/jobs/" + jobId).json().get("state").asText());
        assertEquals("SUCCEEDED", cluster.awaitDone(cluster.startJob(staying, "true", "")).get("state").asText());
    }
}
