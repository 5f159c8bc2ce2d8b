package io.jobscheduler.scheduler.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.grpc.GrpcRouting;
import io.jobscheduler.scheduler.SchedulerCore;
import io.jobscheduler.scheduler.SchedulerGrpcService;
import io.jobscheduler.scheduler.TestServers;
import io.jobscheduler.scheduler.WorkerRegistry;
import io.jobscheduler.security.AuditLog;
import io.jobscheduler.security.GrpcAudit;
import io.jobscheduler.worker.TestWorkers;
import io.jobscheduler.worker.WorkerServer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.StringReader;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import io.jobscheduler.config.WorkerCapacity;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The routes that need a real worker's jobs: {@code GET /jobs/{id}/events} and the fields of
 * {@code GET /jobs}, against a worker in the test JVM, through the production route table
 * ({@link ApiRoutes}) with an event keep-alive period short enough to be seen.
 */
class RealWorkerRoutesTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration KEEPALIVE = Duration.ofMillis(300);
    private static final Duration WAIT = Duration.ofSeconds(30);

    @TempDir
    Path work;
    @TempDir
    Path data;

    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private SchedulerCore core;
    private WebServer server;
    private WorkerServer worker;
    private String workerId;
    /** A worker with {@code max_running = 1}, started by the tests that queue jobs. */
    private WorkerServer fullWorker;

    /** One Server-Sent Event as the client sees it. */
    record Event(String event, String id, String data) {
        JsonNode json() throws IOException {
            return JSON.readTree(data);
        }

        byte[] bytes() {
            return Base64.getDecoder().decode(data);
        }
    }

    @BeforeEach
    void start() throws Exception {
        core = SchedulerCore.create(TestServers.plaintext(), Clock.systemUTC(), WorkerRegistry.Listener.NONE);
        server = WebServer.builder()
                .host("127.0.0.1").port(0)
                .routing(routing -> {
                    ApiAccess access = ApiAccess.open();
                    routing.addFilter(access::filter);
                    SchedulerHttp.errorHandling(routing);
                    ApiRoutes.of(core.registry(), core.gateway(), KEEPALIVE).register(routing, access);
                })
                .putSocket("grpc", grpc -> grpc.host("127.0.0.1").port(0).addRouting(GrpcRouting.builder()
                        .service(new SchedulerGrpcService(core.registry(), TestServers.TTL, core.gateway()::departing,
                                new GrpcAudit(AuditLog.disabled())))))
                .build().start();
        worker = WorkerServer.start(TestWorkers.settings(server.port("grpc"), work, data));
        assertTrue(worker.awaitRegistered(Duration.ofSeconds(10)), "the worker registered");
        workerId = core.registry().list().getFirst().id().toString();
    }

    @AfterEach
    void stop() {
        if (fullWorker != null) {
            fullWorker.close();
        }
        if (worker != null) {
            worker.close();
        }
        if (server != null) {
            server.stop();
        }
        if (core != null) {
            core.close();
        }
    }

    @Test
    void aShortJobSendsItsStateItsOutputAndAnEndWithItsExitCodeThenTheStreamCloses() throws Exception {
        String job = start("printf one; sleep 0.3; printf two; exit 3");
        HttpResponse<Stream<String>> response = events(job, null, "");
        assertEquals(200, response.statusCode());
        assertEquals("text/event-stream; charset=utf-8", response.headers().firstValue("Content-Type").orElseThrow());
        List<Event> events = read(response.body());   // to the end of the body: the stream closes after end

        Event first = events.getFirst();
        assertEquals("state", first.event());
        assertEquals("0", first.id());
        assertEquals(job, first.json().path("job_id").asText());
        assertEquals("RUNNING", first.json().path("state").asText());

        Event last = events.getLast();
        assertEquals("end", last.event());
        assertEquals("FAILED", last.json().path("state").asText());
        assertEquals(3, last.json().path("exit_code").asInt());
        assertTrue(last.json().path("finished_at").isTextual(), last.data());
        assertEquals("6", last.id());

        StringBuilder output = new StringBuilder();
        for (Event event : events.subList(1, events.size() - 1)) {
            assertEquals("output", event.event(), "only output between the first state and the end: " + events);
            output.append(new String(event.bytes(), StandardCharsets.UTF_8));
            assertEquals(String.valueOf(output.length()), event.id(), "an output event's id is the offset after it");
        }
        assertEquals("onetwo", output.toString());
    }

    @Test
    void resumingFromTheMiddleWithLastEventIdOrOffsetGivesExactlyTheRest() throws Exception {
        String job = start("seq 1 30000");   // 168,894 bytes: several chunks of at most 64 KiB
        byte[] whole = output(read(events(job, null, "").body()));
        assertEquals(168_894, whole.length);

        for (int from : new int[] {1, 65_536, 100_001, whole.length}) {
            List<Event> byHeader = read(events(job, String.valueOf(from), "").body());
            assertEquals(String.valueOf(from), byHeader.getFirst().id(), "the first state is at the offset resumed from");
            assertEquals(new String(whole, from, whole.length - from, StandardCharsets.US_ASCII),
                    new String(output(byHeader), StandardCharsets.US_ASCII), "Last-Event-ID: " + from);
            assertEquals("end", byHeader.getLast().event());
            assertEquals(0, byHeader.getLast().json().path("exit_code").asInt());
            assertEquals(new String(whole, from, whole.length - from, StandardCharsets.US_ASCII),
                    new String(output(read(events(job, null, "?offset=" + from).body())), StandardCharsets.US_ASCII),
                    "?offset=" + from);
        }
    }

    @Test
    void aBadOffsetIsRefusedNamingWhereItCameFrom() throws Exception {
        String job = start("echo hello");
        for (String header : new String[] {"abc", "-1", "1.5"}) {
            HttpResponse<String> refused = http.send(request(job, "").header("Last-Event-ID", header).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertEquals(400, refused.statusCode(), header);
            assertTrue(JSON.readTree(refused.body()).path("error").asText().contains("Last-Event-ID"), refused.body());
        }
        List<Event> fromAnEmptyId = read(http.send(request(job, "?offset=2").header("Last-Event-ID", " ").build(),
                HttpResponse.BodyHandlers.ofLines()).body());
        assertEquals("2", fromAnEmptyId.getFirst().id(), "an empty Last-Event-ID is none: the offset applies");
        HttpResponse<String> refused = http.send(request(job, "?offset=x").build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(400, refused.statusCode());
        assertTrue(JSON.readTree(refused.body()).path("error").asText().contains("'offset'"), refused.body());
        HttpResponse<String> unknown = http.send(request("no-such-job", "").build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(404, unknown.statusCode());
        assertEquals("unknown job 'no-such-job'", JSON.readTree(unknown.body()).path("error").asText());
    }

    @Test
    void aSilentJobGetsKeepAliveCommentsAndItsStopIsTheEnd() throws Exception {
        String job = start("exec sleep 600");
        try (InputStream body = events(job, null, "", HttpResponse.BodyHandlers.ofInputStream()).body()) {
            BufferedReader lines = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
            assertTrue(lines.readLine().startsWith("event: state"));
            String line;
            while (!(line = lines.readLine()).startsWith(":")) {
                assertFalse(line.startsWith("event: output"), "a silent job sends no output");
            }
            assertEquals(": keep-alive", line);

            post("/stop", "{\"job_id\":\"" + job + "\"}");
            List<Event> rest = read(lines.lines());
            assertEquals("end", rest.getLast().event(), rest.toString());
            assertEquals("STOPPED", rest.getLast().json().path("state").asText());
            assertEquals(15, rest.getLast().json().path("signal").asInt());
        }
    }

    @Test
    void aClientThatDisconnectsReleasesTheWorkersStream() throws Exception {
        String job = start("while :; do echo tick; sleep 0.05; done");
        int before = openOutputFiles(job);   // the job's own writer
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", server.port()));
            socket.setSoTimeout((int) WAIT.toMillis());   // a bound on a broken server, not a synchronisation
            socket.getOutputStream().write(("GET /jobs/" + job + "/events HTTP/1.1\r\nHost: x\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            InputStream in = socket.getInputStream();
            StringBuilder received = new StringBuilder();
            while (!received.toString().contains("event: output")) {
                int b = in.read();
                assertTrue(b >= 0, "stream ended before the first output: " + received);
                received.append((char) b);
            }
            assertEquals(before + 1, openOutputFiles(job), "the worker reads the job's output for the stream");
        }
        Instant deadline = Instant.now().plus(WAIT);
        while (openOutputFiles(job) > before && Instant.now().isBefore(deadline)) {
            Thread.sleep(20);   // observing another component's file table: there is nothing to wait on
        }
        assertEquals(before, openOutputFiles(job), "the worker's reader of the job's output is closed");
        post("/stop", "{\"job_id\":\"" + job + "\"}");
    }

    @Test
    void aListedJobCarriesTheArgumentsItWasStartedWith() throws Exception {
        String job = start("echo \"$1\"", "sh", "two words", "");
        HttpResponse<String> list = http.send(HttpRequest.newBuilder(uri("/jobs")).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        JsonNode entry = JSON.readTree(list.body()).path("jobs").get(0);
        assertEquals(job, entry.path("job_id").asText());
        assertEquals("sh", entry.path("command").asText());
        assertEquals(List.of("-c", "echo \"$1\"", "sh", "two words", ""),
                JSON.convertValue(entry.path("args"), List.class));
    }

    /** Starts a worker that runs one job at a time; answers its id once registered. */
    private String oneAtATimeWorker() throws Exception {
        fullWorker = WorkerServer.start(TestWorkers.settings(server.port("grpc"), work, data.resolve("one-at-a-time"))
                .withCapacity(new WorkerCapacity(1, Map.of())));
        assertTrue(fullWorker.awaitRegistered(Duration.ofSeconds(10)), "the worker registered");
        String address = "127.0.0.1:" + fullWorker.port();
        return core.registry().list().stream().filter(w -> w.address().toString().equals(address))
                .findFirst().orElseThrow().id().toString();
    }

    /** Starts {@code sh -c script} pinned to {@code worker}; answers its id, after checking it was queued (202) or not. */
    private String startOn(String worker, String script, boolean queued) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri("/start")).timeout(WAIT)
                .POST(HttpRequest.BodyPublishers.ofString("{\"worker_id\":\"" + worker + "\",\"command\":\"sh\",\"args\":"
                        + JSON.writeValueAsString(List.of("-c", script)) + "}")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(queued ? 202 : 201, response.statusCode(), response.body());
        return JSON.readTree(response.body()).path("job_id").asText();
    }

    /** The next event of the stream, or a keep-alive comment as an event named ":"; null at the end. */
    private static Event next(BufferedReader lines) throws IOException {
        String event = null;
        String id = null;
        StringBuilder data = new StringBuilder();
        String line;
        while ((line = lines.readLine()) != null) {
            if (line.isEmpty()) {
                if (event != null) {
                    return new Event(event, id, data.toString());
                }
            } else if (line.startsWith(":")) {
                event = ":";
            } else if (line.startsWith("event: ")) {
                event = line.substring(7);
            } else if (line.startsWith("id: ")) {
                id = line.substring(4);
            } else if (line.startsWith("data: ")) {
                data.append(line.substring(6));
            } else {
                throw new AssertionError("a line of the event stream: " + line);
            }
        }
        assertTrue(event == null, "the stream ends after a whole event");
        return null;
    }

    @Test
    void aQueuedJobsStreamSaysQueuedKeepsAliveThenCarriesItsOutputStateAndEndOnceItRuns() throws Exception {
        String one = oneAtATimeWorker();
        String blocker = startOn(one, "while [ ! -f go ]; do sleep 0.02; done", false);
        String job = startOn(one, "printf hello; while [ ! -f go2 ]; do sleep 0.02; done; printf bye", true);
        HttpResponse<InputStream> response = events(job, null, "", HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, response.statusCode(), "a queued job has an event stream");
        assertEquals("text/event-stream; charset=utf-8", response.headers().firstValue("Content-Type").orElseThrow());
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            Event first = next(lines);
            assertEquals("state", first.event());
            assertEquals("QUEUED", first.json().path("state").asText(), first.data());
            assertEquals(one, first.json().path("worker_id").asText(), first.data());
            assertEquals(":", next(lines).event(), "a keep-alive while it waits, nothing else");

            Files.writeString(work.resolve("go"), "");   // the blocker ends: the queued job is dispatched
            List<Event> beforeOutput = new ArrayList<>();
            Event event;
            while (!(event = next(lines)).event().equals("output")) {
                beforeOutput.add(event);
            }
            assertEquals("hello", new String(event.bytes(), StandardCharsets.UTF_8));
            assertEquals("5", event.id(), "offsets count from the job's first byte");
            List<Event> states = beforeOutput.stream().filter(e -> e.event().equals("state")).toList();
            assertEquals(1, states.size(), "one state once it runs: " + beforeOutput);
            assertEquals("RUNNING", states.getFirst().json().path("state").asText());
            assertTrue(states.getFirst().json().path("started_at").isTextual(), states.getFirst().data());

            Files.writeString(work.resolve("go2"), "");
            List<Event> rest = new ArrayList<>();
            while ((event = next(lines)) != null) {
                rest.add(event);
            }
            assertEquals("end", rest.getLast().event(), rest.toString());
            assertEquals("SUCCEEDED", rest.getLast().json().path("state").asText(), rest.getLast().data());
            assertEquals("8", rest.getLast().id());
            assertEquals("bye", new String(output(rest), StandardCharsets.UTF_8));
        }
        assertEquals("SUCCEEDED", JSON.readTree(post("/query", "{\"job_id\":\"" + blocker + "\"}")).path("state").asText());
    }

    @Test
    void aQueuedJobStoppedWhileItsStreamWaitsEndsTheStreamStoppedAndAStreamOpenedAfterEndsAtOnce() throws Exception {
        String one = oneAtATimeWorker();
        startOn(one, "while [ ! -f go ]; do sleep 0.02; done", false);
        String job = startOn(one, "echo never", true);
        HttpResponse<InputStream> response = events(job, null, "", HttpResponse.BodyHandlers.ofInputStream());
        assertEquals(200, response.statusCode());
        try (BufferedReader lines = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            assertEquals("QUEUED", next(lines).json().path("state").asText());
            post("/stop", "{\"job_id\":\"" + job + "\"}");
            List<Event> rest = new ArrayList<>();
            Event event;
            while ((event = next(lines)) != null) {
                rest.add(event);
            }
            assertEquals("end", rest.getLast().event(), rest.toString());
            assertEquals("STOPPED", rest.getLast().json().path("state").asText(), rest.getLast().data());
            assertTrue(rest.getLast().json().path("started_at").isNull(), "it never started");
            assertTrue(rest.stream().allMatch(e -> e.event().equals(":") || e.event().equals("end")), rest.toString());
        }
        List<Event> after = read(events(job, null, "").body());
        assertEquals(List.of("state", "end"), after.stream().map(Event::event).toList());
        assertEquals("STOPPED", after.getLast().json().path("state").asText());
        Files.writeString(work.resolve("go"), "");
    }

    /** Descriptors of this JVM (the worker runs in it) open on the job's output log. */
    private int openOutputFiles(String job) throws IOException {
        Path log = data.resolve("jobs").resolve(job).resolve("output");
        int open = 0;
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    Path target = Files.readSymbolicLink(fd);
                    if (target.equals(log)) {
                        open++;
                    }
                } catch (IOException e) {
                    // Closed while listing.
                }
            }
        }
        return open;
    }

    /** Starts {@code sh -c script args…}. */
    private String start(String script, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("-c", script));
        all.addAll(List.of(args));
        String body = "{\"worker_id\":\"" + workerId + "\",\"command\":\"sh\",\"args\":"
                + JSON.writeValueAsString(all) + "}";
        return JSON.readTree(post("/start", body)).path("job_id").asText();
    }

    private String post(String path, String body) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri(path))
                .POST(HttpRequest.BodyPublishers.ofString(body)).timeout(WAIT).build(), HttpResponse.BodyHandlers.ofString());
        assertTrue(response.statusCode() / 100 == 2, path + ": " + response.body());
        return response.body();
    }

    private HttpResponse<Stream<String>> events(String job, String lastEventId, String query) throws Exception {
        return events(job, lastEventId, query, HttpResponse.BodyHandlers.ofLines());
    }

    private <T> HttpResponse<T> events(String job, String lastEventId, String query, HttpResponse.BodyHandler<T> handler)
            throws Exception {
        HttpRequest.Builder request = request(job, query);
        if (lastEventId != null) {
            request.header("Last-Event-ID", lastEventId);
        }
        return http.send(request.build(), handler);
    }

    private HttpRequest.Builder request(String job, String query) {
        return HttpRequest.newBuilder(uri("/jobs/" + job + "/events" + query)).GET();
    }

    private URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }

    /** Every event to the end of the stream, keep-alive comments left out. */
    private static List<Event> read(Stream<String> lines) {
        List<Event> events = new ArrayList<>();
        try (BufferedReader reader = new BufferedReader(new StringReader(
                lines.collect(Collectors.joining("\n", "", "\n"))))) {
            for (Event event = next(reader); event != null; event = next(reader)) {
                if (!event.event().equals(":")) {
                    events.add(event);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return events;
    }

    private static byte[] output(List<Event> events) {
        var bytes = new java.io.ByteArrayOutputStream();
        events.stream().filter(e -> e.event().equals("output")).forEach(e -> bytes.writeBytes(e.bytes()));
        return bytes.toByteArray();
    }
}
