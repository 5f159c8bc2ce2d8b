package io.jobscheduler.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.io.TempDir;

import static io.jobscheduler.e2e.Cluster.object;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Workers that go away: killed outright, or asked to stop. Each test has a cluster of its own. */
class WorkerFailureIT {
    @TempDir
    Path dir;
    Cluster cluster;
    final String marker = Processes.marker();

    @RegisterExtension
    final TestWatcher logs = Cluster.logsOnFailure(() -> cluster);

    @BeforeEach
    void startCluster() throws IOException {
        cluster = Cluster.start(dir, 2, Map.of(), Map.of("JOBSCHEDULER_JOBS_STOP_GRACE", "1s"));
        Files.writeString(cluster.workDir().resolve("long-" + marker + ".sh"),
                "#!/bin/bash\necho started\nexec -a " + marker + "-sleep sleep 1000\n");
    }

    @AfterEach
    void stopCluster() {
        try {
            cluster.close();
        } finally {
            // A worker killed with SIGKILL cannot stop its jobs: they are ours to end.
            Processes.kill(marker);
        }
    }

    @Test
    void aWorkerKilledBetweenTwoRequestsIs503AndTheSchedulerKeepsServingTheOther() throws Exception {
        String killed = cluster.workerId(0);
        String alive = cluster.workerId(1);
        String lost = cluster.startJob(killed, "bash", "long-" + marker + ".sh");
        String kept = cluster.startJob(alive, "bash", "long-" + marker + ".sh");
        assertEquals("RUNNING", cluster.get("/jobs/" + lost).json().get("state").asText());

        cluster.killWorker(0);

        cluster.get("/jobs/" + lost).assertError(503);
        cluster.post("/query", object("job_id", lost).toString()).assertError(503);
        cluster.post("/query", object("job_id", lost, "worker_id", killed).toString()).assertError(503);
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
        assertEquals(3, list.json().get("jobs").size(), list.toString());
        // Still 503, not a hang or a 500, on the next request too.
        cluster.get("/jobs/" + lost).assertError(503);
    }

    @Test
    void aWorkerGivenSigtermDeregistersStopsItsJobsAndExits() throws Exception {
        String leaving = cluster.workerId(1);
        String staying = cluster.workerId(0);
        String jobId = cluster.startJob(leaving, "bash", "long-" + marker + ".sh");
        Cluster.await("the job's process", Duration.ofSeconds(20), () -> !Processes.withMarker(marker).isEmpty());

        cluster.sigterm(1);

        assertTrue(cluster.workerProcess(1).waitFor(60, TimeUnit.SECONDS), "the worker did not exit on SIGTERM");
        List<String> ids = new ArrayList<>();
        cluster.get("/workers").json().get("workers").forEach(w -> ids.add(w.get("id").asText()));
        assertEquals(List.of(staying), ids);
        cluster.get("/workers/" + leaving).assertError(404);
        assertTrue(Processes.withMarker(marker).isEmpty(), "the worker left its job running: " + Processes.withMarker(marker));
        cluster.get("/jobs/" + jobId).assertError(503);
        assertEquals("SUCCEEDED", cluster.awaitDone(cluster.startJob(staying, "true", "")).get("state").asText());
    }
}
