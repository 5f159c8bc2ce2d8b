package io.jobscheduler.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobscheduler.scheduler.http.RawHttp;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static io.jobscheduler.e2e.Cluster.object;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 9's HTTP items end to end, on the packaged jar (one scheduler, one worker): every bad
 * request is a 4xx/5xx with a JSON error naming the problem, nothing reaches the worker that
 * should not, and the worker keeps serving normal jobs.
 */
class HttpHardeningIT {
    private static final String TIME = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z";

    @TempDir
    static Path dir;
    static Cluster cluster;
    static String worker;

    @RegisterExtension
    final TestWatcher logs = Cluster.logsOnFailure(() -> cluster);

    @BeforeAll
    static void startCluster() throws IOException {
        cluster = Cluster.start(dir, 1);
        worker = cluster.workerId(0);
        Files.writeString(cluster.workDir().resolve("count3.sh"), "for i in 1 2 3; do echo $i; done\n");
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    // 1: bounded string fields; the worker never sees an oversize one and keeps working.
    @Test
    void anOversizeCommandOrPathIs400NamingTheFieldAndTheLimitAndTheWorkerKeepsServing() {
        for (int length : List.of(4097, 5000, 100_000)) {
            assertEquals("field 'command' is " + length + " bytes of UTF-8; the limit is 4096",
                    cluster.post("/start", object("worker_id", worker, "command", "a".repeat(length)))
                            .assertError(400).get("error").asText());
            assertEquals("field 'path' is " + length + " bytes of UTF-8; the limit is 4096",
                    cluster.post("/start", object("worker_id", worker, "command", "bash", "path", "p".repeat(length)))
                            .assertError(400).get("error").asText());
        }
        // Counted in bytes: 2,049 two-byte characters are over the limit.
        cluster.post("/start", object("worker_id", worker, "command", "é".repeat(2049))).assertError(400);
        // The whole body is bounded too.
        cluster.post("/start", "{\"worker_id\":\"" + worker + "\",\"command\":\"bash\",\"x\":\"" + "y".repeat(1 << 20) + "\"}")
                .assertError(413);

        assertNormalJobRunsAndStreams();
    }

    // 2: valid JSON of the wrong shape.
    @ParameterizedTest
    @ValueSource(strings = {"/start", "/stop", "/query"})
    void aBodyThatIsNotAnObjectIs400(String route) {
        for (String body : List.of("null", "[]", "\"x\"", "1", "true", "[{}]")) {
            assertEquals("request body must be a JSON object", cluster.post(route, body).assertError(400)
                    .get("error").asText(), route + " " + body);
        }
    }

    @Test
    void nullsAndNestedValuesOfTheWrongShapeAre400NamingTheField() {
        String w = "\"worker_id\":\"" + worker + "\"";
        assertError400("/start", "{" + w + ",\"command\":null}", "field 'command' must be a string, not null");
        // worker_id is optional (the scheduler places the job): null counts as absent, a wrong type is 400.
        assertError400("/start", "{\"worker_id\":5,\"command\":\"true\"}", "field 'worker_id' must be a string");
        assertError400("/start", "{" + w + ",\"command\":{\"a\":null}}", "field 'command' must be a string");
        assertError400("/start", "{" + w + ",\"command\":[null]}", "field 'command' must be a string");
        assertError400("/start", "{" + w + ",\"command\":\"true\",\"path\":[\"x\"]}", "field 'path' must be a string");
        assertError400("/query", "{\"job_id\":null}", "field 'job_id' must be a string, not null");
        assertError400("/stop", "{\"job_id\":{\"x\":[null]}}", "field 'job_id' must be a string");
        assertError400("/query", "{\"job_id\":\"x\",\"worker_id\":5}", "field 'worker_id' must be a string");
    }

    // 4: NUL characters are refused, never cut.
    @Test
    void aNulInCommandOrPathIs400AndStartsNothing() {
        int before = jobCount();
        assertError400("/start", "{\"worker_id\":\"" + worker + "\",\"command\":\"true\\u0000false\"}",
                "field 'command' must not contain NUL characters");
        assertError400("/start", "{\"worker_id\":\"" + worker + "\",\"command\":\"bash\",\"path\":\"count3.sh\\u0000x\"}",
                "field 'path' must not contain NUL characters");
        assertEquals(before, jobCount());
    }

    // 5: duplicate keys and unknown query parameters.
    @Test
    void aDuplicateKeyIs400AndStartsNothing() {
        int before = jobCount();
        assertError400("/start", "{\"worker_id\":\"" + worker + "\",\"command\":\"true\",\"command\":\"false\"}",
                "duplicate field 'command'");
        assertError400("/query", "{\"job_id\":\"a\",\"job_id\":\"b\"}", "duplicate field 'job_id'");
        assertEquals(before, jobCount());
    }

    @Test
    void anUnknownQueryParameterIs400NamingItOnEveryRoute() {
        assertEquals("unknown query parameter 'status'; /jobs takes limit, next, state, worker_id, since, until",
                cluster.get("/jobs?status=RUNNING").assertError(400).get("error").asText());
        for (String path : List.of("/workers?x=1", "/workers/" + worker + "?x=1", "/jobs/j?x=1", "/jobs/j/output?x=1")) {
            assertTrue(cluster.get(path).assertError(400).get("error").asText().startsWith("unknown query parameter 'x'"),
                    path);
        }
        for (String route : List.of("/start", "/stop", "/query")) {
            assertTrue(cluster.post(route + "?x=1", "{}").assertError(400).get("error").asText()
                    .startsWith("unknown query parameter 'x'"), route);
        }
        assertEquals("query parameter 'limit' is given more than once",
                cluster.get("/jobs?limit=1&limit=2").assertError(400).get("error").asText());
        // The documented parameters still work.
        assertEquals(200, cluster.get("/jobs?limit=1").status());
    }

    // 6 (the HTTP part): one wording for an unknown job.
    @Test
    void anUnknownJobReadsTheSameOnEveryRoute() {
        String unknown = "no-such-job";
        List<Cluster.Reply> replies = List.of(
                cluster.post("/query", object("job_id", unknown)),
                cluster.post("/query", object("job_id", unknown, "worker_id", worker)),
                cluster.post("/stop", object("job_id", unknown)),
                cluster.post("/stop", object("job_id", unknown, "worker_id", worker)),
                cluster.get("/jobs/" + unknown),
                cluster.get("/jobs/" + unknown + "?worker_id=" + worker),
                cluster.get("/jobs/" + unknown + "/output"),
                cluster.get("/jobs/" + unknown + "/output?worker_id=" + worker));
        for (Cluster.Reply reply : replies) {
            assertEquals("unknown job 'no-such-job'", reply.assertError(404).get("error").asText());
        }
    }

    // 3: protocol errors, on the packaged jar.
    @Test
    void protocolErrorsAreAnsweredWithAStatusAndJson() throws Exception {
        assertRaw(400, "G@T /workers HTTP/1.1\r\nHost: x\r\n\r\n");
        assertRaw(505, "GET /workers HTTP/9.9\r\nHost: x\r\n\r\n");
        assertRaw(414, "GET /workers?" + "a".repeat(20_000) + " HTTP/1.1\r\nHost: x\r\n\r\n");
        assertRaw(400, "GET /workers HTTP/1.1\nHost: x\n\n");
        RawHttp.Response http10 = RawHttp.send(cluster.httpPort(), "GET /workers HTTP/1.0\r\n\r\n");
        assertEquals(200, http10.status(), http10.toString());
        assertTrue(http10.body().contains(worker), http10.body());
    }

    // 9: 2,000 idle connections are held without harm.
    @Test
    void twoThousandIdleConnectionsAreHeldWhileTheApiAnswers() throws Exception {
        List<Socket> idle = new ArrayList<>();
        try {
            for (int i = 0; i < 2000; i++) {
                idle.add(RawHttp.connect(cluster.httpPort()));
            }
            for (int i = 0; i < 20; i++) {
                assertEquals(200, cluster.get("/workers").status());
            }
            assertNormalJobRunsAndStreams();
            // Every one of them is still open and still served.
            for (Socket socket : List.of(idle.getFirst(), idle.get(999), idle.getLast())) {
                socket.getOutputStream().write("GET /workers HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                assertEquals(200, RawHttp.read(socket.getInputStream()).status());
            }
        } finally {
            for (Socket socket : idle) {
                socket.close();
            }
        }
        assertEquals(200, cluster.get("/workers").status());
    }

    // 10: clients that hang up mid-request or mid-response add nothing to the log.
    @Test
    void twoHundredClientsThatHangUpAddAtMostAFewLinesToTheLog() throws Exception {
        String slow = "slow-" + System.nanoTime() + ".sh";
        Files.writeString(cluster.workDir().resolve(slow), "for i in $(seq 1 600); do echo line $i; sleep 0.05; done\n");
        String jobId = cluster.startJob(worker, "bash", slow);
        int linesBefore = cluster.schedulerLog().split("\n", -1).length;
        String start = "POST /start HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n";
        for (int i = 0; i < 200; i++) {
            try (Socket socket = RawHttp.connect(cluster.httpPort())) {
                OutputStream out = socket.getOutputStream();
                switch (i % 5) {
                    case 0 -> out.write("GET /workers HTTP/1.1\r\nHo".getBytes(StandardCharsets.US_ASCII));
                    case 1 -> out.write((start + "{\"worker_id\":").getBytes(StandardCharsets.US_ASCII));
                    case 2 -> {
                        out.write(("GET /jobs/" + jobId + "/output HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                        InputStream in = socket.getInputStream();
                        in.readNBytes(200); // mid-stream
                    }
                    case 3 -> {
                        out.write((start + "{\"job").getBytes(StandardCharsets.US_ASCII));
                        socket.setSoLinger(true, 0); // a reset rather than a close
                    }
                    default -> {
                        out.write(("GET /jobs/" + jobId + "/output?follow=false HTTP/1.1\r\nHost: x\r\n\r\n")
                                .getBytes(StandardCharsets.US_ASCII));
                        socket.setSoLinger(true, 0);
                    }
                }
                out.flush();
            }
        }
        // Still serving; the stream the clients left is still there for a new reader.
        assertEquals(200, cluster.get("/workers").status());
        assertEquals(200, cluster.get("/jobs/" + jobId + "/output?follow=false").status());
        cluster.post("/stop", object("job_id", jobId));
        String log = cluster.schedulerLog();
        List<String> added = List.of(log.split("\n", -1)).subList(linesBefore - 1, log.split("\n", -1).length);
        assertTrue(added.size() <= 5, "the log grew by " + added.size() + " lines:\n" + String.join("\n", added));
        assertTrue(added.stream().noneMatch(l -> l.contains("WARNING") || l.contains("SEVERE") || l.contains("\tat ")),
                String.join("\n", added));
    }

    // 12: readiness.
    @Test
    void healthReadinessAndLivenessAnswer() {
        for (String path : List.of("/observe/health", "/observe/health/ready", "/observe/health/live")) {
            assertEquals(204, cluster.get(path).status(), path);
        }
    }

    @Test
    void devIsReadyOnlyOnceItsWorkerHasRegistered() throws Exception {
        int http = Cluster.freeLoopbackPort();
        int grpc = Cluster.freeLoopbackPort();
        int workerPort = Cluster.freeLoopbackPort();
        // dev's worker takes [grpc_server] addr from the environment; the flag sets the scheduler's.
        Process dev = Cluster.startJar(dir.resolve("dev"), dir.resolve("dev.log"),
                Map.of(), "dev", "--http-addr", "127.0.0.1:" + http, "--grpc-addr", "127.0.0.1:" + grpc,
                "--worker-addr", "127.0.0.1:" + workerPort);
        try {
            var client = cluster.http();
            java.net.URI ready = java.net.URI.create("http://127.0.0.1:" + http + "/observe/health/ready");
            java.time.Instant deadline = java.time.Instant.now().plus(Cluster.READY_TIMEOUT);
            while (true) {
                assertTrue(dev.isAlive(), () -> "dev exited: " + read(dir.resolve("dev.log")));
                assertTrue(java.time.Instant.now().isBefore(deadline), "dev never became ready");
                HttpResponse<String> answer;
                try {
                    answer = client.send(HttpRequest.newBuilder(ready).timeout(Duration.ofSeconds(5)).build(),
                            HttpResponse.BodyHandlers.ofString());
                } catch (IOException notListeningYet) {
                    continue;
                }
                if (answer.statusCode() == 204) {
                    break;
                }
                assertEquals(503, answer.statusCode(), answer.body());
                assertTrue(answer.body().startsWith("{\"error\":\"not ready: waiting for "), answer.body());
            }
            // Ready means the quick start's first request sees the worker.
            HttpResponse<String> workers = client.send(HttpRequest.newBuilder(
                    java.net.URI.create("http://127.0.0.1:" + http + "/workers")).build(), HttpResponse.BodyHandlers.ofString());
            assertTrue(workers.body().contains("127.0.0.1:" + workerPort), workers.body());
        } finally {
            dev.destroy();
            if (!dev.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
                dev.destroyForcibly().waitFor();
            }
        }
    }

    // 13: one time format, one trailing-slash rule, a newline after every JSON answer.
    @Test
    void timesHaveMillisecondsTrailingSlashesAre404AndJsonEndsWithANewline() {
        Cluster.Reply workers = cluster.get("/workers");
        JsonNode one = workers.json().get("workers").get(0);
        assertTrue(one.get("registered_at").asText().matches(TIME), one.toString());
        assertTrue(one.get("last_seen").asText().matches(TIME), one.toString());
        JsonNode job = cluster.awaitDone(cluster.startJob(worker, "bash", "count3.sh"));
        assertTrue(job.get("started_at").asText().matches(TIME), job.toString());
        assertTrue(job.get("finished_at").asText().matches(TIME), job.toString());

        cluster.get("/workers/").assertError(404);
        cluster.get("/jobs/").assertError(404);

        for (Cluster.Reply reply : List.of(workers, cluster.get("/jobs"), cluster.get("/nothing"),
                cluster.post("/query", "null"), cluster.get("/jobs/" + job.get("job_id").asText()))) {
            assertTrue(reply.text().endsWith("}\n"), reply.toString());
        }
    }

    private static void assertNormalJobRunsAndStreams() {
        String jobId = cluster.startJob(worker, "bash", "count3.sh");
        assertEquals("SUCCEEDED", cluster.awaitDone(jobId).get("state").asText());
        assertEquals("1\n2\n3\n", cluster.get("/jobs/" + jobId + "/output").text());
    }

    private static void assertError400(String route, String body, String message) {
        assertEquals(message, cluster.post(route, body).assertError(400).get("error").asText(), body);
    }

    private static void assertRaw(int status, String request) throws IOException {
        RawHttp.Response response = RawHttp.send(cluster.httpPort(), request);
        assertEquals(status, response.status(), response.toString());
        assertEquals("application/json", response.header("Content-Type"), response.toString());
        assertTrue(Cluster.JSON.readTree(response.body()).get("error").isTextual(), response.body());
    }

    private static int jobCount() {
        return cluster.get("/jobs?limit=1000").json().get("jobs").size();
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.ISO_8859_1);
        } catch (IOException e) {
            return "(cannot read " + file + ")";
        }
    }
}
