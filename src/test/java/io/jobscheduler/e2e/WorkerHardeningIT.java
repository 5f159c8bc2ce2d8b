package io.jobscheduler.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.jobscheduler.Tmpfs;
import io.jobscheduler.grpc.StartJobReq;
import io.jobscheduler.grpc.WorkerGrpc;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.io.TempDir;

import static io.jobscheduler.e2e.Cluster.object;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Faults of and on a worker, on the packaged jar (issue 9, worker side): long status messages,
 * error texts, a full disk, exhausted descriptors, a worker that leaves, a worker that dies.
 * Worker 0 stays up for the whole class; each fault gets a worker of its own.
 */
class WorkerHardeningIT {
    @TempDir
    static Path dir;
    static Cluster cluster;
    static String steady;
    final String marker = Processes.marker();

    @RegisterExtension
    final TestWatcher logs = Cluster.logsOnFailure(() -> cluster);

    @BeforeAll
    static void startCluster() {
        cluster = Cluster.start(dir, 1, Map.of(), Map.of("JOBSCHEDULER_JOBS_STOP_GRACE", "1s"));
        steady = cluster.workerId(0);
    }

    @AfterEach
    void endOrphans() {
        Processes.kill(marker);
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    /** The worker at {@code index} still starts a job and streams its whole output. */
    private static void startsAndStreams(int index) {
        String worker = cluster.workerId(index);
        String job = cluster.startJob(worker, "echo", "still serving");
        assertEquals("still serving\n", cluster.get("/jobs/" + job + "/output").text());
        assertEquals("SUCCEEDED", cluster.awaitDone(job).get("state").asText());
    }

    private static String error(Cluster.Reply reply, int status) {
        return reply.assertError(status).get("error").asText();
    }

    // --- 1: no status message can hang the worker's HTTP/2 writer ---

    @Test
    void statusMessagesOfAnyLengthComeBackBoundedAndTheWorkerKeepsServing() throws Exception {
        ManagedChannel channel = Grpc.newChannelBuilder("127.0.0.1:" + cluster.workerPort(0),
                InsecureChannelCredentials.create()).build();
        try {
            for (int length : new int[] {5_000, 100_000}) {
                StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> WorkerGrpc
                        .newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                        .startJob(StartJobReq.newBuilder().setCommand("c".repeat(length)).build()));
                assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode(), e.getStatus().toString());
                assertEquals("cannot start " + "c".repeat(200) + "… (" + length + " characters): file name too long"
                        + " (ENAMETOOLONG)", e.getStatus().getDescription());
            }
            StatusRuntimeException tooLong = assertThrows(StatusRuntimeException.class, () -> WorkerGrpc
                    .newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .startJob(StartJobReq.newBuilder().setCommand("echo").setPath("a".repeat(200_000)).build()));
            // Over the kernel's bound on one argument: refused before the spawn, naming it (README, "Jobs").
            assertEquals(Status.Code.INVALID_ARGUMENT, tooLong.getStatus().getCode());
            assertEquals("path: 200000 bytes, at most 131071", tooLong.getStatus().getDescription());
        } finally {
            channel.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
        // Through the API, a command just under its length limit is a clear 422, not a 503 or a hang.
        String refused = error(cluster.post("/start", object("worker_id", steady, "command", "d".repeat(4_000))), 422);
        assertEquals("worker " + steady + " cannot start the command: cannot start " + "d".repeat(200)
                + "… (4000 characters): file name too long (ENAMETOOLONG)", refused);
        startsAndStreams(0);
    }

    // --- 6: error texts in the user's words ---

    @Test
    void errorsNameTheProblemInWordsAndNonAsciiSurvives() throws Exception {
        assertEquals("worker " + steady + " cannot start the command: command not found: échø (ENOENT)",
                error(cluster.post("/start", object("worker_id", steady, "command", "échø")), 422));
        Files.writeString(cluster.workDir().resolve("plain-" + marker), "not a folder");
        assertEquals("worker " + steady + " cannot start the command: cannot start ./plain-" + marker
                        + "/run: not a directory (ENOTDIR)",
                error(cluster.post("/start", object("worker_id", steady, "command", "./plain-" + marker + "/run")), 422));
        assertEquals("unknown job 'no-such-job'",
                error(cluster.post("/query", object("job_id", "no-such-job", "worker_id", steady)), 404));
        assertEquals("unknown job 'no-such-job'",
                error(cluster.get("/jobs/no-such-job/output?worker_id=" + steady), 404));
        assertEquals("unknown job 'no-such-job'",
                error(cluster.post("/stop", object("job_id", "no-such-job", "worker_id", steady)), 404));
    }

