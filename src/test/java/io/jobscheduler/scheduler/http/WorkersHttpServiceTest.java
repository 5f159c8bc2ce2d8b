package io.jobscheduler.scheduler.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jobscheduler.config.Address;
import io.jobscheduler.scheduler.SchedulerServer;
import io.jobscheduler.scheduler.TestServers;
import io.jobscheduler.scheduler.WorkerRecord;
import io.jobscheduler.scheduler.WorkerRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The gateway's HTTP conventions, against a real scheduler on a free port. */
class WorkersHttpServiceTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** RFC 3339 in UTC with exactly three fractional digits. */
    static final String API_TIME = "\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z";
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static SchedulerServer server;
    private static WorkerRecord first;
    private static WorkerRecord second;

    @BeforeAll
    static void start() {
        server = SchedulerServer.start(TestServers.plaintext());
        first = server.registry().register(new Address("127.0.0.1", 30001), null, List.of());
        second = server.registry().register(new Address("10.1.2.3", 30002), null, List.of());
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @Test
    void listingShowsEveryWorkerInRegistrationOrderWithUtcTimes() throws Exception {
        HttpResponse<String> response = send(get("/workers"));

        assertJson(response, 200);
        JsonNode workers = JSON.readTree(response.body()).get("workers");
        assertEquals(2, workers.size());
        assertWorker(first, workers.get(0));
        assertWorker(second, workers.get(1));
    }

    @Test
    void oneWorkerIsFoundById() throws Exception {
        HttpResponse<String> response = send(get("/workers/" + second.id()));

        assertJson(response, 200);
        assertWorker(second, JSON.readTree(response.body()));
    }

    @Test
    void aWorkerIdThatIsNotAUuidIs400() throws Exception {
        assertError(send(get("/workers/x")), 400, "worker id 'x' is not a UUID");
    }

    @Test
    void anUnknownWorkerIdIs404() throws Exception {
        UUID unknown = UUID.randomUUID();
        assertError(send(get("/workers/" + unknown)), 404, "worker '" + unknown + "' is not registered");
    }

    @Test
    void anUnknownRouteIs404() throws Exception {
        assertError(send(get("/nothing/here")), 404, "no route for GET /nothing/here");
    }

    @Test
    void aWrongMethodOnTheListIs405WithAllow() throws Exception {
        HttpResponse<String> response = send(request("/workers").DELETE());

        assertError(response, 405, "method DELETE is not allowed on /workers; allowed: GET");
        assertEquals("GET", response.headers().firstValue("Allow").orElseThrow());
    }

    @Test
    void aWrongMethodOnOneWorkerIs405WithAllow() throws Exception {
        HttpResponse<String> response = send(request("/workers/" + first.id())
                .POST(HttpRequest.BodyPublishers.ofString("{}")));

        assertError(response, 405, "method POST is not allowed on /workers/" + first.id() + "; allowed: GET, DELETE");
        assertEquals("GET, DELETE", response.headers().firstValue("Allow").orElseThrow());
    }

    @Test
    void aBodyDeclaredAsAnythingButJsonIs415() throws Exception {
        HttpResponse<String> response = send(request("/workers")
                .header("Content-Type", "text/plain")
                .PUT(HttpRequest.BodyPublishers.ofString("hello")));

        assertError(response, 415, "Content-Type 'text/plain' is not supported; send application/json");
    }

    @Test
    void aBodyWithoutContentTypeCountsAsJson() throws Exception {
        RawHttp.Response response = RawHttp.send(server.httpPort(),
                "PUT /workers HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}");

        assertRawError(response, 405);
    }

    @ParameterizedTest
    @ValueSource(strings = {"GET /workers x HTTP/1.1", "GET /wor\u0001kers HTTP/1.1", "GET /%zz HTTP/1.1"})
    void aMalformedRequestLineIs400Json(String line) throws Exception {
        assertRawError(RawHttp.send(server.httpPort(), line + "\r\nHost: x\r\n\r\n"), 400);
    }

    @Test
    void aMethodThatIsNotATokenIs400() throws Exception {
        // Helidon 4.5.0 alone fails to parse the method as an internal error (500); RequestGuard refuses it first.
        RawHttp.Response response = RawHttp.send(server.httpPort(), "G@T /workers HTTP/1.1\r\nHost: x\r\n\r\n");

        assertRawError(response, 400);
        assertEquals("{\"error\":\"malformed request line: the method is not a token\"}\n", response.body());
    }

    @Test
    void oversizeHeadersAreA431Json() throws Exception {
        String huge = "a".repeat(64 * 1024);
        RawHttp.Response response = RawHttp.send(server.httpPort(),
                "GET /workers HTTP/1.1\r\nHost: x\r\nX-Huge: " + huge + "\r\n\r\n");

        assertRawError(response, 431);
        assertEquals("{\"error\":\"request headers are longer than 20480 bytes\"}\n", response.body());
    }

    @Test
    void anOversizeEntityIs413Json() throws Exception {
        RawHttp.Response response = RawHttp.send(server.httpPort(),
                "PUT /workers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: "
                        + (SchedulerServer.MAX_REQUEST_BYTES + 1) + "\r\n\r\n{");

        assertRawError(response, 413);
    }

    @ParameterizedTest
    @ValueSource(strings = {"/workers/", "/jobs/", "/observe/health/"})
    void aTrailingSlashIs404OnEveryRoute(String path) throws Exception {
        assertError(send(get(path)), 404, "no route for GET " + path + "; paths have no trailing slash");
    }

    @ParameterizedTest
    @ValueSource(strings = {"/workers?state=alive", "/workers/00000000-0000-0000-0000-000000000000?x=1",
            "/observe/health/ready?verbose=1"})
    void anUnknownQueryParameterIs400NamingIt(String path) throws Exception {
        HttpResponse<String> response = send(get(path));

        assertJson(response, 400);
        String parameter = path.substring(path.indexOf('?') + 1, path.indexOf('='));
        assertTrue(JSON.readTree(response.body()).get("error").asText()
                .startsWith("unknown query parameter '" + parameter + "'"), response.body());
    }

    @Test
    void everyJsonAnswerEndsWithANewline() throws Exception {
        assertTrue(send(get("/workers")).body().endsWith("}\n"));
        assertTrue(send(get("/nothing")).body().endsWith("}\n"));
    }

    @Test
    void healthLivenessAndReadinessAnswer204OnceTheSocketsAreUp() throws Exception {
        for (String path : List.of("/observe/health", "/observe/health/ready", "/observe/health/live")) {
            assertEquals(204, send(get(path)).statusCode(), path);
        }
    }

    @Test
    void readinessIs503WithJsonUntilEveryMilestoneIsReached() throws Exception {
        AtomicBoolean reached = new AtomicBoolean();
        Readiness readiness = new Readiness();
        readiness.require("the test's milestone", reached::get);
        try (SchedulerServer waiting = SchedulerServer.start(TestServers.plaintext(), WorkerRegistry.Listener.NONE,
                readiness)) {
            for (String path : List.of("/observe/health", "/observe/health/ready")) {
                assertError(HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + waiting.httpPort() + path))
                        .build(), HttpResponse.BodyHandlers.ofString()), 503, "not ready: waiting for the test's milestone");
            }
            assertEquals(204, HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + waiting.httpPort()
                    + "/observe/health/live")).build(), HttpResponse.BodyHandlers.ofString()).statusCode());

            reached.set(true);
            assertEquals(204, HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + waiting.httpPort()
                    + "/observe/health/ready")).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
        }
    }

    private static void assertWorker(WorkerRecord expected, JsonNode worker) {
        assertEquals(expected.id().toString(), worker.get("id").asText());
        assertEquals(expected.address().toString(), worker.get("address").asText());
        String time = worker.get("registered_at").asText();
        assertTrue(time.matches(API_TIME), time);
        assertEquals(expected.registeredAt().truncatedTo(ChronoUnit.MILLIS), Instant.parse(time));
        // Liveness: state is alive or down, last_seen a UTC time, running_jobs a count.
        assertTrue(worker.get("state").asText().matches("alive|down"), worker.toString());
        assertTrue(worker.get("last_seen").asText().matches(API_TIME), worker.toString());
        assertTrue(worker.get("running_jobs").isInt(), worker.toString());
        // What the worker enforces, as it registered (none here: registered without enforced_limits).
        assertTrue(worker.get("limits").isArray(), worker.toString());
        assertEquals(expected.limits().size(), worker.get("limits").size(), worker.toString());
        assertEquals(7, worker.size(), worker.toString());
    }

    static void assertJson(HttpResponse<String> response, int status) {
        assertEquals(status, response.statusCode(), response.body());
        assertEquals("application/json", response.headers().firstValue("Content-Type").orElseThrow());
    }

    static void assertError(HttpResponse<String> response, int status, String message) throws Exception {
        assertJson(response, status);
        JsonNode body = JSON.readTree(response.body());
        assertEquals(message, body.get("error").asText(), response.body());
        assertEquals(1, body.size(), response.body());
    }

    static void assertRawError(RawHttp.Response response, int status) throws Exception {
        assertEquals(status, response.status(), response.toString());
        assertEquals("application/json", response.header("Content-Type"), response.toString());
        JsonNode body = JSON.readTree(response.body());
        assertTrue(body.get("error").isTextual(), response.body());
        assertTrue(!body.get("error").asText().isBlank(), response.body());
    }

    private static HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.httpPort() + path));
    }

    private static HttpRequest.Builder get(String path) {
        return request(path).GET();
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) throws Exception {
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
