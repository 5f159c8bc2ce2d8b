package io.jobscheduler.scheduler;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jobscheduler.config.SchedulerSettings;
import io.jobscheduler.config.WorkerCapacity;
import io.jobscheduler.grpc.StartJobReq;
import io.jobscheduler.grpc.WorkerGrpc;
import io.jobscheduler.worker.TestWorkers;
import io.jobscheduler.worker.WorkerServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Placement, capacity, the queue and drain through the HTTP API, with a real scheduler and real
 * workers in this JVM running real processes (docs/architecture.md, "Placement and the queue").
 */
class PlacementServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration WAIT = Duration.ofSeconds(60);
    private final HttpClient http = HttpClient.newHttpClient();
    private final List<AutoCloseable> open = new ArrayList<>();

    @TempDir
    Path work;
    @TempDir
    Path data;

    private SchedulerServer scheduler;
    /** The worker {@link #worker} started last. */
    private WorkerServer lastWorker;

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : open.reversed()) {
            c.close();
        }
    }

    private SchedulerServer scheduler(int maxQueued) {
        SchedulerSettings settings = TestServers.plaintext().withMaxQueued(maxQueued);
        scheduler = SchedulerServer.start(settings);
        open.add(scheduler);
        return scheduler;
    }

    /** A worker with its own data folder, registered; answers its id. */
    private String worker(int maxRunning, Map<String, String> labels) throws Exception {
        Path own = Files.createTempDirectory(data, "worker");
        WorkerServer worker = WorkerServer.start(TestWorkers.settings(scheduler.grpcPort(), work, own)
                .withCapacity(new WorkerCapacity(maxRunning, labels)));
        open.add(open.indexOf(scheduler) + 1, worker);   // closed before the scheduler
        lastWorker = worker;
        assertTrue(worker.awaitRegistered(Duration.ofSeconds(30)));
        String address = "127.0.0.1:" + worker.port();
        String id = scheduler.registry().list().stream().filter(w -> w.address().toString().equals(address))
                .findFirst().orElseThrow().id().toString();
        await("worker " + id + " alive", () -> workerBody(id).get("state").asText().equals("alive"));
        return id;
    }

    private HttpResponse<String> post(String path, String body) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(uri(path)).timeout(WAIT)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(uri(path)).timeout(WAIT).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + scheduler.httpPort() + path);
    }

    private JsonNode workerBody(String id) {
        try {
            return JSON.readTree(get("/workers/" + id).body());
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private JsonNode json(HttpResponse<String> response) throws IOException {
        return JSON.readTree(response.body());
    }

    private JsonNode query(String jobId) {
        try {
            return json(post("/query", "{\"job_id\":\"" + jobId + "\"}"));
        } catch (IOException | InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private void awaitState(String jobId, String state) throws InterruptedException {
        await("job " + jobId + " " + state, () -> query(jobId).path("state").asText().equals(state));
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, what + " not reached within " + WAIT.toSeconds() + " s");
            Thread.sleep(10);
        }
    }

    /** A job that runs until the file {@code release} exists in the work folder. */
    private String blockerBody(String release) {
        return "\"command\":\"sh\",\"args\":[\"-c\",\"while [ ! -f " + release + " ]; do sleep 0.02; done\"]";
    }

    /** A job that appends {@code name} to {@code file} in the work folder. */
    private static String appendBody(String file, String name) {
        return "\"command\":\"sh\",\"args\":[\"-c\",\"echo " + name + " >> " + file + "\"]";
    }

    @Test
    void aHundredJobsWithoutAWorkerSpreadEvenlyOverThreeWorkers() throws Exception {
        scheduler(1000);
        List<String> workers = List.of(worker(0, Map.of()), worker(0, Map.of()), worker(0, Map.of()));
        Map<String, Integer> perWorker = new HashMap<>();
        for (int i = 0; i < 100; i++) {
            HttpResponse<String> started = post("/start", "{\"command\":\"true\"}");
            assertEquals(201, started.statusCode(), started.body());
            perWorker.merge(json(started).get("worker_id").asText(), 1, Integer::sum);
        }
        for (String worker : workers) {
            int count = perWorker.getOrDefault(worker, 0);
            // Even is 33.3; within ±20 % of it.
            assertTrue(count >= 27 && count <= 40, "worker " + worker + " got " + count + " of 100: " + perWorker);
        }
    }

    @Test
    void constraintsRouteJobsToTheWorkersWhoseLabelsMeetThemAndAnImpossibleOneIs422() throws Exception {
        scheduler(1000);
        String a = worker(0, Map.of("zone", "a", "disk", "ssd"));
        String b = worker(0, Map.of("zone", "b"));
        JsonNode listed = workerBody(a);
        assertEquals("a", listed.get("labels").get("zone").asText(), listed.toString());
        Map<String, String> constraintsOf = new HashMap<>();
        for (int i = 0; i < 5; i++) {
            JsonNode inA = json(post("/start", "{\"command\":\"true\",\"constraints\":{\"zone\":\"a\"}}"));
            assertEquals(a, inA.get("worker_id").asText());
            JsonNode notInA = json(post("/start", "{\"command\":\"true\",\"constraints\":{\"zone\":\"!a\"}}"));
            assertEquals(b, notInA.get("worker_id").asText());
            JsonNode noSsd = json(post("/start", "{\"command\":\"true\",\"constraints\":{\"disk\":\"!ssd\"}}"));
            assertEquals(b, noSsd.get("worker_id").asText(), "a worker without the label meets a 'not' constraint");
            constraintsOf.put(inA.get("job_id").asText(), "{\"zone\":\"a\"}");
            constraintsOf.put(notInA.get("job_id").asText(), "{\"zone\":\"!a\"}");
            constraintsOf.put(noSsd.get("job_id").asText(), "{\"disk\":\"!ssd\"}");
        }
        JsonNode two = json(post("/start", "{\"command\":\"true\",\"constraints\":{\"zone\":\"a\",\"disk\":\"ssd\"}}"));
        constraintsOf.put(two.get("job_id").asText(), "{\"disk\":\"ssd\",\"zone\":\"a\"}");
        constraintsOf.put(json(post("/start", "{\"command\":\"true\"}")).get("job_id").asText(), "{}");
        // Each entry of GET /jobs carries the constraints its start was placed by (in label order), {} for none.
        Map<String, String> listedConstraints = new HashMap<>();
        json(get("/jobs?limit=1000")).get("jobs").forEach(job ->
                listedConstraints.put(job.get("job_id").asText(), job.get("constraints").toString()));
        assertEquals(constraintsOf, listedConstraints);
        HttpResponse<String> impossible = post("/start", "{\"command\":\"true\",\"constraints\":{\"zone\":\"a\",\"gpu\":\"yes\"}}");
        assertEquals(422, impossible.statusCode(), impossible.body());
        assertEquals("no registered worker meets constraint gpu=yes", json(impossible).get("error").asText());
        HttpResponse<String> malformed = post("/start", "{\"command\":\"true\",\"constraints\":{\"a.b\":\"x\"}}");
        assertEquals(400, malformed.statusCode(), malformed.body());
        assertTrue(json(malformed).get("error").asText().contains("constraints"), malformed.body());
    }

    @Test
    void aWorkerWithMaxRunningTwoNeverRunsMoreThanTwoAndRunsAllTenJobs() throws Exception {
        scheduler(1000);
        String worker = worker(2, Map.of());
        assertEquals(2, workerBody(worker).get("max_running").asInt());
        String marker = UUID.randomUUID().toString();
        Files.writeString(work.resolve("slow.sh"), "echo $1 >> ran-$1.txt\nsleep 0.3\n");
        // A job is its session: a forked child shows its parent's command line until it execs.
        List<String> jobs = new ArrayList<>();
        int queued = 0;
        for (int i = 0; i < 10; i++) {
            HttpResponse<String> started = post("/start", "{\"command\":\"sh\",\"path\":\"slow.sh\",\"args\":[\""
                    + marker + "\"]}");
            assertTrue(started.statusCode() == 201 || started.statusCode() == 202, started.body());
            queued += started.statusCode() == 202 ? 1 : 0;
            jobs.add(json(started).get("job_id").asText());
        }
        assertTrue(queued >= 8, "at most two start at once, the rest wait: " + queued + " queued");
        int most = 0;
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (jobs.stream().anyMatch(id -> !query(id).get("state").asText().equals("SUCCEEDED"))) {
            assertTrue(System.nanoTime() < deadline, "all ten jobs end");
            most = Math.max(most, sessions("slow.sh " + marker));
            assertTrue(most <= 2, most + " processes ran at once on a worker with max_running = 2");
        }
        assertTrue(most >= 1, "the sampling saw the jobs run");
        assertEquals(10, Files.readAllLines(work.resolve("ran-" + marker + ".txt")).size(), "each of the ten ran once");
    }

    /**
     * Sessions (one per job) with a live process whose command line ends with {@code args} (the
     * shell may be named by its path, or behind a pre-exec step), counted with ps.
     */
    private static int sessions(String args) throws IOException, InterruptedException {
        Process ps = new ProcessBuilder("ps", "-eo", "sid=,stat=,args=").start();
        String table = new String(ps.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        ps.waitFor();
        return (int) table.lines().map(line -> line.strip().split("\\s+", 3))
                .filter(row -> row.length == 3 && row[2].endsWith(" " + args) && !row[1].startsWith("Z"))
                .map(row -> row[0]).distinct().count();
    }

    @Test
    void queuedJobsStartByPriorityThenArrivalAndAnswerWhileTheyWait() throws Exception {
        scheduler(1000);
        String worker = worker(1, Map.of());
        HttpResponse<String> blocker = post("/start", "{" + blockerBody("go") + "}");
        assertEquals(201, blocker.statusCode(), blocker.body());
        String[] names = {"low", "high1", "mid", "high2", "none"};
        String[] priorities = {"-1", "5", "1", "5", null};
        String[] constraints = {"", "", ",\"constraints\":{\"zone\":\"!b\"}", "", ""};
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < names.length; i++) {
            HttpResponse<String> queued = post("/start", "{" + appendBody("order.txt", names[i])
                    + (priorities[i] == null ? "" : ",\"priority\":" + priorities[i]) + constraints[i] + "}");
            assertEquals(202, queued.statusCode(), queued.body());
            JsonNode body = json(queued);
            assertEquals("QUEUED", body.get("state").asText());
            assertTrue(body.get("worker_id").isNull(), body.toString());
            ids.add(body.get("job_id").asText());
        }
        JsonNode waiting = query(ids.getFirst());
        assertEquals("QUEUED", waiting.get("state").asText(), waiting.toString());
        assertFalse(waiting.get("done").asBoolean());
        assertTrue(waiting.get("worker_id").isNull());
        JsonNode listed = json(get("/jobs?state=QUEUED"));
        assertEquals(List.of(ids.get(1), ids.get(3), ids.get(2), ids.get(4), ids.get(0)),
                listed.get("jobs").findValuesAsText("job_id"), "the queue, in dispatch order");
        assertEquals(List.of("{}", "{}", "{\"zone\":\"!b\"}", "{}", "{}"),
                listed.get("jobs").findValues("constraints").stream().map(JsonNode::toString).toList(),
                "a queued job's entry carries its constraints");
        HttpResponse<String> noOutputYet = get("/jobs/" + ids.getFirst() + "/output?follow=false");
        assertEquals(200, noOutputYet.statusCode(), noOutputYet.body());
        assertEquals("", noOutputYet.body());

        Files.writeString(work.resolve("go"), "");
        for (String id : ids) {
            awaitState(id, "SUCCEEDED");
            assertEquals(worker, query(id).get("worker_id").asText());
        }
        assertEquals(List.of("high1", "high2", "mid", "none", "low"), Files.readAllLines(work.resolve("order.txt")));
        Map<String, String> listedConstraints = new HashMap<>();
        json(get("/jobs?state=SUCCEEDED&limit=1000")).get("jobs").forEach(job ->
                listedConstraints.put(job.get("job_id").asText(), job.get("constraints").toString()));
        assertEquals("{\"zone\":\"!b\"}", listedConstraints.get(ids.get(2)), "kept once the queued job was sent");
        assertEquals("{}", listedConstraints.get(ids.get(0)));
    }

    @Test
    void followingAQueuedJobsOutputWaitsUntilItStarts() throws Exception {
        scheduler(1000);
        worker(1, Map.of());
        assertEquals(201, post("/start", "{" + blockerBody("go") + "}").statusCode());
        String id = json(post("/start", "{\"command\":\"echo\",\"args\":[\"hello\"]}")).get("job_id").asText();
        var follow = http.sendAsync(HttpRequest.newBuilder(uri("/jobs/" + id + "/output")).timeout(WAIT).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals("QUEUED", query(id).get("state").asText());
        Files.writeString(work.resolve("go"), "");
        HttpResponse<String> output = follow.get();
        assertEquals(200, output.statusCode(), output.body());
        assertEquals("hello\n", output.body());
    }

    @Test
    void aFullQueueIs429WithRetryAfter() throws Exception {
        scheduler(2);
        worker(1, Map.of());
        assertEquals(201, post("/start", "{" + blockerBody("go") + "}").statusCode());
        assertEquals(202, post("/start", "{\"command\":\"true\"}").statusCode());
        assertEquals(202, post("/start", "{\"command\":\"true\"}").statusCode());
        HttpResponse<String> full = post("/start", "{\"command\":\"true\"}");
        assertEquals(429, full.statusCode(), full.body());
        assertTrue(full.headers().firstValue("Retry-After").isPresent(), full.headers().toString());
        assertTrue(json(full).get("error").asText().contains("queue is full"), full.body());
        Files.writeString(work.resolve("go"), "");
    }

    @Test
    void aStoppedQueuedJobEndsStoppedAndNeverRuns() throws Exception {
        scheduler(1000);
        worker(1, Map.of());
        String blocker = json(post("/start", "{" + blockerBody("go") + "}")).get("job_id").asText();
        String stopped = json(post("/start", "{" + appendBody("ran.txt", "stopped") + "}")).get("job_id").asText();
        String after = json(post("/start", "{" + appendBody("ran.txt", "after") + "}")).get("job_id").asText();
        HttpResponse<String> stop = post("/stop", "{\"job_id\":\"" + stopped + "\"}");
        assertEquals(200, stop.statusCode(), stop.body());
        JsonNode state = query(stopped);
        assertEquals("STOPPED", state.get("state").asText(), state.toString());
        assertTrue(state.get("started_at").isNull(), "it never started");
        assertEquals("", get("/jobs/" + stopped + "/output").body(), "no output, and none to follow");

        Files.writeString(work.resolve("go"), "");
        awaitState(blocker, "SUCCEEDED");
        awaitState(after, "SUCCEEDED");
        assertEquals(List.of("after"), Files.readAllLines(work.resolve("ran.txt")));
        assertEquals("STOPPED", query(stopped).get("state").asText());
    }

    @Test
    void aPinnedStartToAFullWorkerWaitsForThatWorker() throws Exception {
        scheduler(1000);
        String full = worker(1, Map.of());
        String other = worker(1, Map.of());
        HttpResponse<String> blocker = post("/start", "{\"worker_id\":\"" + full + "\"," + blockerBody("go") + "}");
        assertEquals(201, blocker.statusCode(), blocker.body());
        HttpResponse<String> pinned = post("/start", "{\"worker_id\":\"" + full + "\",\"command\":\"true\"}");
        assertEquals(202, pinned.statusCode(), pinned.body());
        String id = json(pinned).get("job_id").asText();
        assertEquals(full, json(pinned).get("worker_id").asText(), pinned.body());
        // The other worker has room, and the job still waits for the one named.
        assertEquals(other, json(post("/start", "{\"command\":\"true\"}")).get("worker_id").asText());
        assertEquals("QUEUED", query(id).get("state").asText());
        Files.writeString(work.resolve("go"), "");
        awaitState(id, "SUCCEEDED");
        assertEquals(full, query(id).get("worker_id").asText());
    }

    @Test
    void aDrainedWorkerTakesNoNewJobsUntilResumed() throws Exception {
        scheduler(1000);
        String drained = worker(0, Map.of());
        String other = worker(0, Map.of());
        HttpResponse<String> drain = post("/workers/" + drained + "/drain", "");
        assertEquals(200, drain.statusCode(), drain.body());
        assertTrue(json(drain).get("draining").asBoolean());
        assertTrue(workerBody(drained).get("draining").asBoolean());
        for (int i = 0; i < 10; i++) {
            assertEquals(other, json(post("/start", "{\"command\":\"true\"}")).get("worker_id").asText());
        }
        HttpResponse<String> resume = post("/workers/" + drained + "/resume", "");
        assertEquals(200, resume.statusCode(), resume.body());
        assertFalse(workerBody(drained).get("draining").asBoolean());
        AtomicInteger onDrained = new AtomicInteger();
        for (int i = 0; i < 10; i++) {
            if (json(post("/start", "{\"command\":\"true\"}")).get("worker_id").asText().equals(drained)) {
                onDrained.incrementAndGet();
            }
        }
        assertTrue(onDrained.get() > 0, "a resumed worker takes jobs again");
        assertEquals(404, post("/workers/" + UUID.randomUUID() + "/drain", "").statusCode());
        assertEquals(400, post("/workers/not-a-uuid/drain", "").statusCode());
    }

    @Test
    void aWorkerFilledByJobsTheSchedulerDidNotStartGetsTheNextJobOnceRoomFrees() throws Exception {
        scheduler(1000);
        String worker = worker(1, Map.of());
        // A job the scheduler does not know of fills the worker: its view is stale.
        int port = scheduler.registry().find(UUID.fromString(worker)).orElseThrow().address().port();
        var channel = TestWorkers.channel(port);
        try {
            WorkerGrpc.newBlockingStub(channel).startJob(StartJobReq.newBuilder().setCommand("sh")
                    .addArgs("-c").addArgs("while [ ! -f go ]; do sleep 0.02; done").build());
        } finally {
            TestWorkers.close(channel);
        }
        HttpResponse<String> refused = post("/start", "{\"command\":\"echo\",\"args\":[\"late\"]}");
        assertEquals(202, refused.statusCode(), refused.body());
        String id = json(refused).get("job_id").asText();
        assertEquals("QUEUED", query(id).get("state").asText());
        Files.writeString(work.resolve("go"), "");
        awaitState(id, "SUCCEEDED");
        assertEquals("late\n", get("/jobs/" + id + "/output").body());
    }

    private HttpResponse<String> startWithKey(String key, String body, Duration timeout)
            throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(uri("/start")).timeout(timeout).header("Idempotency-Key", key)
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void aClientThatTimesOutAndRetriesWithItsKeyGetsOneJob() throws Exception {
        scheduler(1000);
        worker(0, Map.of());
        String key = "retry-" + UUID.randomUUID();
        String body = "{" + appendBody("ran.txt", "once") + "}";
        int timedOut = 0;
        // The first attempts give up before any answer can come; the job may or may not be made.
        for (int i = 0; i < 3; i++) {
            try {
                startWithKey(key, body, Duration.ofMillis(1));
            } catch (java.net.http.HttpTimeoutException e) {
                timedOut++;
            }
        }
        HttpResponse<String> answer = null;
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (answer == null || answer.statusCode() == 409) {
            assertTrue(System.nanoTime() < deadline, "the retry is answered");
            answer = startWithKey(key, body, WAIT);
        }
        assertTrue(answer.statusCode() == 200 || answer.statusCode() == 201, answer.body());
        String jobId = json(answer).get("job_id").asText();
        HttpResponse<String> again = startWithKey(key, " { " + appendBody("ran.txt", "once") + " } ", WAIT);
        assertEquals(200, again.statusCode(), again.body());
        JsonNode repeat = json(again);
        assertEquals(jobId, repeat.get("job_id").asText(), "the same request (spaced otherwise) is the same job");
        assertTrue(repeat.has("state"), "with its current state: " + repeat);
        awaitState(jobId, "SUCCEEDED");
        assertEquals(List.of("once"), Files.readAllLines(work.resolve("ran.txt")),
                "one job ran, whatever the " + timedOut + " abandoned attempts did");

        HttpResponse<String> different = startWithKey(key, "{\"command\":\"true\"}", WAIT);
        assertEquals(422, different.statusCode(), different.body());
        assertTrue(json(different).get("error").asText().contains("different request"), different.body());
        HttpResponse<String> tooLong = startWithKey("k".repeat(129), body, WAIT);
        assertEquals(400, tooLong.statusCode(), tooLong.body());
        assertTrue(json(tooLong).get("error").asText().contains("Idempotency-Key"), tooLong.body());
    }

    /** Every page of {@code GET /jobs?<query>} with {@code limit}, walked by its cursors; {@code between} runs after the first. */
    private List<List<String>> walk(String query, int limit, Runnable between) throws Exception {
        List<List<String>> pages = new ArrayList<>();
        String next = null;
        do {
            String path = "/jobs?limit=" + limit + (query.isEmpty() ? "" : "&" + query)
                    + (next == null ? "" : "&next=" + java.net.URLEncoder.encode(next, StandardCharsets.UTF_8));
            HttpResponse<String> page = get(path);
            assertEquals(200, page.statusCode(), page.body());
            pages.add(json(page).get("jobs").findValuesAsText("job_id"));
            next = json(page).get("next").isNull() ? null : json(page).get("next").asText();
            if (pages.size() == 1) {
                between.run();
            }
            assertTrue(pages.size() < 100, "the walk ends: " + pages);
        } while (next != null);
        return pages;
    }

    @Test
    void pagingWalksTheWholeQueueInDispatchOrderThenThePlacedJobsAndFiltersApplyToBoth() throws Exception {
        scheduler(1000);
        String worker = worker(1, Map.of());
        String blocker = json(post("/start", "{" + blockerBody("go") + "}")).get("job_id").asText();
        int[] priorities = {0, 3, 3, -2, 7};
        List<String> ids = new ArrayList<>();
        for (int p : priorities) {
            HttpResponse<String> queued = post("/start", "{" + appendBody("ran.txt", "p" + p) + ",\"priority\":" + p + "}");
            assertEquals(202, queued.statusCode(), queued.body());
            ids.add(json(queued).get("job_id").asText());
        }
        HttpResponse<String> pinned = post("/start", "{\"worker_id\":\"" + worker + "\"," + appendBody("ran.txt", "pinned")
                + ",\"priority\":1}");
        assertEquals(202, pinned.statusCode(), pinned.body());
        String pinnedId = json(pinned).get("job_id").asText();
        List<String> queueOrder = List.of(ids.get(4), ids.get(1), ids.get(2), pinnedId, ids.get(0), ids.get(3));

        assertEquals(List.of(queueOrder.subList(0, 4), List.of(queueOrder.get(4), queueOrder.get(5), blocker)),
                walk("", 4, () -> { }), "the queue in dispatch order across pages, then the placed jobs");
        assertEquals(List.of(queueOrder.subList(0, 2), queueOrder.subList(2, 4), queueOrder.subList(4, 6)),
                walk("state=QUEUED", 2, () -> { }), "a state filter pages the queue, and ends with it");
        assertEquals(List.of(List.of(pinnedId), List.of(blocker)), walk("worker_id=" + worker, 1, () -> { }),
                "a worker filter picks the job pinned to it from the queue");
        assertEquals(List.of(List.of(blocker)), walk("since=1970-01-01T00:00:00Z", 3, () -> { }),
                "a time bound leaves out the queue: its jobs have no start time");
        assertEquals(400, get("/jobs?next=q1_x").statusCode());

        // Jobs leave the queue while a client pages: each is listed still (queued or placed), none is lost.
        List<List<String>> moving = walk("", 2, () -> {
            try {
                Files.writeString(work.resolve("go"), "");
                awaitState(ids.get(4), "SUCCEEDED");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        java.util.Set<String> seen = new java.util.HashSet<>();
        moving.forEach(seen::addAll);
        List<String> all = new ArrayList<>(queueOrder);
        all.add(blocker);
        assertTrue(seen.containsAll(all), "every job listed at least once while the queue drained: " + moving);
        for (String id : all) {
            awaitState(id, "SUCCEEDED");
        }
    }

    @Test
    void aJobPinnedToAWorkerThatLeavesEndsFailedNamingItAndAnotherWorkersJobsRunOn() throws Exception {
        scheduler(1000);
        String leaving = worker(0, Map.of());
        WorkerServer leavingServer = lastWorker;
        String staying = worker(0, Map.of());
        // Draining keeps the job queued for the worker that will leave: it never gets it.
        assertEquals(200, post("/workers/" + leaving + "/drain", "").statusCode());
        HttpResponse<String> pinned = post("/start", "{\"worker_id\":\"" + leaving + "\"," + appendBody("ran.txt", "pinned") + "}");
        assertEquals(202, pinned.statusCode(), pinned.body());
        String id = json(pinned).get("job_id").asText();
        assertEquals("QUEUED", query(id).get("state").asText());

        open.remove(leavingServer);
        leavingServer.close();   // deregisters: it has left the cluster for good
        await("the worker gone from GET /workers", () -> workerBody(leaving).has("error"));
        awaitState(id, "FAILED");
        JsonNode failed = query(id);
        assertTrue(failed.get("error_text").asText().contains(leaving), "the error names the worker that left: " + failed);
        assertEquals(leaving, failed.get("worker_id").asText(), failed.toString());
        assertTrue(failed.get("started_at").isNull(), "it never started");
        assertTrue(json(get("/jobs?state=FAILED")).get("jobs").findValuesAsText("job_id").contains(id),
                "GET /jobs lists it FAILED");
        assertFalse(Files.exists(work.resolve("ran.txt")), "it never ran");
        assertEquals(201, post("/start", "{\"worker_id\":\"" + staying + "\",\"command\":\"true\"}").statusCode(),
                "the other worker takes jobs as before");
    }

    @Test
    void jobsThatEndedBeforeTheyRanAreListedBySubmissionAmongThePlacedJobsAndPagedOnceEach() throws Exception {
        scheduler(1000);
        String worker = worker(1, Map.of());
        String leaving = worker(0, Map.of());
        WorkerServer leavingServer = lastWorker;
        assertEquals(200, post("/workers/" + leaving + "/drain", "").statusCode());   // its pinned job waits for it
        String blocker = json(post("/start", "{\"worker_id\":\"" + worker + "\"," + blockerBody("go") + "}"))
                .get("job_id").asText();
        HttpResponse<String> first = post("/start", "{" + appendBody("ran.txt", "stopped1") + "}");
        assertEquals(202, first.statusCode(), first.body());
        String stopped1 = json(first).get("job_id").asText();
        assertEquals(200, post("/stop", "{\"job_id\":\"" + stopped1 + "\"}").statusCode());
        String failed = json(post("/start", "{\"worker_id\":\"" + leaving + "\"," + appendBody("ran.txt", "failed") + "}"))
                .get("job_id").asText();
        open.remove(leavingServer);
        leavingServer.close();   // deregisters: the job pinned to it ends FAILED
        awaitState(failed, "FAILED");
        String stopped2 = json(post("/start", "{" + appendBody("ran.txt", "stopped2") + "}")).get("job_id").asText();
        assertEquals(200, post("/stop", "{\"job_id\":\"" + stopped2 + "\"}").statusCode());
        HttpResponse<String> queued = post("/start", "{" + appendBody("ran.txt", "ran") + "}");
        assertEquals(202, queued.statusCode(), queued.body());
        String ran = json(queued).get("job_id").asText();
        Files.writeString(work.resolve("go"), "");
        awaitState(blocker, "SUCCEEDED");
        awaitState(ran, "SUCCEEDED");

        // Newest first: the job that ran last started after every submission; the blocker before them.
        List<String> history = List.of(ran, stopped2, failed, stopped1, blocker);
        for (int limit : new int[] {1, 2, 3, 5, 100}) {
            List<List<String>> pages = walk("", limit, () -> { });
            List<String> flat = pages.stream().flatMap(List::stream).toList();
            assertEquals(history, flat, "limit " + limit + ": every job once, in order: " + pages);
            assertTrue(pages.stream().allMatch(p -> p.size() == Math.min(limit, history.size()) || p == pages.getLast()),
                    "full pages but the last: " + pages);
        }
        assertEquals(List.of(List.of(stopped2), List.of(stopped1)), walk("state=STOPPED", 1, () -> { }));
        assertEquals(List.of(List.of(failed)), walk("state=FAILED", 1, () -> { }));
        assertEquals(List.of(List.of(failed)), walk("worker_id=" + leaving, 1, () -> { }),
                "a job pinned to a worker is that worker's, even after it left");
        assertEquals(List.of(List.of(ran, blocker)), walk("worker_id=" + worker, 5, () -> { }));
        assertEquals(List.of(List.of(ran), List.of(stopped2), List.of(stopped1), List.of(blocker)),
                walk("state=STOPPED&state=SUCCEEDED", 1, () -> { }));
        assertEquals(List.of(List.of(ran, blocker)), walk("since=1970-01-01T00:00:00Z", 5, () -> { }),
                "a time bound leaves out the jobs that never started");
        JsonNode listed = json(get("/jobs?state=STOPPED&limit=1")).get("jobs").get(0);
        assertEquals("STOPPED", listed.get("state").asText(), listed.toString());
        assertTrue(listed.get("started_at").isNull(), listed.toString());
        assertEquals(List.of("ran"), Files.readAllLines(work.resolve("ran.txt")), "only the one job ran");
    }
}
