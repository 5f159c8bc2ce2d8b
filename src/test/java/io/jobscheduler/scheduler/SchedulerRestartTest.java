package io.jobscheduler.scheduler;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jobscheduler.config.SchedulerSettings;
import io.jobscheduler.config.WorkerCapacity;
import io.jobscheduler.grpc.StartJobReq;
import io.jobscheduler.grpc.WorkerGrpc;
import io.jobscheduler.scheduler.store.JournalStore;
import io.jobscheduler.scheduler.store.SchedulerStore;
import io.jobscheduler.scheduler.store.StoreRecord;
import io.jobscheduler.worker.TestWorkers;
import io.jobscheduler.worker.WorkerServer;
import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What survives a scheduler restart (docs/architecture.md, "Placement and the queue"): the queue,
 * in order, and dispatches recorded but not answered, repeated with the same job id so that a job
 * runs exactly once. The scheduler restarts on the same ports and data folder; its worker runs on.
 */
class SchedulerRestartTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(60);
    private final HttpClient http = HttpClient.newHttpClient();

    @TempDir
    Path work;
    @TempDir
    Path data;

    private final int grpcPort = freePort();
    private final int httpPort = freePort();

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private SchedulerSettings settings() {
        return TestServers.settings(Optional.empty(), "127.0.0.1:" + httpPort, "127.0.0.1:" + grpcPort)
                .withStoreDir(Optional.of(data.resolve("scheduler")));
    }

    private WorkerServer worker(int maxRunning) {
        return WorkerServer.start(TestWorkers.settings(grpcPort, work, data.resolve("worker"))
                .withCapacity(new WorkerCapacity(maxRunning, Map.of())));
    }

    private HttpResponse<String> post(String path, String body) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path)).timeout(WAIT)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path)).timeout(WAIT)
                .GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private String state(String jobId) {
        try {
            return JSON.readTree(post("/query", "{\"job_id\":\"" + jobId + "\"}").body()).path("state").asText();
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, what + " not reached within " + WAIT.toSeconds() + " s");
            Thread.sleep(20);
        }
    }

    private static String append(String name) {
        return "\"command\":\"sh\",\"args\":[\"-c\",\"echo " + name + " >> ran.txt\"]";
    }

    /**
     * The worker's id, once the worker and the scheduler agree on it: the scheduler lists it alive
     * at the worker's address (a port is reused between tests), and the worker has saved it. A
     * registration whose answer the worker never got (its call timed out on a loaded machine) is
     * retried and replaced under a new id, so the scheduler's first record alone is not the id.
     */
    private String workerId(SchedulerServer scheduler, WorkerServer worker) throws InterruptedException {
        String address = "127.0.0.1:" + worker.port();
        Path saved = data.resolve("worker").resolve("worker-id");
        String[] agreed = new String[1];
        await("the worker registered", () -> {
            String own;
            try {
                own = Files.exists(saved) ? Files.readString(saved).strip() : "";
            } catch (IOException e) {
                return false;
            }
            agreed[0] = own;
            return !own.isEmpty() && scheduler.registry().overview().stream()
                    .anyMatch(w -> w.worker().address().toString().equals(address)
                            && w.worker().id().toString().equals(own)
                            && w.health().state() == WorkerRegistry.State.ALIVE);
        });
        return agreed[0];
    }

    @Test
    void theQueueSurvivesARestartAndIsDispatchedInOrderEachJobOnce() throws Exception {
        List<String> queued = new ArrayList<>();
        String[] names = {"low", "high", "mid"};
        int[] priorities = {0, 9, 4};
        try (WorkerServer worker = worker(1)) {
            String blocker;
            try (SchedulerServer scheduler = SchedulerServer.start(settings())) {
                workerId(scheduler, worker);
                HttpResponse<String> started = post("/start",
                        "{\"command\":\"sh\",\"args\":[\"-c\",\"while [ ! -f go ]; do sleep 0.02; done\"]}");
                assertEquals(201, started.statusCode(), started.body());
                blocker = JSON.readTree(started.body()).get("job_id").asText();
                for (int i = 0; i < names.length; i++) {
                    HttpResponse<String> accepted = post("/start", "{" + append(names[i]) + ",\"priority\":"
                            + priorities[i] + "}");
                    assertEquals(202, accepted.statusCode(), accepted.body());
                    queued.add(JSON.readTree(accepted.body()).get("job_id").asText());
                }
            }
            try (SchedulerServer scheduler = SchedulerServer.start(settings())) {
                JsonNode listed = JSON.readTree(get("/jobs?state=QUEUED").body());
                assertEquals(List.of(queued.get(1), queued.get(2), queued.get(0)),
                        listed.get("jobs").findValuesAsText("job_id"), "the queue, in order, after the restart");
                workerId(scheduler, worker);
                Files.writeString(work.resolve("go"), "");
                for (String id : queued) {
                    await("job " + id + " ran", () -> state(id).equals("SUCCEEDED"));
                }
                await("the blocker ended", () -> state(blocker).equals("SUCCEEDED"));
            }
        }
        assertEquals(List.of("high", "mid", "low"), Files.readAllLines(work.resolve("ran.txt")), "each ran once, in order");
    }

    /** A restart that finds a dispatch recorded and never answered: the same start goes to the same worker. */
    private void restartWithARecordedDispatch(boolean alreadyOnTheWorker) throws Exception {
        try (WorkerServer worker = worker(0)) {
            String workerId;
            try (SchedulerServer scheduler = SchedulerServer.start(settings())) {
                workerId = workerId(scheduler, worker);
            }
            String jobId = UUID.randomUUID().toString();
            StoreRecord.Start start = new StoreRecord.Start("sh", "", List.of("-c", "echo once >> ran.txt"), Map.of(), 0, "", Map.of());
            try (JournalStore journal = new JournalStore(data.resolve("scheduler"))) {
                journal.load();
                journal.append(new StoreRecord.Queued(jobId, start, Map.of(), "", 0, 0, 0, null));
                journal.append(new StoreRecord.Dispatching(jobId, workerId, null, null)).await();
            }
            if (alreadyOnTheWorker) {
                // The crash came after the worker got the start and before its answer was recorded.
                var channel = TestWorkers.channel(worker.port());
                try {
                    WorkerGrpc.newBlockingStub(channel).startJob(StartJobReq.newBuilder().setCommand("sh")
                            .addArgs("-c").addArgs("echo once >> ran.txt").setJobId(jobId).build());
                } finally {
                    TestWorkers.close(channel);
                }
                await("the job ran", () -> Files.exists(work.resolve("ran.txt")));
            }
            try (SchedulerServer scheduler = SchedulerServer.start(settings())) {
                assertEquals("QUEUED", state(jobId), "held until its worker is back");
                await("the job " + jobId + " succeeded", () -> state(jobId).equals("SUCCEEDED"));
                assertEquals(workerId, JSON.readTree(post("/query", "{\"job_id\":\"" + jobId + "\"}").body())
                        .get("worker_id").asText());
            }
        }
        assertEquals(List.of("once"), Files.readAllLines(work.resolve("ran.txt")), "the job ran exactly once");
    }

    @Test
    void aDispatchRecordedButNeverSentIsSentOnceTheWorkerIsBack() throws Exception {
        restartWithARecordedDispatch(false);
    }

    @Test
    void aDispatchTheWorkerGotBeforeTheCrashIsNotRunTwice() throws Exception {
        restartWithARecordedDispatch(true);
    }

    @Test
    void anIdempotentRetryAfterARestartAnswersTheSameJob() throws Exception {
        String body = "{" + append("idem") + "}";
        String first;
        try (WorkerServer worker = worker(0)) {
            try (SchedulerServer scheduler = SchedulerServer.start(settings())) {
                workerId(scheduler, worker);
                HttpResponse<String> started = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort
                        + "/start")).header("Idempotency-Key", "restart-1").POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(201, started.statusCode(), started.body());
                first = JSON.readTree(started.body()).get("job_id").asText();
            }
            try (SchedulerServer scheduler = SchedulerServer.start(settings())) {
                workerId(scheduler, worker);
                HttpResponse<String> again = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort
                        + "/start")).header("Idempotency-Key", "restart-1").POST(HttpRequest.BodyPublishers.ofString(body))
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, again.statusCode(), again.body());
                assertEquals(first, JSON.readTree(again.body()).get("job_id").asText());
                await("the job succeeded", () -> state(first).equals("SUCCEEDED"));
            }
        }
        assertEquals(List.of("idem"), Files.readAllLines(work.resolve("ran.txt")));
    }

    private JsonNode query(String jobId) {
        try {
            return JSON.readTree(post("/query", "{\"job_id\":\"" + jobId + "\"}").body());
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private static final String BLOCKER = "{\"command\":\"sh\",\"args\":[\"-c\",\"while [ ! -f go ]; do sleep 0.02; done\"]}";

    @Test
    void jobsThatEndedBeforeTheyRanAnswerTheirEndAfterARestartAndACompaction() throws Exception {
        Path journal = data.resolve("scheduler").resolve("journal");
        String stopped;
        String failed;
        String failure;
        try (WorkerServer worker = worker(1)) {
            try (SchedulerServer scheduler = SchedulerServer.start(settings())) {
                workerId(scheduler, worker);
                assertEquals(201, post("/start", BLOCKER).statusCode());
                stopped = JSON.readTree(post("/start", "{" + append("stopped") + "}").body()).get("job_id").asText();
                HttpResponse<String> refused = post("/start", "{\"command\":\"no-such-command-anywhere\"}");
                assertEquals(202, refused.statusCode(), refused.body());
                failed = JSON.readTree(refused.body()).get("job_id").asText();
                assertEquals(200, post("/stop", "{\"job_id\":\"" + stopped + "\"}").statusCode());
                Files.writeString(work.resolve("go"), "");
                await("the queued job refused by its worker", () -> state(failed).equals("FAILED"));
                failure = query(failed).get("error_text").asText();
            }
            Files.delete(work.resolve("go"));
            // Records that are not live (requeues of jobs long gone) make the next change compact the journal.
            try (JournalStore store = new JournalStore(data.resolve("scheduler"))) {
                store.load();
                SchedulerStore.Commit last = SchedulerStore.Commit.DONE;
                for (int i = 0; i < 12_000; i++) {
                    last = store.append(new StoreRecord.Requeued("gone-" + i, ""));
                }
                last.await();
            }
            long before = Files.size(journal);
            try (SchedulerServer scheduler = SchedulerServer.start(settings())) {
                assertEquals("STOPPED", state(stopped), "a job stopped while queued, after a restart");
                JsonNode refused = query(failed);
                assertEquals("FAILED", refused.get("state").asText(), refused.toString());
                assertEquals(failure, refused.get("error_text").asText());
                assertTrue(JSON.readTree(get("/jobs?state=FAILED").body()).get("jobs").findValuesAsText("job_id")
                        .contains(failed), "listed as before the restart");
                assertTrue(JSON.readTree(get("/jobs?state=STOPPED").body()).get("jobs").findValuesAsText("job_id")
                        .contains(stopped), "a job stopped while queued is listed after a restart too");
                workerId(scheduler, worker);
                String blocker = JSON.readTree(post("/start", BLOCKER).body()).get("job_id").asText();
                HttpResponse<String> queued = post("/start", "{" + append("after") + "}");
                assertEquals(202, queued.statusCode(), queued.body());
                String after = JSON.readTree(queued.body()).get("job_id").asText();
                Files.writeString(work.resolve("go"), "");
                await("the queued job ran", () -> state(after).equals("SUCCEEDED"));
                await("the blocker ended", () -> state(blocker).equals("SUCCEEDED"));
            }
            assertTrue(Files.size(journal) < before / 10, "the journal was compacted: " + Files.size(journal)
                    + " bytes, from " + before);
            try (SchedulerServer scheduler = SchedulerServer.start(settings())) {
                assertEquals("STOPPED", state(stopped), "kept by the compaction");
                assertEquals("FAILED", state(failed), "kept by the compaction");
                assertEquals(failure, query(failed).get("error_text").asText());
            }
        }
        assertEquals(List.of("after"), Files.readAllLines(work.resolve("ran.txt")), "the stopped job never ran");
    }
}
