package io.jobscheduler.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.io.TempDir;

import static io.jobscheduler.e2e.Cluster.object;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The gateway end to end: the packaged jar as one scheduler and two workers, driven over HTTP.
 * The cluster is shared by the tests of this class; none of them takes a worker down.
 */
class GatewayIT {
    @TempDir
    static Path dir;
    static Cluster cluster;
    static String worker0;
    static String worker1;

    @RegisterExtension
    final TestWatcher logs = Cluster.logsOnFailure(() -> cluster);

    private final ExecutorService readers = Executors.newVirtualThreadPerTaskExecutor();

    @BeforeAll
    static void startCluster() {
        cluster = Cluster.start(dir, 2, Map.of(), Map.of("JOBSCHEDULER_JOBS_STOP_GRACE", "1s"));
        worker0 = cluster.workerId(0);
        worker1 = cluster.workerId(1);
    }

    @AfterEach
    void stopReaders() {
        readers.shutdownNow();
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aJobOnEachWorkerRunsToSuccess() throws IOException {
        script("ok.sh", "echo hello from $PWD\n");
        for (String worker : List.of(worker0, worker1)) {
            String jobId = cluster.startJob(worker, "bash", "ok.sh");
            JsonNode status = cluster.awaitDone(jobId);
            assertEquals(jobId, status.get("job_id").asText());
            assertEquals(worker, status.get("worker_id").asText());
            assertEquals("SUCCEEDED", status.get("state").asText(), status.toString());
            assertFalse(status.get("error").asBoolean(), status.toString());
            assertEquals(0, status.get("exit_code").asInt(), status.toString());
            assertTrue(status.get("signal").isNull(), status.toString());
            assertTrue(status.get("started_at").isTextual() && status.get("finished_at").isTextual(), status.toString());
            // The same status by GET, with and without the worker named.
            assertEquals(status, cluster.get("/jobs/" + jobId).json());
            assertEquals(status, cluster.get("/jobs/" + jobId + "?worker_id=" + worker).json());
            assertEquals(status, cluster.post("/query", object("job_id", jobId, "worker_id", worker)).json());
            assertEquals("hello from " + cluster.workDir() + "\n",
                    cluster.get("/jobs/" + jobId + "/output").text());
        }
    }

    @Test
    void aNonZeroExitIsFailedWithItsExitCode() throws IOException {
        script("exit3.sh", "echo failing >&2\nexit 3\n");
        for (String worker : List.of(worker0, worker1)) {
            JsonNode status = cluster.awaitDone(cluster.startJob(worker, "bash", "exit3.sh"));
            assertEquals("FAILED", status.get("state").asText(), status.toString());
            assertTrue(status.get("done").asBoolean());
            assertTrue(status.get("error").asBoolean());
            assertEquals(3, status.get("exit_code").asInt(), status.toString());
            assertEquals("exit status 3", status.get("error_text").asText());
            assertTrue(status.get("signal").isNull(), status.toString());
        }
    }

    @Test
    void aQueryWhileTheJobRunsSaysRunningWithNullsForWhatIsNotKnownYet() throws IOException {
        String marker = Processes.marker();
        script("wait-" + marker + ".sh", "while [ ! -e go-" + marker + " ]; do sleep 0.05; done\n");
        String jobId = cluster.startJob(worker1, "bash", "wait-" + marker + ".sh");
        JsonNode status = cluster.get("/jobs/" + jobId).json();
        assertEquals("RUNNING", status.get("state").asText(), status.toString());
        assertFalse(status.get("done").asBoolean());
        assertTrue(status.get("exit_code").isNull() && status.get("signal").isNull()
                && status.get("finished_at").isNull(), status.toString());
        Files.createFile(cluster.workDir().resolve("go-" + marker));
        assertEquals("SUCCEEDED", cluster.awaitDone(jobId).get("state").asText());
    }

    @Test
    void stopEndsALongJobAndLeavesNoProcessOfIt() throws IOException {
        String marker = Processes.marker();
        // The script and its child ignore SIGTERM; a grandchild runs in the background.
        script("long-" + marker + ".sh", """
                trap '' TERM
                (trap '' TERM; exec -a %1$s-child sleep 1000) &
                bash -c '(exec -a %1$s-grandchild sleep 1000) & wait' &
                echo started
                wait
                """.formatted(marker));
        String jobId = cluster.startJob(worker0, "bash", "long-" + marker + ".sh");
        Cluster.await("the job's three processes", Duration.ofSeconds(20), () -> Processes.withMarker(marker).size() >= 3);

        var stopped = cluster.post("/stop", object("job_id", jobId));
        assertEquals(200, stopped.status(), stopped.toString());
        assertEquals(object("success", true), stopped.json());

        JsonNode status = cluster.get("/jobs/" + jobId).json();
        assertEquals("STOPPED", status.get("state").asText(), status.toString());
        assertTrue(status.get("done").asBoolean() && status.get("error").asBoolean(), status.toString());
        // SIGKILL reaches the group as the stop returns; allow the kernel a moment to reap.
        Cluster.await("no process of the stopped job", Duration.ofSeconds(5), () -> Processes.withMarker(marker).isEmpty());
        // Stopping an ended job succeeds and changes nothing.
        assertEquals(200, cluster.post("/stop", object("job_id", jobId, "worker_id", worker0)).status());
        assertEquals("STOPPED", cluster.get("/jobs/" + jobId).json().get("state").asText());
    }

    @Test
    void twoClientsFollowingARunningJobReceiveEveryByteTheScriptWrote() throws Exception {
        String marker = Processes.marker();
        script("talk-" + marker + ".sh", """
                {
                  printf 'ready\\n'
                  while [ ! -e go-%1$s ]; do sleep 0.05; done
                  for i in $(seq 1 300); do
                    printf 'line %%d \\xff\\xfe\\x00\\x80 \\xc3\\xa9 \\xed\\xa0\\x80\\n' "$i"
                    if [ $((i %% 50)) -eq 0 ]; then sleep 0.1; fi
                  done
                  head -c 300000 /dev/urandom
                  printf 'the end'
                } | tee written-%1$s.bin
                """.formatted(marker));
        String jobId = cluster.startJob(worker1, "bash", "talk-" + marker + ".sh");

        List<InputStream> streams = new ArrayList<>();
        List<CompletableFuture<byte[]>> bodies = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            InputStream body = follow("/jobs/" + jobId + "/output");
            streams.add(body);
            // Both are attached and have the first line before the rest is written.
            assertArrayEquals("ready\n".getBytes(StandardCharsets.US_ASCII),
                    readers.submit(() -> body.readNBytes(6)).get(30, TimeUnit.SECONDS));
        }
        for (InputStream body : streams) {
            bodies.add(CompletableFuture.supplyAsync(() -> readAll(body), readers));
        }
        Files.createFile(cluster.workDir().resolve("go-" + marker));

        byte[] first = bodies.get(0).get(60, TimeUnit.SECONDS);
        byte[] second = bodies.get(1).get(60, TimeUnit.SECONDS);
        assertEquals("SUCCEEDED", cluster.awaitDone(jobId).get("state").asText());
        byte[] written = Files.readAllBytes(cluster.workDir().resolve("written-" + marker + ".bin"));
        assertTrue(written.length > 300_000, "the script wrote " + written.length + " bytes");
        assertArrayEquals(written, concat("ready\n".getBytes(StandardCharsets.US_ASCII), first));
        assertArrayEquals(written, concat("ready\n".getBytes(StandardCharsets.US_ASCII), second));
    }