    // --- 7: a full disk is not success ---

    private static final Pattern CUT = Pattern.compile(
            "output was cut at byte (\\d+): the worker's disk is full, no space left on device \\(ENOSPC\\)");

    @Test
    void aJobWhoseOutputDoesNotFitFailsAndIsKilledAndTheWorkerKeepsServing() throws Exception {
        try (Tmpfs disk = Tmpfs.mount(dir.resolve("small-disk"), 20)) {
            int index = cluster.addWorker("worker-small-disk", Map.of("JOBSCHEDULER_JOBS_DATA_DIR", disk.dir().toString()));
            String worker = cluster.workerId(index);
            try {
                Files.writeString(cluster.workDir().resolve("flood-" + marker + ".sh"),
                        "head -c 50000000 /dev/zero\nexec -a " + marker + "-sleep sleep 1000\n");
                String job = cluster.startJob(worker, "bash", "flood-" + marker + ".sh");

                // The follower's body is aborted, never a clean end.
                HttpResponse<InputStream> follow = cluster.http().send(HttpRequest.newBuilder(
                        cluster.uri("/jobs/" + job + "/output")).build(), HttpResponse.BodyHandlers.ofInputStream());
                assertEquals(200, follow.statusCode());
                long received = 0;
                IOException aborted = null;
                try (InputStream body = follow.body()) {
                    byte[] buffer = new byte[1 << 16];
                    for (int n = body.read(buffer); n >= 0; n = body.read(buffer)) {
                        received += n;
                    }
                } catch (IOException e) {
                    aborted = e;
                }
                assertNotNull(aborted, "the follow ended cleanly after " + received + " bytes");

                JsonNode ended = cluster.awaitDone(job);
                assertEquals("FAILED", ended.get("state").asText(), ended.toString());
                Matcher cut = CUT.matcher(ended.get("error_text").asText());
                assertTrue(cut.matches(), ended.toString());
                long at = Long.parseLong(cut.group(1));
                assertTrue(at > 0 && at <= 20 << 20, ended.toString());
                // An aborted connection may lose its last bytes in flight; the body is never longer.
                assertTrue(received <= at, received + " bytes followed, " + at + " stored");
                assertEquals(at, Files.size(disk.dir().resolve("jobs").resolve(job).resolve("output")));
                // Any later read to the end of the cut output is aborted too, never a clean end.
                assertThrows(java.io.UncheckedIOException.class, () -> cluster.get("/jobs/" + job + "/output?follow=false"));
                assertEquals(List.of(), Processes.withMarker(marker), "the job's process group was killed");

                // The disk is full: a start cannot store its record: 503 with Retry-After, no folder left.
                Cluster.Reply refused = cluster.post("/start", object("worker_id", worker, "command", "true"));
                String message = error(refused, 503);
                assertEquals("worker " + worker + " cannot take the request now, retry later: the worker is out of"
                        + " disk space: cannot store the job's record in data_dir (the job was killed):"
                        + " no space left on device (ENOSPC)", message);
                assertEquals("5", refused.response().headers().firstValue("Retry-After").orElse(null));
                Cluster.await("only the failed job's folder in data_dir", Duration.ofSeconds(20),
                        () -> folders(disk.dir().resolve("jobs")).equals(List.of(job)));

                disk.resize(100);
                startsAndStreams(index);
            } finally {
                cluster.sigterm(index);
                cluster.workerProcess(index).waitFor(60, TimeUnit.SECONDS);
            }
        }
    }

