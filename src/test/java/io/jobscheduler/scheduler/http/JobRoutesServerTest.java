package io.jobscheduler.scheduler.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.helidon.http.HeaderNames;
import io.helidon.common.media.type.MediaTypes;
import io.helidon.webclient.http1.Http1Client;
import io.helidon.webclient.http1.Http1ClientResponse;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpRoute;
import io.jobscheduler.config.Address;
import io.jobscheduler.config.SchedulerSettings;
import io.jobscheduler.grpc.QueryJobReq;
import io.jobscheduler.grpc.QueryJobRes;
import io.jobscheduler.grpc.StartJobReq;
import io.jobscheduler.grpc.StartJobRes;
import io.jobscheduler.grpc.WorkerGrpc;
import io.jobscheduler.scheduler.SchedulerCore;
import io.jobscheduler.scheduler.TestServers;
import io.jobscheduler.scheduler.WorkerRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The job routes and the one mapping of the scheduler's failures to statuses, served in-JVM by
 * Helidon's test extension through the production routing ({@link SchedulerHttp#routing}) over
 * a {@link SchedulerCore}, against a gRPC worker in the test JVM that refuses each start with
 * the status its command names.
 */
@ServerTest
class JobRoutesServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Server WORKER = refusingWorker();
    private static final SchedulerCore CORE = SchedulerCore.create(shortCalls(), Clock.systemUTC(),
            WorkerRegistry.Listener.NONE);
    private static final UUID WORKER_ID = CORE.registry()
            .register(new Address("127.0.0.1", WORKER.getPort()), null, List.of()).id();

    private final Http1Client client;

    JobRoutesServerTest(Http1Client client) {
        this.client = client;
    }

    @SetUpRoute
    static void routing(HttpRouting.Builder routing) {
        SchedulerHttp.routing(routing, CORE.registry(), CORE.gateway(), new Readiness());
    }

    @AfterAll
    static void stop() throws InterruptedException {
        CORE.close();
        WORKER.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    /** Calls time out after 300 ms, so a worker that never answers is a quick 504. */
    private static SchedulerSettings shortCalls() {
        SchedulerSettings base = TestServers.plaintext();
        return new SchedulerSettings(base.httpAddress(), base.grpcAddress(), base.grpcTls(), base.workerTls(),
                Duration.ofMillis(300), base.stopTimeout(), base.drainTimeout(), base.workerTtl(), base.workerExpiry(),
                base.jobIndexSize(), base.headerTimeout(), base.idleTimeout());
    }

    /** StartJob: command "ok" starts job "ok-job", "never" never answers, any other is the gRPC status of that name. */
    private static Server refusingWorker() {
        try {
            return Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create())
                    .addService(new WorkerGrpc.WorkerImplBase() {
                        @Override
                        public void startJob(StartJobReq request, StreamObserver<StartJobRes> response) {
                            switch (request.getCommand()) {
                                case "ok" -> {
                                    response.onNext(StartJobRes.newBuilder().setJobID("ok-job").build());
                                    response.onCompleted();
                                }
                                case "never" -> {
                                    // Holds the call until the scheduler's deadline cancels it.
                                }
                                default -> response.onError(Status.fromCode(Status.Code.valueOf(request.getCommand()))
                                        .withDescription("refused for the test").asRuntimeException());
                            }
                        }

                        @Override
                        public void queryJob(QueryJobReq request, StreamObserver<QueryJobRes> response) {
                            response.onError(Status.NOT_FOUND.withDescription("no such job").asRuntimeException());
                        }
                    })
                    .build().start();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Http1ClientResponse start(String workerId, String command) {
        return client.post("/start").contentType(MediaTypes.APPLICATION_JSON)
                .submit("{\"worker_id\":\"" + workerId + "\",\"command\":\"" + command + "\"}");
    }

    private static JsonNode error(Http1ClientResponse response, int status) throws IOException {
        assertEquals(status, response.status().code());
        assertEquals("application/json", response.headers().contentType().orElseThrow().mediaType().text());
        JsonNode body = JSON.readTree(response.as(String.class));
        assertTrue(body.get("error").isTextual(), body.toString());
        return body;
    }

    @ParameterizedTest
    @CsvSource({"INVALID_ARGUMENT, 400", "FAILED_PRECONDITION, 422", "UNIMPLEMENTED, 501", "UNAVAILABLE, 503",
            "RESOURCE_EXHAUSTED, 503", "INTERNAL, 502", "PERMISSION_DENIED, 403", "never, 504"})
    void eachRefusalOfTheWorkerHasItsStatusAndNamesTheWorker(String command, int status) throws IOException {
        try (Http1ClientResponse response = start(WORKER_ID.toString(), command)) {
            JsonNode body = error(response, status);
            assertTrue(body.get("error").asText().contains(WORKER_ID.toString()), body.toString());
            assertEquals(command.equals("RESOURCE_EXHAUSTED"), response.headers().contains(HeaderNames.RETRY_AFTER));
            if (command.equals("RESOURCE_EXHAUSTED")) {
                assertEquals("5", response.headers().get(HeaderNames.RETRY_AFTER).get());
            }
        }
    }

    @Test
    void aStartOnAWorkerThatIsNotRegisteredIs404() throws IOException {
        UUID unknown = UUID.randomUUID();
        try (Http1ClientResponse response = start(unknown.toString(), "ok")) {
            assertEquals("worker '" + unknown + "' is not registered", error(response, 404).get("error").asText());
        }
    }

    @Test
    void aStartedJobIsListedAndAJobTheWorkerDoesNotKnowIs404() throws IOException {
        try (Http1ClientResponse response = start(WORKER_ID.toString(), "ok")) {
            assertEquals(201, response.status().code());
        }
        try (Http1ClientResponse response = client.get("/jobs").request()) {
            JsonNode jobs = JSON.readTree(response.as(String.class)).get("jobs");
            assertEquals("ok-job", jobs.get(0).get("job_id").asText());
            assertEquals("ok", jobs.get(0).get("command").asText());
        }
        try (Http1ClientResponse response = client.get("/jobs/missing").queryParam("worker_id", WORKER_ID.toString())
                .request()) {
            assertFalse(error(response, 404).get("error").asText().isEmpty());
        }
    }

    @Test
    void aCursorTheSchedulerDidNotMakeIs400() throws IOException {
        try (Http1ClientResponse response = client.get("/jobs").queryParam("next", "garbage").request()) {
            assertEquals("query parameter next: 'garbage' is not a cursor from GET /jobs",
                    error(response, 400).get("error").asText());
        }
    }

    /**
     * {@code GET /jobs} with {@code query} ("a=1&a=2&b=3") given through the client, which replaces
     * a parameter named again, so each name's values go in one call.
     */
    private Http1ClientResponse jobs(String query) {
        Map<String, List<String>> parameters = new LinkedHashMap<>();
        for (String parameter : query.split("&")) {
            int equals = parameter.indexOf('=');
            parameters.computeIfAbsent(parameter.substring(0, equals), name -> new ArrayList<>())
                    .add(parameter.substring(equals + 1));
        }
        var request = client.get("/jobs");
        parameters.forEach((name, values) -> request.queryParam(name, values.toArray(String[]::new)));
        return request.request();
    }

    private List<String> listed(String query) throws IOException {
        try (Http1ClientResponse response = jobs(query)) {
            assertEquals(200, response.status().code(), query);
            List<String> ids = new ArrayList<>();
            JSON.readTree(response.as(String.class)).get("jobs").forEach(job -> ids.add(job.get("job_id").asText()));
            return ids;
        }
    }

    @Test
    void theListFiltersByStateWorkerAndStartTimeAndCarriesTheTimes() throws IOException {
        try (Http1ClientResponse response = start(WORKER_ID.toString(), "ok")) {
            assertEquals(201, response.status().code());
        }
        try (Http1ClientResponse response = jobs("state=RUNNING&state=FAILED")) {
            JsonNode job = JSON.readTree(response.as(String.class)).get("jobs").get(0);
            assertEquals("ok-job", job.get("job_id").asText());
            assertTrue(Instant.parse(job.get("started_at").asText()).isAfter(Instant.EPOCH), job.toString());
            assertTrue(job.get("finished_at").isNull(), job.toString());
            assertTrue(job.get("exit_code").isNull(), job.toString());
        }
        assertEquals(List.of(), listed("state=SUCCEEDED"));
        assertEquals(List.of("ok-job"), listed("worker_id=" + WORKER_ID));
        assertEquals(List.of(), listed("worker_id=" + UUID.randomUUID()));
        assertEquals(List.of("ok-job"), listed("since=2000-01-01T00:00:00Z&until=2999-01-01T00:00:00Z"));
        assertEquals(List.of(), listed("since=2999-01-01T00:00:00Z"));
        assertEquals(List.of(), listed("until=2000-01-01T00:00:00Z"));
        assertEquals(List.of("ok-job"), listed("state=RUNNING&worker_id=" + WORKER_ID + "&since=2000-01-01T00:00:00Z&limit=1"));
    }

    @Test
    void aMalformedFilterIs400NamingItsParameter() throws IOException {
        for (String query : List.of("state=DONE", "since=yesterday", "until=2026-12-01", "worker_id=nope")) {
            String name = query.substring(0, query.indexOf('='));
            try (Http1ClientResponse response = jobs(query)) {
                String message = error(response, 400).get("error").asText();
                assertTrue(message.contains(name), message);
            }
        }
        try (Http1ClientResponse response = jobs("since=2000-01-01T00:00:00Z&since=2001-01-01T00:00:00Z")) {
            assertEquals("query parameter 'since' is given more than once", error(response, 400).get("error").asText());
        }
    }
}