    @Test
    void fortyMegabytesOfOutputArriveWhole() throws Exception {
        String marker = Processes.marker();
        long size = 40L << 20;
        script("big-" + marker + ".sh", "head -c " + size + " /dev/urandom | tee big-" + marker + ".bin\n");
        String jobId = cluster.startJob(worker0, "bash", "big-" + marker + ".sh");

        HttpResponse<InputStream> response = cluster.http().send(HttpRequest.newBuilder(
                cluster.uri("/jobs/" + jobId + "/output?follow=true")).build(), HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, response.statusCode());
        assertEquals("application/octet-stream", response.headers().firstValue("Content-Type").orElse(""));
        MessageDigest streamed = sha256();
        long count = 0;
        try (InputStream body = response.body()) {
            byte[] buffer = new byte[1 << 16];
            for (int n = body.read(buffer); n >= 0; n = body.read(buffer)) {
                streamed.update(buffer, 0, n);
                count += n;
            }
        }
        assertEquals("SUCCEEDED", cluster.awaitDone(jobId).get("state").asText());
        Path written = cluster.workDir().resolve("big-" + marker + ".bin");
        assertEquals(size, Files.size(written));
        assertEquals(size, count);
        assertEquals(hex(sha256(Files.readAllBytes(written))), hex(streamed.digest()));
    }

