package io.jobscheduler.scheduler.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jobscheduler.Tmpfs;
import io.jobscheduler.config.AccessSettings;
import io.jobscheduler.config.Address;
import io.jobscheduler.scheduler.SchedulerServer;
import io.jobscheduler.scheduler.TestServers;
import io.jobscheduler.security.ApiRole;
import io.jobscheduler.security.ApiToken;
import io.jobscheduler.security.TokenTable;
import io.jobscheduler.worker.TestWorkers;
import io.jobscheduler.worker.WorkerServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The audit log of a real scheduler with tokens and a real worker (both in the test JVM, on free
 * ports): one line per audited action with the right fields, never a token or an environment
 * value; and fail-closed, on a tmpfs that is full.
 */
class AuditServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SECRET_VALUE = "s3cr3t-value-" + UUID.randomUUID();
    private final HttpClient http = HttpClient.newHttpClient();
    private final Map<ApiRole, String> tokens = new EnumMap<>(ApiRole.class);

    @TempDir
    Path dir;
    private Path tokensFile;
    private final List<AutoCloseable> running = new ArrayList<>();

    @BeforeEach
    void writeTokens() throws IOException {
        TokenTable table = TokenTable.empty();
        for (ApiRole role : ApiRole.values()) {
            String token = ApiToken.generate();
            tokens.put(role, token);
            table = table.with(new TokenTable.Entry(role.word() + "-token", role, ApiToken.sha256(token)));
        }
        tokensFile = dir.resolve("tokens.toml");
        Files.writeString(tokensFile, table.toToml());
    }

    @AfterEach
    void stopAll() throws Exception {
        for (AutoCloseable closeable : running.reversed()) {
            closeable.close();
        }
    }

    private SchedulerServer scheduler(Path auditFile) {
        SchedulerServer server = SchedulerServer.start(TestServers.plaintext().withAccess(new AccessSettings(
                Optional.of(tokensFile), false, Optional.of(auditFile), AccessSettings.DEFAULT_AUDIT_MAX_BYTES)));
        running.add(server);
        return server;
    }

    private WorkerServer worker(SchedulerServer scheduler, String name) throws Exception {
        Path work = Files.createDirectories(dir.resolve(name + "-work"));
        WorkerServer worker = WorkerServer.start(TestWorkers.settings(scheduler.grpcPort(), work,
                dir.resolve(name + "-data")));
        running.add(worker);
        assertTrue(worker.awaitRegistered(Duration.ofSeconds(30)), "the worker did not register");
        return worker;
    }

    @Test
    void eachAuditedActionHasOneLineWithItsDetailsAndNoTokenOrEnvironmentValue() throws Exception {
        Path audit = dir.resolve("audit.log");
        SchedulerServer scheduler = scheduler(audit);
        WorkerServer worker = worker(scheduler, "w");
        String workerId = scheduler.registry().list().getFirst().id().toString();

        HttpResponse<String> started = post(scheduler, "/start", ApiRole.OPERATOR, "{\"worker_id\":\"" + workerId
                + "\",\"command\":\"sh\",\"args\":[\"-c\",\"echo $GREETING\"],\"env\":{\"GREETING\":\"" + SECRET_VALUE + "\"}}");
        assertEquals(201, started.statusCode(), started.body());
        String echoJob = JSON.readTree(started.body()).get("job_id").asText();
        HttpResponse<String> output = send(scheduler, "GET", "/jobs/" + echoJob + "/output", ApiRole.VIEWER, null);
        assertEquals(200, output.statusCode());
        assertEquals(SECRET_VALUE + "\n", output.body());
        HttpResponse<String> eventStream = send(scheduler, "GET", "/jobs/" + echoJob + "/events", ApiRole.VIEWER, null);
        assertEquals(200, eventStream.statusCode());
        assertTrue(eventStream.body().contains("event: end\n"), eventStream.body());

        HttpResponse<String> sleeping = post(scheduler, "/start", ApiRole.ADMIN, "{\"worker_id\":\"" + workerId
                + "\",\"command\":\"sleep\",\"args\":[\"30\"]}");
        assertEquals(201, sleeping.statusCode(), sleeping.body());
        String sleepJob = JSON.readTree(sleeping.body()).get("job_id").asText();
        assertEquals(200, post(scheduler, "/stop", ApiRole.OPERATOR, "{\"job_id\":\"" + sleepJob + "\"}").statusCode());

        assertEquals(403, post(scheduler, "/start", ApiRole.VIEWER, "{}").statusCode());
        assertEquals(401, send(scheduler, "GET", "/workers", null, null).statusCode());
        assertEquals(401, http.send(request(scheduler, "/jobs").header("Authorization", "Bearer " + ApiToken.generate())
                .build(), HttpResponse.BodyHandlers.ofString()).statusCode());
        assertEquals(200, send(scheduler, "GET", "/jobs", ApiRole.VIEWER, null).statusCode(), "reads are not audited");

        int workerPort = worker.port();
        worker.close();
        await("the worker deregistered", () -> scheduler.registry().list().isEmpty());

        String goneId;
        try (ServerSocket vanished = new ServerSocket(0)) {
            goneId = scheduler.registry().register(new Address("127.0.0.1", vanished.getLocalPort()), null, List.of())
                    .id().toString();
        }
        await("the vanished worker is down", () -> {
            try {
                return send(scheduler, "GET", "/workers/" + goneId, ApiRole.VIEWER, null).body().contains("\"down\"");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        assertEquals(200, send(scheduler, "DELETE", "/workers/" + goneId, ApiRole.ADMIN, null).statusCode());

        String text = Files.readString(audit);
        for (String token : tokens.values()) {
            assertFalse(text.contains(token), "a token in the audit log");
        }
        assertFalse(text.contains("jst_"), "a token in the audit log");
        assertFalse(text.contains(SECRET_VALUE), "an environment value in the audit log");

        List<JsonNode> lines = new ArrayList<>();
        for (String line : Files.readAllLines(audit)) {
            lines.add(JSON.readTree(line));
        }
        Map<String, Integer> events = new TreeMap<>();
        for (JsonNode line : lines) {
            events.merge(line.get("event").asText(), 1, Integer::sum);
            assertTrue(line.get("time").asText().matches(WorkersHttpServiceTest.API_TIME), line.toString());
            assertTrue(line.get("from").asText().matches("127\\.0\\.0\\.1:\\d+"), line.toString());
        }
        assertEquals(Map.of("start", 2, "output", 2, "stop", 1, "refused", 3, "worker_register", 1,
                "worker_deregister", 1, "worker_remove", 1), events, lines.toString());

        JsonNode register = only(lines, "worker_register", null);
        assertEquals("anonymous", register.get("who").asText());
        assertEquals("gRPC", register.get("method").asText());
        assertEquals("RegisterWorker", register.get("route").asText());
        assertEquals("127.0.0.1:" + workerPort, register.get("address").asText());
        assertEquals(workerId, register.get("worker_id").asText());
        assertEquals("OK", register.get("status").asText());

        JsonNode start = only(lines, "start", echoJob);
        assertEquals("operator-token", start.get("who").asText());
        assertEquals("POST", start.get("method").asText());
        assertEquals("/start", start.get("route").asText());
        assertEquals(workerId, start.get("worker_id").asText());
        assertEquals("sh", start.get("command").asText());
        assertEquals("[\"-c\",\"echo $GREETING\"]", start.get("args").toString());
        assertEquals("[\"GREETING\"]", start.get("env").toString());
        assertEquals(201, start.get("status").asInt());
        assertEquals("admin-token", only(lines, "start", sleepJob).get("who").asText());

        List<JsonNode> reads = lines.stream().filter(l -> l.get("event").asText().equals("output")).toList();
        assertEquals(List.of("/jobs/{job_id}/output", "/jobs/{job_id}/events"),
                reads.stream().map(l -> l.get("route").asText()).toList(), "the raw output and the events read it");
        for (JsonNode read : reads) {
            assertEquals("viewer-token", read.get("who").asText());
            assertEquals(echoJob, read.get("job_id").asText());
            assertEquals(200, read.get("status").asInt());
        }

        JsonNode stop = only(lines, "stop", sleepJob);
        assertEquals("operator-token", stop.get("who").asText());
        assertEquals(200, stop.get("status").asInt());

        List<JsonNode> refused = lines.stream().filter(l -> l.get("event").asText().equals("refused")).toList();
        assertEquals("viewer-token", refused.get(0).get("who").asText());
        assertEquals("/start", refused.get(0).get("route").asText());
        assertEquals(403, refused.get(0).get("status").asInt());
        assertEquals("anonymous", refused.get(1).get("who").asText());
        assertEquals("/workers", refused.get(1).get("route").asText());
        assertEquals(401, refused.get(1).get("status").asInt());
        assertEquals(401, refused.get(2).get("status").asInt());

        JsonNode deregister = only(lines, "worker_deregister", null);
        assertEquals(workerId, deregister.get("worker_id").asText());
        assertEquals("OK", deregister.get("status").asText());

        JsonNode remove = only(lines, "worker_remove", null);
        assertEquals("admin-token", remove.get("who").asText());
        assertEquals("DELETE", remove.get("method").asText());
        assertEquals(goneId, remove.get("worker_id").asText());
        assertEquals(200, remove.get("status").asInt());
    }

    @Test
    void whenTheAuditLogCannotBeWrittenStartsAndStopsAre503AndNothingRuns() throws Exception {
        try (Tmpfs disk = Tmpfs.mount(dir.resolve("disk"), 1)) {
            SchedulerServer scheduler = scheduler(disk.dir().resolve("audit.log"));
            worker(scheduler, "w");
            String workerId = scheduler.registry().list().getFirst().id().toString();
            HttpResponse<String> running = post(scheduler, "/start", ApiRole.OPERATOR, "{\"worker_id\":\"" + workerId
                    + "\",\"command\":\"sleep\",\"args\":[\"30\"]}");
            assertEquals(201, running.statusCode(), running.body());
            String runningJob = JSON.readTree(running.body()).get("job_id").asText();

            Path filler = disk.dir().resolve("filler");
            fill(filler);
            // The audit file's last page may hold a few more lines: stops of unknown jobs, whose
            // lines are as long as the real stop's, use it up (each is written, then answers 404).
            for (int i = 0; ; i++) {
                HttpResponse<String> unknown = post(scheduler, "/stop", ApiRole.OPERATOR,
                        "{\"job_id\":\"" + UUID.randomUUID() + "\"}");
                if (unknown.statusCode() == 503) {
                    assertTrue(JSON.readTree(unknown.body()).get("error").asText()
                            .startsWith("the audit log cannot be written: "), unknown.body());
                    assertTrue(unknown.body().contains("nothing was done"), unknown.body());
                    break;
                }
                assertEquals(404, unknown.statusCode(), unknown.body());
                assertTrue(i < 100, "a full disk never refused a stop");
            }
            Path ran = dir.resolve("ran-" + UUID.randomUUID());
            HttpResponse<String> start = post(scheduler, "/start", ApiRole.OPERATOR, "{\"worker_id\":\""
                    + workerId + "\",\"command\":\"touch\",\"path\":\"" + ran + "\"}");
            assertEquals(503, start.statusCode(), start.body());
            HttpResponse<String> stop = post(scheduler, "/stop", ApiRole.OPERATOR, "{\"job_id\":\"" + runningJob + "\"}");
            assertEquals(503, stop.statusCode(), stop.body());
            HttpResponse<String> job = send(scheduler, "GET", "/jobs/" + runningJob, ApiRole.VIEWER, null);
            assertEquals("RUNNING", JSON.readTree(job.body()).get("state").asText(), "the refused stop stopped nothing");
            HttpResponse<String> jobs = send(scheduler, "GET", "/jobs", ApiRole.VIEWER, null);
            assertEquals(1, JSON.readTree(jobs.body()).get("jobs").size(), "the refused start started nothing: " + jobs.body());
            assertFalse(Files.exists(ran));

            Files.delete(filler);
            Files.deleteIfExists(disk.dir().resolve("filler.tail"));
            assertEquals(200, post(scheduler, "/stop", ApiRole.OPERATOR, "{\"job_id\":\"" + runningJob + "\"}")
                    .statusCode(), "with room again, stops are done");
            // Stopped before the tmpfs is unmounted: the audit log holds a file on it.
            stopAll();
            this.running.clear();
        }
    }

    private static JsonNode only(List<JsonNode> lines, String event, String jobId) {
        List<JsonNode> found = lines.stream().filter(l -> l.get("event").asText().equals(event)
                && (jobId == null || jobId.equals(l.get("job_id").asText()))).toList();
        assertEquals(1, found.size(), event + " " + jobId + ": " + lines);
        return found.getFirst();
    }

    private static void fill(Path filler) throws IOException {
        byte[] block = new byte[64 * 1024];
        try (OutputStream out = Files.newOutputStream(filler)) {
            while (true) {
                out.write(block);
            }
        } catch (IOException full) {
            if (!String.valueOf(full.getMessage()).contains("No space left")) {
                throw full;
            }
        }
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        Instant deadline = Instant.now().plusSeconds(30);
        while (!condition.getAsBoolean()) {
            assertTrue(Instant.now().isBefore(deadline), what + " not within 30 s");
            Thread.sleep(20); // polling another component's state, with a deadline
        }
    }

    private HttpRequest.Builder request(SchedulerServer scheduler, String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + scheduler.httpPort() + path))
                .timeout(Duration.ofSeconds(60));
    }

    private HttpResponse<String> post(SchedulerServer scheduler, String path, ApiRole role, String body) throws Exception {
        return send(scheduler, "POST", path, role, body);
    }

    private HttpResponse<String> send(SchedulerServer scheduler, String method, String path, ApiRole role, String body)
            throws Exception {
        HttpRequest.Builder request = request(scheduler, path).method(method,
                body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            request.header("Content-Type", "application/json");
        }
        if (role != null) {
            request.header("Authorization", "Bearer " + tokens.get(role));
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
