package io.jobscheduler.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.io.TempDir;

import static io.jobscheduler.e2e.Cluster.object;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Liveness and recovery with real processes: workers paused, the scheduler killed and restarted,
 * workers killed and restarted, and a scheduler under load. Every cluster runs with a short
 * time-to-live so each test takes a few of them.
 */
class LivenessIT {
    private static final Duration TTL = Duration.ofSeconds(2);
    private static final Map<String, String> SCHEDULER_ENV = Map.of("JOBSCHEDULER_WORKERS_TTL", TTL.toMillis() + "ms");
    private static final Map<String, String> WORKER_ENV = Map.of("JOBSCHEDULER_JOBS_STOP_GRACE", "1s");

    @TempDir
    Path dir;
    Cluster cluster;
    final String marker = Processes.marker();

    @RegisterExtension
    final TestWatcher logs = Cluster.logsOnFailure(() -> cluster);

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
        Processes.kill(marker);
    }

    private Cluster start(int workers) throws IOException {
        cluster = Cluster.start(dir, workers, SCHEDULER_ENV, WORKER_ENV);
        // Every run of any job appends a line here, so a job started twice shows.
        Files.writeString(cluster.workDir().resolve("long.sh"),
                "#!/bin/bash\necho \"$$\" >> runs-" + marker + "\necho started\nexec -a " + marker + "-sleep sleep 1000\n");
        Files.writeString(cluster.workDir().resolve("short.sh"),
                "#!/bin/bash\necho \"$$\" >> runs-" + marker + "\necho hello\n");
        return cluster;
    }

    private int runs() throws IOException {
        Path runs = cluster.workDir().resolve("runs-" + marker);
        return Files.exists(runs) ? Files.readAllLines(runs).size() : 0;
    }

    private JsonNode job(String jobId) {
        var reply = cluster.get("/jobs/" + jobId);
        assertEquals(200, reply.status(), reply.toString());
        return reply.json();
    }

    @Test
    void aPausedWorkerIsDownAfterTheTtlAndAliveAgainWithItsJobsRealStates() throws Exception {
        start(1);
        String worker = cluster.workerId(0);
        String finished = cluster.startJob(worker, "bash", "short.sh");
        assertEquals("SUCCEEDED", cluster.awaitDone(finished).get("state").asText());
        String running = cluster.startJob(worker, "bash", "long.sh");

        cluster.pauseWorker(0);
        try {
            cluster.awaitWorkerState(worker, "down", TTL.multipliedBy(5));
            assertEquals("LOST", job(running).get("state").asText());
            assertEquals("worker lost", job(finished).get("error_text").asText());
            cluster.get("/jobs/" + running + "/output?follow=false").assertError(503);
            cluster.post("/start", object("worker_id", worker, "command", "true")).assertError(503);
        } finally {
            cluster.resumeWorker(0);
        }

        cluster.awaitWorkerState(worker, "alive", TTL.multipliedBy(5));
        assertEquals("RUNNING", job(running).get("state").asText());
        assertEquals("SUCCEEDED", job(finished).get("state").asText());
        assertEquals(worker, cluster.workerId(0), "the worker kept its id");
    }

    @Test
    void aSchedulerKilledAndRestartedGetsEveryWorkerBackWithTheSameIdsAndAnswersEveryOldJob() throws Exception {
        start(2);
        List<String> workers = List.of(cluster.workerId(0), cluster.workerId(1));
        List<String> finished = new ArrayList<>();
        List<String> running = new ArrayList<>();
        for (String worker : workers) {
            String done = cluster.startJob(worker, "bash", "short.sh");
            cluster.awaitDone(done);
            finished.add(done);
            running.add(cluster.startJob(worker, "bash", "long.sh"));
        }

        cluster.killScheduler();
        cluster.restartScheduler();

        // Workers notice within a TTL, re-register with their ids, and the job index is rebuilt.
        Cluster.await("every old job id to answer again", TTL.multipliedBy(3).plusSeconds(5), () ->
                finished.stream().allMatch(id -> cluster.get("/jobs/" + id).status() == 200)
                        && running.stream().allMatch(id -> cluster.get("/jobs/" + id).status() == 200));
        assertEquals(workers, List.of(cluster.workerId(0), cluster.workerId(1)), "same ids after the restart");
        for (String id : finished) {
            assertEquals("SUCCEEDED", job(id).get("state").asText());
            assertEquals("hello\n", cluster.get("/jobs/" + id + "/output").text());
        }
        for (String id : running) {
            assertEquals("RUNNING", job(id).get("state").asText());
        }
        assertEquals(4, runs(), "no job was started twice");
        var listed = cluster.get("/jobs").json().get("jobs");
        assertEquals(4, listed.size(), listed.toString());
    }

    @Test
    void aWorkerKilledAndRestartedKeepsItsIdAndRecordsLeavesNothingRunningAndNeverRerunsAJob() throws Exception {
        start(1);
        String worker = cluster.workerId(0);
        String finished = cluster.startJob(worker, "bash", "short.sh");
        cluster.awaitDone(finished);
        String running = cluster.startJob(worker, "bash", "long.sh");
        Cluster.await("the long job's process", Duration.ofSeconds(20), () -> !Processes.withMarker(marker).isEmpty());
        // Its line is in the pipe by now, but a SIGKILL loses what the worker has not read yet: the
        // output that must stay readable is what the worker had kept.
        Cluster.await("the long job's output kept", Duration.ofSeconds(20),
                () -> cluster.get("/jobs/" + running + "/output?follow=false").text().equals("started\n"));

        cluster.killWorker(0);
        // SIGKILL leaves the job's processes behind, orphaned: the restarted worker must end them.
        assertFalse(Processes.withMarker(marker).isEmpty(), "the orphaned job is still running before the restart");
        cluster.restartWorker(0);

        cluster.awaitWorkerState(worker, "alive", Duration.ofSeconds(60));
        assertEquals(worker, cluster.workerId(0), "the worker kept its id");
        JsonNode before = job(finished);
        assertEquals("SUCCEEDED", before.get("state").asText());
        assertEquals("hello\n", cluster.get("/jobs/" + finished + "/output").text());
        JsonNode interrupted = job(running);
        assertEquals("FAILED", interrupted.get("state").asText());
        assertTrue(interrupted.get("error_text").asText().contains("worker restarted"), interrupted.toString());
        assertEquals("started\n", cluster.get("/jobs/" + running + "/output").text(), "its output stays readable");
        assertTrue(Processes.withMarker(marker).isEmpty(), "left running: " + Processes.withMarker(marker));
        assertEquals(2, runs(), "no job ran again");
    }

    @Test
    void hundredsOfConcurrentRequestsRaiseNoFalseDown() throws Exception {
        start(2);
        List<String> workers = List.of(cluster.workerId(0), cluster.workerId(1));
        String running = cluster.startJob(workers.get(0), "bash", "long.sh");
        // Several TTLs of 400 concurrent clients querying, listing and starting short jobs.
        long until = System.nanoTime() + TTL.multipliedBy(3).toNanos();
        List<Future<Integer>> results = new ArrayList<>();
        try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 400; i++) {
                int client = i;
                results.add(clients.submit(() -> {
                    int requests = 0;
                    while (System.nanoTime() < until) {
                        var reply = switch (client % 4) {
                            case 0 -> cluster.post("/query", object("job_id", running));
                            case 1 -> cluster.get("/workers");
                            case 2 -> cluster.get("/jobs?limit=10");
                            default -> cluster.post("/start", object("worker_id", workers.get(client % 2),
                                    "command", "true"));
                        };
                        assertTrue(reply.status() == 200 || reply.status() == 201, reply.toString());
                        requests++;
                    }
                    return requests;
                }));
            }
            int total = 0;
            for (Future<Integer> result : results) {
                total += result.get(120, TimeUnit.SECONDS);
            }
            assertTrue(total >= 400, "every client made requests: " + total);
        }
        for (String worker : workers) {
            assertEquals("alive", cluster.workerState(worker));
        }
        assertFalse(cluster.schedulerLog().contains(" is down"), "a false down:\n" + cluster.schedulerLog());
        assertEquals("RUNNING", job(running).get("state").asText());
    }
}
