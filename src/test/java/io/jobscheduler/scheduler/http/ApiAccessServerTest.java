package io.jobscheduler.scheduler.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jobscheduler.config.AccessSettings;
import io.jobscheduler.config.SchedulerSettings;
import io.jobscheduler.scheduler.SchedulerCore;
import io.jobscheduler.scheduler.SchedulerServer;
import io.jobscheduler.scheduler.TestServers;
import io.jobscheduler.scheduler.WorkerRegistry;
import io.jobscheduler.security.ApiRole;
import io.jobscheduler.security.ApiToken;
import io.jobscheduler.security.TokenFile;
import io.jobscheduler.security.TokenTable;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The role matrix: every route of {@link ApiRoutes}' table (read from the table, so a new route
 * is covered by itself) × no token, an unknown token, and a token of each role, against a real
 * scheduler with {@code [auth] tokens_file}. A request a role may make answers exactly what a
 * scheduler without tokens answers to it.
 */
class ApiAccessServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    /** What each {@code {parameter}} of a path is given: a well-formed id nobody knows. */
    private static final String PARAMETER = "00000000-0000-4000-8000-000000000000";

    @TempDir
    static Path dir;
    private static Path tokensFile;
    private static final List<String> TOKENS = new ArrayList<>(); // by ApiRole ordinal
    private static SchedulerServer secured;
    private static SchedulerServer open;

    @BeforeAll
    static void start() throws IOException {
        TokenTable table = TokenTable.empty();
        for (ApiRole role : ApiRole.values()) {
            String token = ApiToken.generate();
            TOKENS.add(token);
            table = table.with(new TokenTable.Entry(role.word() + "-token", role, ApiToken.sha256(token)));
        }
        tokensFile = dir.resolve("tokens.toml");
        Files.writeString(tokensFile, table.toToml());
        secured = SchedulerServer.start(TestServers.plaintext().withAccess(
                new AccessSettings(Optional.of(tokensFile), false, Optional.empty(), AccessSettings.DEFAULT_AUDIT_MAX_BYTES)));
        open = SchedulerServer.start(TestServers.plaintext());
    }

    @AfterAll
    static void stop() {
        secured.close();
        open.close();
    }

    /** Every route of the table, as production builds it. */
    static List<ApiRoute> routes() {
        try (SchedulerCore core = SchedulerCore.create(TestServers.plaintext(), Clock.systemUTC(),
                WorkerRegistry.Listener.NONE)) {
            return ApiRoutes.of(core.registry(), core.gateway()).all();
        }
    }

    static Stream<Arguments> everyRoute() {
        return routes().stream().map(route -> Arguments.of(route.method().text() + " " + route.path(), route));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("everyRoute")
    void everyRouteAnswersEachCredentialWithItsExactStatus(String name, ApiRoute route) throws Exception {
        HttpResponse<String> reference = send(open, route, null);
        assertNotEquals(401, reference.statusCode(), name + " without tokens: " + reference.body());
        assertNotEquals(403, reference.statusCode(), name + " without tokens: " + reference.body());

        HttpResponse<String> none = send(secured, route, null);
        assertRefused(none, 401, "missing token");
        assertEquals("Bearer realm=\"jobscheduler\"", none.headers().firstValue("WWW-Authenticate").orElseThrow());

        HttpResponse<String> unknown = send(secured, route, "Bearer " + ApiToken.generate());
        assertRefused(unknown, 401, "unknown or revoked token");
        assertTrue(unknown.headers().firstValue("WWW-Authenticate").orElseThrow().startsWith("Bearer "));

        HttpResponse<String> notBearer = send(secured, route, "Basic dXNlcjpwYXNz");
        assertRefused(notBearer, 401, "must be 'Bearer <token>'");

        for (ApiRole role : ApiRole.values()) {
            HttpResponse<String> response = send(secured, route, "Bearer " + TOKENS.get(role.ordinal()));
            if (role.includes(route.role())) {
                assertEquals(reference.statusCode(), response.statusCode(), name + " as " + role + ": " + response.body());
                assertEquals(reference.body(), response.body(), name + " as " + role);
            } else {
                JsonNode error = assertRefused(response, 403, "needs role " + route.role().word());
                assertTrue(error.get("error").asText().startsWith("token '" + role.word() + "-token' has role "
                        + role.word()), error.toString());
            }
        }
    }

    @Test
    void theTableNamesTheRolesTheIssueGives() {
        for (ApiRoute route : routes()) {
            String name = route.method().text() + " " + route.path();
            ApiRole expected = switch (name) {
                case "POST /start", "POST /stop" -> ApiRole.OPERATOR;
                case "DELETE /workers/{id}", "POST /workers/{id}/drain", "POST /workers/{id}/resume" -> ApiRole.ADMIN;
                default -> ApiRole.VIEWER;
            };
            assertEquals(expected, route.role(), name);
        }
    }

    @Test
    void everyAuditedRouteIsARouteOfTheTable() {
        List<String> table = routes().stream().map(r -> r.method().text() + " " + r.path()).toList();
        for (String audited : HttpAudit.EVENTS.keySet()) {
            assertTrue(table.contains(audited), audited + " is audited but not in the table " + table);
        }
    }

    @Test
    void unknownRoutesAndWrongMethodsNeedAToken() throws Exception {
        assertRefused(get(secured, "/nothing/here", null), 401, "missing token");
        assertRefused(send(secured, "PUT", "/workers", null), 401, "missing token");
        String viewer = "Bearer " + TOKENS.get(ApiRole.VIEWER.ordinal());
        assertRefused(get(secured, "/nothing/here", viewer), 404, "no route for GET /nothing/here");
        assertRefused(send(secured, "PUT", "/workers", viewer), 405, "method PUT is not allowed");
        assertRefused(get(secured, "/observe/metrics", null), 401, "missing token");
        assertRefused(get(secured, "/openapi", null), 401, "missing token");
    }

    @Test
    void healthAndTheDashboardsFilesAreOpen() throws Exception {
        assertEquals(204, get(secured, "/observe/health/live", null).statusCode());
        assertEquals(204, get(secured, "/observe/health/ready", null).statusCode());
        assertEquals(204, get(secured, "/observe/health", null).statusCode());
        // The dashboard's files need no token (the page asks for one when the API answers 401)...
        assertEquals(200, get(secured, "/ui", null).statusCode());
        assertEquals(200, get(secured, "/ui/app.js", null).statusCode());
        // ...and a path below /ui that is none of them is a 404, not a 401.
        assertRefused(get(secured, "/ui/nothing.js", null), 404, "no route");
    }

    @Test
    void anOpenPathDoesNotOpenARouteBehindIt() throws Exception {
        for (String path : List.of("/ui/../workers", "/ui/%2e%2e/workers", "/observe/health/../../workers",
                "/ui/..%2fworkers")) {
            HttpResponse<String> response = get(secured, path, null);
            assertNotEquals(200, response.statusCode(), path + ": " + response.body());
        }
    }

    @Test
    void aTokenRevokedInTheFileIsRefusedWithoutARestart() throws Exception {
        String token = ApiToken.generate();
        TokenTable before = TokenTable.read(tokensFile);
        Files.writeString(tokensFile, before.with(new TokenTable.Entry("short-lived", ApiRole.VIEWER,
                ApiToken.sha256(token))).toToml());
        awaitStatus("/workers", "Bearer " + token, 200);
        Files.writeString(tokensFile, before.toToml());
        awaitStatus("/workers", "Bearer " + token, 401);
        assertEquals(200, get(secured, "/workers", "Bearer " + TOKENS.get(ApiRole.VIEWER.ordinal())).statusCode());
    }

    @Test
    void aHalfWrittenTokensFileKeepsThePreviousTable() throws Exception {
        CountDownLatch warned = new CountDownLatch(1);
        List<String> warnings = new ArrayList<>();
        Logger logger = Logger.getLogger(TokenFile.class.getName());
        Handler handler = new Handler() {
            @Override
            public void publish(LogRecord record) {
                if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
                    warnings.add(record.getMessage());
                    warned.countDown();
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        logger.addHandler(handler);
        String whole = Files.readString(tokensFile);
        try {
            String newcomer = ApiToken.generate();
            String grown = TokenTable.read(tokensFile)
                    .with(new TokenTable.Entry("newcomer", ApiRole.ADMIN, ApiToken.sha256(newcomer))).toToml();
            // Cut inside the new entry's sha256 string: what a reader sees mid-write.
            Files.writeString(tokensFile, grown.substring(0, grown.length() - 20));
            Instant deadline = Instant.now().plusSeconds(30);
            while (warned.getCount() > 0) {
                // Each request lets the scheduler look at the file (at most once a second).
                get(secured, "/workers", "Bearer " + TOKENS.get(ApiRole.VIEWER.ordinal()));
                warned.await(100, TimeUnit.MILLISECONDS);
                assertTrue(Instant.now().isBefore(deadline), "no warning about the half-written file");
            }
            assertEquals(1, warnings.size(), warnings.toString());
            assertTrue(warnings.getFirst().contains("keeping the previous 3 token(s)"), warnings.getFirst());
            for (String token : TOKENS) {
                assertEquals(200, get(secured, "/workers", "Bearer " + token).statusCode());
            }
            assertEquals(401, get(secured, "/workers", "Bearer " + newcomer).statusCode());
        } finally {
            logger.removeHandler(handler);
            Files.writeString(tokensFile, whole);
        }
    }

    /** Polls until {@code path} answers {@code status} (the file is looked at once a second). */
    private static void awaitStatus(String path, String authorization, int status) throws Exception {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(30));
        HttpResponse<String> last;
        do {
            last = get(secured, path, authorization);
            if (last.statusCode() == status) {
                return;
            }
            Thread.sleep(50); // polling a file-driven change; not synchronisation of our own threads
        } while (Instant.now().isBefore(deadline));
        throw new AssertionError("expected " + status + " within 30 s, last " + last.statusCode() + " " + last.body());
    }

    private static JsonNode assertRefused(HttpResponse<String> response, int status, String says) throws IOException {
        assertEquals(status, response.statusCode(), response.body());
        assertEquals("application/json", response.headers().firstValue("Content-Type").orElseThrow());
        JsonNode body = JSON.readTree(response.body());
        assertTrue(body.get("error").asText().contains(says), body.toString());
        assertFalse(response.body().contains("jst_"), "a token in an answer: " + response.body());
        return body;
    }

    private static HttpResponse<String> send(SchedulerServer server, ApiRoute route, String authorization)
            throws Exception {
        return send(server, route.method().text(), route.path().replaceAll("\\{[^}]+}", PARAMETER), authorization);
    }

    private static HttpResponse<String> get(SchedulerServer server, String path, String authorization)
            throws Exception {
        return send(server, "GET", path, authorization);
    }

    private static HttpResponse<String> send(SchedulerServer server, String method, String path, String authorization)
            throws Exception {
        boolean body = method.equals("POST") || method.equals("PUT");
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.httpPort() + path))
                .timeout(Duration.ofSeconds(30))
                .method(method, body ? HttpRequest.BodyPublishers.ofString("{}") : HttpRequest.BodyPublishers.noBody());
        if (body) {
            request.header("Content-Type", "application/json");
        }
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