    @Test
    void followFalseAnswersAtOnceWithTheOutputSoFar() throws Exception {
        String marker = Processes.marker();
        script("half-" + marker + ".sh", """
                printf 'first half\\n'
                while [ ! -e go-%1$s ]; do sleep 0.05; done
                printf 'second half\\n'
                """.formatted(marker));
        String jobId = cluster.startJob(worker0, "bash", "half-" + marker + ".sh");
        Cluster.await("the first half", Duration.ofSeconds(20),
                () -> cluster.get("/jobs/" + jobId + "/output?follow=false").text().equals("first half\n"));
        // Still running, and the request did not wait for it.
        assertEquals("RUNNING", cluster.get("/jobs/" + jobId).json().get("state").asText());
        var reply = cluster.get("/jobs/" + jobId + "/output?follow=false&worker_id=" + worker0);
        assertEquals(200, reply.status());
        assertEquals("application/octet-stream", reply.contentType());
        assertEquals("first half\n", reply.text());

        Files.createFile(cluster.workDir().resolve("go-" + marker));
        cluster.awaitDone(jobId);
        assertEquals("first half\nsecond half\n", cluster.get("/jobs/" + jobId + "/output?follow=false").text());
    }

    @Test
    void anOffsetSkipsThatManyBytes() throws IOException {
        script("digits.sh", "printf '0123456789'\n");
        String jobId = cluster.startJob(worker1, "bash", "digits.sh");
        cluster.awaitDone(jobId);
        assertEquals("0123456789", cluster.get("/jobs/" + jobId + "/output?offset=0").text());
        assertEquals("3456789", cluster.get("/jobs/" + jobId + "/output?offset=3").text());
        assertEquals("9", cluster.get("/jobs/" + jobId + "/output?offset=9&follow=false").text());
        var atEnd = cluster.get("/jobs/" + jobId + "/output?offset=10");
        assertEquals(200, atEnd.status());
        assertEquals("", atEnd.text());
    }

    @Test
    void pagingThroughJobsListsEveryJobOnceNewestFirst() {
        List<String> started = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            started.add(cluster.startJob(i % 2 == 0 ? worker0 : worker1, "true", ""));
        }
        List<String> listed = new ArrayList<>();
        String next = null;
        int pages = 0;
        do {
            var reply = cluster.get("/jobs?limit=3" + (next == null ? "" : "&next=" + next));
            assertEquals(200, reply.status(), reply.toString());
            JsonNode page = reply.json();
            assertTrue(page.has("next"), "next is never omitted: " + page);
            assertTrue(page.get("jobs").size() <= 3, page.toString());
            for (JsonNode job : page.get("jobs")) {
                assertTrue(job.get("job_id").isTextual() && job.get("worker_id").isTextual()
                        && job.get("command").isTextual() && job.get("path").isTextual()
                        && job.get("state").isTextual(), job.toString());
                listed.add(job.get("job_id").asText());
            }
            next = page.get("next").isNull() ? null : page.get("next").asText();
            assertTrue(++pages < 1000, "paging does not end");
        } while (next != null);

