package io.jobscheduler.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import io.jobscheduler.scheduler.http.RawHttp;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code [http_server] header_timeout} and {@code idle_timeout} end to end, set short through the
 * environment: slow and idle HTTP clients are cut, while the scheduler's gRPC side (the worker's
 * registration, its watch stream) and long HTTP answers are not touched.
 */
class HttpTimeoutsIT {
    private static final Duration HEADER_TIMEOUT = Duration.ofSeconds(1);
    private static final Duration IDLE_TIMEOUT = Duration.ofSeconds(2);

    @TempDir
    static Path dir;
    static Cluster cluster;
    static String worker;

    @RegisterExtension
    final TestWatcher logs = Cluster.logsOnFailure(() -> cluster);

    @BeforeAll
    static void startCluster() {
        cluster = Cluster.start(dir, 1, Map.of(
                "JOBSCHEDULER_HTTP_SERVER_HEADER_TIMEOUT", HEADER_TIMEOUT.toMillis() + "ms",
                "JOBSCHEDULER_HTTP_SERVER_IDLE_TIMEOUT", IDLE_TIMEOUT.toMillis() + "ms"), Map.of());
        worker = cluster.workerId(0);
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aRequestWhoseHeadersDoNotArriveInTimeIs408JsonAndClosed() throws Exception {
        try (Socket socket = RawHttp.connect(cluster.httpPort())) {
            socket.getOutputStream().write("GET /workers HTTP/1.1\r\nHost: x\r\nX-Slow: 1".getBytes(StandardCharsets.US_ASCII));
            RawHttp.Response response = RawHttp.read(socket.getInputStream());

            assertEquals(408, response.status(), response.toString());
            assertEquals("application/json", response.header("Content-Type"));
            assertEquals("{\"error\":\"request headers did not arrive within the header timeout\"}\n", response.body());
            assertTrue(RawHttp.closedByServer(socket));
        }
    }

    @Test
    void anIdleKeepAliveConnectionIsClosedAndTheWorkerStaysRegisteredAndAlive() throws Exception {
        JsonNode before = workerEntry();
        try (Socket socket = RawHttp.connect(cluster.httpPort())) {
            socket.getOutputStream().write("GET /workers HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertEquals(200, RawHttp.read(socket.getInputStream()).status());
            long started = System.nanoTime();

            assertTrue(RawHttp.closedByServer(socket), "closed within the read timeout");
            // The server's wait began as it sent the answer, a little before this client had read it.
            assertTrue(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started) >= IDLE_TIMEOUT.toMillis() / 2);
        }
        // Several idle periods later the worker is the same registration, alive, heard from all along.
        Cluster.await("two more idle periods", Duration.ofSeconds(30), () -> {
            JsonNode now = workerEntry();
            return java.time.Instant.parse(now.get("last_seen").asText())
                    .isAfter(java.time.Instant.parse(before.get("last_seen").asText()).plus(IDLE_TIMEOUT.multipliedBy(2)));
        });
        JsonNode after = workerEntry();
        assertEquals("alive", after.get("state").asText(), after.toString());
        // A worker that lost its registration would register anew, with a new time.
        assertEquals(before.get("registered_at"), after.get("registered_at"));
    }

    @Test
    void aFollowThatOutlastsTheIdleTimeoutKeepsStreaming() throws Exception {
        // Silent for longer than the idle timeout between two lines: the answer is what is slow, not the client.
        Files.writeString(cluster.workDir().resolve("pause.sh"), "echo first\nsleep 3\necho second\n");
        String jobId = cluster.startJob(worker, "bash", "pause.sh");
        HttpResponse<InputStream> follow = cluster.http().send(HttpRequest.newBuilder(cluster.uri("/jobs/" + jobId + "/output"))
                .timeout(Cluster.REQUEST_TIMEOUT).build(), HttpResponse.BodyHandlers.ofInputStream());

        assertEquals(200, follow.statusCode());
        try (InputStream body = follow.body()) {
            assertEquals("first\nsecond\n", new String(body.readAllBytes(), StandardCharsets.UTF_8));
        }
    }

    @Test
    void anUploadStalledForTheIdleTimeoutIsClosed() throws IOException {
        try (Socket socket = RawHttp.connect(cluster.httpPort())) {
            socket.getOutputStream().write("POST /query HTTP/1.1\r\nHost: x\r\nContent-Length: 30\r\n\r\n{\"jo"
                    .getBytes(StandardCharsets.US_ASCII));
            assertTrue(RawHttp.closedByServer(socket), "a body stalled for the idle timeout is closed");
        }
    }

    private static JsonNode workerEntry() {
        return cluster.get("/workers/" + worker).json();
    }
}