    private static List<String> folders(Path jobs) {
        try (var entries = Files.list(jobs)) {
            return entries.map(p -> p.getFileName().toString()).toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    // --- 8: exhaustion is the worker's condition ---

    @Test
    void aWorkerOutOfDescriptorsAnswers503WithRetryAfterAndRecovers() throws Exception {
        int index = cluster.addWorker("worker-few-fds", Map.of());
        String worker = cluster.workerId(index);
        try {
            cluster.limitOpenFiles(index, 400);
            Files.writeString(cluster.workDir().resolve("idle-" + marker + ".sh"),
                    "exec -a " + marker + "-sleep sleep 1000\n");
            List<String> running = new ArrayList<>();
            Cluster.Reply refused = null;
            for (int i = 0; i < 400 && refused == null; i++) {
                Cluster.Reply reply = cluster.post("/start", object("worker_id", worker, "command", "bash",
                        "path", "idle-" + marker + ".sh"));
                if (reply.status() == 201) {
                    running.add(reply.json().get("job_id").asText());
                } else {
                    refused = reply;
                }
            }
            assertTrue(refused != null, "400 descriptors held " + running.size() + " jobs");
            assertTrue(running.size() >= 50, "only " + running.size() + " jobs before exhaustion: " + refused);
            String message = error(refused, 503);
            assertTrue(message.startsWith("worker " + worker + " cannot take the request now, retry later: "
                    + "the worker is out of file descriptors: "), message);
            // The worker keeps a reserve of descriptors for itself (README, "Limits"): it refuses
            // before the kernel would (EMFILE), so its own sockets and files never run out.
            assertTrue(message.endsWith("are kept for the worker itself; try again when jobs have ended"), message);
            assertEquals("5", refused.response().headers().firstValue("Retry-After").orElse(null));

            for (String job : running) {
                assertEquals(200, cluster.post("/stop", object("job_id", job)).status());
            }
            startsAndStreams(index);
        } finally {
            cluster.sigterm(index);
            cluster.workerProcess(index).waitFor(60, TimeUnit.SECONDS);
        }
    }

    // --- 14 and 13: a worker that leaves keeps its jobs' final states; a dead one keeps started_at ---

    @Test
    void aWorkerThatShutsDownCleanlyLeavesItsJobsFinalStates() throws Exception {
        int index = cluster.addWorker("worker-leaving", Map.of());
        String worker = cluster.workerId(index);
        Files.writeString(cluster.workDir().resolve("long-" + marker + ".sh"),
                "echo started\nexec -a " + marker + "-sleep sleep 1000\n");
        String done = cluster.startJob(worker, "true", "");
        JsonNode succeeded = cluster.awaitDone(done);
        String running = cluster.startJob(worker, "bash", "long-" + marker + ".sh");
        String startedAt = cluster.get("/jobs/" + running).json().get("started_at").asText();
        Cluster.await("the job's process", Duration.ofSeconds(20), () -> !Processes.withMarker(marker).isEmpty());

        cluster.sigterm(index);
        assertTrue(cluster.workerProcess(index).waitFor(60, TimeUnit.SECONDS), "the worker did not exit on SIGTERM");
        assertEquals(null, cluster.workerState(worker), "the worker left the list");

        JsonNode stopped = cluster.get("/jobs/" + running).json();
        assertEquals("STOPPED", stopped.get("state").asText(), stopped.toString());
        assertEquals("stopped", stopped.get("error_text").asText());
        assertEquals(startedAt, stopped.get("started_at").asText());
        assertTrue(!stopped.get("finished_at").isNull(), stopped.toString());
        assertEquals(stopped, cluster.post("/query", object("job_id", running)).json());
        assertEquals(stopped, cluster.post("/query", object("job_id", running, "worker_id", worker)).json());
        assertEquals(succeeded, cluster.get("/jobs/" + done).json());
        String left = error(cluster.get("/jobs/" + running + "/output?follow=false"), 503);
        assertTrue(left.startsWith("worker '" + worker + "' has left the cluster"), left);
        error(cluster.post("/stop", object("job_id", running)), 503);
        for (JsonNode job : cluster.get("/jobs").json().get("jobs")) {
            if (job.get("job_id").asText().equals(running)) {
                assertEquals("STOPPED", job.get("state").asText());
            }
        }
    }

    @Test
    void aLostJobKeepsItsRealStartTime() throws Exception {
        int index = cluster.addWorker("worker-dying", Map.of());
        String worker = cluster.workerId(index);
        Files.writeString(cluster.workDir().resolve("long-" + marker + ".sh"),
                "exec -a " + marker + "-sleep sleep 1000\n");
        String job = cluster.startJob(worker, "bash", "long-" + marker + ".sh");
        JsonNode running = cluster.get("/jobs/" + job).json();
        assertEquals("RUNNING", running.get("state").asText());

        cluster.killWorker(index);
        cluster.awaitWorkerState(worker, "down", Duration.ofSeconds(10));
        JsonNode lost = cluster.get("/jobs/" + job).json();
        assertEquals("LOST", lost.get("state").asText(), lost.toString());
        assertEquals(running.get("started_at"), lost.get("started_at"));
        assertEquals(lost, cluster.post("/query", object("job_id", job, "worker_id", worker)).json());
    }
}