        Set<String> unique = new LinkedHashSet<>(listed);
        assertEquals(listed.size(), unique.size(), "a job listed twice: " + listed);
        // Newest first: the seven just started lead the list, in reverse order.
        assertEquals(started.reversed(), listed.subList(0, started.size()));
        JsonNode newest = cluster.get("/jobs?limit=1").json().get("jobs").get(0);
        assertEquals(started.getLast(), newest.get("job_id").asText());
        assertEquals("true", newest.get("command").asText());
        assertEquals("", newest.get("path").asText());
        assertEquals(worker0, newest.get("worker_id").asText());
    }

    @Test
    void malformedRequestsAre400() {
        String tooLong = "j".repeat(129);
        cluster.post("/start", "{\"worker_id\": ").assertError(400);
        cluster.post("/start", "[1, 2]").assertError(400);
        cluster.post("/start", object("worker_id", worker0).toString()).assertError(400);
        // Without worker_id the scheduler places the start (api.md, "Placement and the queue").
        assertEquals(201, cluster.post("/start", object("command", "true").toString()).status());
        cluster.post("/start", object("command", "true", "priority", "high").toString()).assertError(400);
        cluster.post("/start", "{\"command\":\"true\",\"constraints\":{\"zone\":5}}").assertError(400);
        cluster.post("/start", object("worker_id", worker0, "command", "").toString()).assertError(400);
        cluster.post("/start", object("worker_id", "not-a-uuid", "command", "true").toString()).assertError(400);
        cluster.post("/query", "{}").assertError(400);
        cluster.post("/query", object("job_id", "x", "worker_id", "not-a-uuid").toString()).assertError(400);
        cluster.post("/query", object("job_id", tooLong).toString()).assertError(400);
        cluster.post("/stop", object("job_id", "").toString()).assertError(400);
        cluster.post("/stop", object("job_id", "x", "worker_id", "42").toString()).assertError(400);
        cluster.get("/jobs/" + tooLong).assertError(400);
        cluster.get("/jobs/x?worker_id=not-a-uuid").assertError(400);
        cluster.get("/workers/not-a-uuid").assertError(400);
        for (String limit : List.of("0", "-1", "1001", "abc", "")) {
            cluster.get("/jobs?limit=" + limit).assertError(400);
        }
        cluster.get("/jobs?next=not-a-cursor").assertError(400);
        String jobId = cluster.startJob(worker0, "true", "");
        for (String offset : List.of("-1", "abc", "1.5")) {
            cluster.get("/jobs/" + jobId + "/output?offset=" + offset).assertError(400);
        }
        cluster.get("/jobs/" + jobId + "/output?follow=maybe").assertError(400);
        cluster.get("/jobs/" + tooLong + "/output").assertError(400);
    }

    @Test
    void unknownWorkersJobsAndRoutesAre404() {
        String unknownWorker = UUID.randomUUID().toString();
        cluster.post("/start", object("worker_id", unknownWorker, "command", "true").toString()).assertError(404);
        cluster.get("/workers/" + unknownWorker).assertError(404);
        cluster.get("/jobs/no-such-job").assertError(404);
        cluster.post("/query", object("job_id", "no-such-job").toString()).assertError(404);
        cluster.post("/stop", object("job_id", "no-such-job").toString()).assertError(404);
        cluster.get("/jobs/no-such-job/output").assertError(404);
        // Asked of the worker itself: its NOT_FOUND is 404 too.
        String unknownJob = UUID.randomUUID().toString();
        cluster.get("/jobs/" + unknownJob + "?worker_id=" + worker1).assertError(404);
        cluster.post("/query", object("job_id", unknownJob, "worker_id", worker1).toString()).assertError(404);
        cluster.post("/stop", object("job_id", unknownJob, "worker_id", worker1).toString()).assertError(404);
        cluster.get("/jobs/" + unknownJob + "/output?worker_id=" + worker1).assertError(404);
        cluster.get("/no/such/route").assertError(404);
        cluster.get("/jobs/x/output/more").assertError(404);
    }

    @Test
    void aWrongMethodIs405() {
        for (var request : List.of(
                HttpRequest.newBuilder(cluster.uri("/start")).GET(),
                HttpRequest.newBuilder(cluster.uri("/query")).DELETE(),
                HttpRequest.newBuilder(cluster.uri("/stop")).PUT(HttpRequest.BodyPublishers.ofString("{}"))
                        .header("Content-Type", "application/json"),
                HttpRequest.newBuilder(cluster.uri("/jobs")).POST(HttpRequest.BodyPublishers.ofString("{}"))
                        .header("Content-Type", "application/json"),
                HttpRequest.newBuilder(cluster.uri("/jobs/x")).DELETE(),
                HttpRequest.newBuilder(cluster.uri("/jobs/x/output")).DELETE(),
                HttpRequest.newBuilder(cluster.uri("/workers")).DELETE())) {
            var reply = cluster.send(request);
            reply.assertError(405);
            assertTrue(reply.response().headers().firstValue("Allow").isPresent(), "405 without Allow: " + reply);
        }
    }

    @Test
    void aBodyThatIsNotJsonIs415() {
        for (String type : List.of("text/plain", "application/x-www-form-urlencoded", "application/xml")) {
            cluster.send(HttpRequest.newBuilder(cluster.uri("/start"))
                    .header("Content-Type", type)
                    .POST(HttpRequest.BodyPublishers.ofString(
                            object("worker_id", worker0, "command", "true").toString()))).assertError(415);
        }
    }

    @Test
    void aCommandThatCannotStartIs422() throws IOException {
        cluster.post("/start", object("worker_id", worker0, "command", "no-such-command-" + Processes.marker()).toString())
                .assertError(422);
        Path notExecutable = script("not-executable.sh", "echo never\n");
        cluster.post("/start", object("worker_id", worker1, "command", notExecutable.toString()).toString())
                .assertError(422);
    }

    @Test
    void aClientLeavingAFollowDoesNotDisturbTheJobOrTheScheduler() throws Exception {
        String marker = Processes.marker();
        script("tick-" + marker + ".sh", """
                i=0
                while [ ! -e go-%1$s ]; do echo "tick $i"; i=$((i + 1)); sleep 0.02; done
                echo done
                """.formatted(marker));
        String jobId = cluster.startJob(worker0, "bash", "tick-" + marker + ".sh");
        for (int i = 0; i < 10; i++) {
            try (Socket socket = new Socket("127.0.0.1", cluster.httpPort())) {
                socket.setSoTimeout(30_000);
                OutputStream out = socket.getOutputStream();
                out.write(("GET /jobs/" + jobId + "/output HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                out.flush();
                InputStream in = socket.getInputStream();
                String head = readHead(in);
                if (!head.startsWith("HTTP/1.1 200")) {
                    throw new AssertionError("follow number " + i + ": " + head
                            + new String(in.readNBytes(contentLength(head)), StandardCharsets.UTF_8));
                }
                assertTrue(in.readNBytes(16).length > 0, "some of the body arrived");
            } // Gone mid-stream, without reading the rest.
        }
        assertEquals("RUNNING", cluster.get("/jobs/" + jobId).json().get("state").asText());
        assertEquals(2, cluster.get("/workers").json().get("workers").size());

        // A new follower still gets the whole output to the end.
        CompletableFuture<byte[]> whole = CompletableFuture.supplyAsync(
                () -> readAll(follow("/jobs/" + jobId + "/output")), readers);
        Files.createFile(cluster.workDir().resolve("go-" + marker));
        String text = new String(whole.get(60, TimeUnit.SECONDS), StandardCharsets.UTF_8);
        assertTrue(text.startsWith("tick 0\n") && text.endsWith("done\n"), text);
        assertEquals("SUCCEEDED", cluster.awaitDone(jobId).get("state").asText());
        JsonNode other = cluster.awaitDone(cluster.startJob(worker1, "true", ""));
        assertEquals("SUCCEEDED", other.get("state").asText());
        assertFalse(cluster.schedulerLog().contains("internal error"), cluster.schedulerLog());
    }

    // --- helpers ---

    private InputStream follow(String path) {
        try {
            HttpResponse<InputStream> response = cluster.http().send(HttpRequest.newBuilder(cluster.uri(path)).build(),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertEquals(200, response.statusCode());
            return response.body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** An HTTP response's status line and headers, read byte by byte up to the blank line. */
    private static String readHead(InputStream in) throws IOException {
        StringBuilder head = new StringBuilder();
        while (!head.toString().endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                throw new IOException("connection closed in the response head: " + head);
            }
            head.append((char) b);
        }
        return head.toString();
    }

    private static int contentLength(String head) {
        for (String line : head.split("\r\n")) {
            if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
                return Integer.parseInt(line.substring("content-length:".length()).trim());
            }
        }
        return 0;
    }

    private static byte[] readAll(InputStream body) {
        try (body) {
            ByteArrayOutputStream all = new ByteArrayOutputStream();
            body.transferTo(all);
            return all.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Path script(String name, String body) throws IOException {
        Path file = cluster.workDir().resolve(name);
        Files.writeString(file, "#!/bin/bash\n" + body);
        return file;
    }

    /** The pids of live processes whose command line contains {@code marker}. */
    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = new byte[a.length + b.length];
        System.arraycopy(a, 0, both, 0, a.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }

    private static MessageDigest sha256() throws NoSuchAlgorithmException {
        return MessageDigest.getInstance("SHA-256");
    }

    private static byte[] sha256(byte[] bytes) throws NoSuchAlgorithmException {
        return sha256().digest(bytes);
    }

    private static String hex(byte[] bytes) {
        return HexFormat.of().formatHex(bytes);
    }
}
