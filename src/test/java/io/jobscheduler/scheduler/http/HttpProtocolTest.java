package io.jobscheduler.scheduler.http;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jobscheduler.config.SchedulerSettings;
import io.jobscheduler.scheduler.SchedulerServer;
import io.jobscheduler.scheduler.TestServers;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The raw-socket protocol suite: malformed request lines, versions, URL and header sizes,
 * smuggling shapes and partial requests, each answered with a status and a JSON body, or closed
 * as api.md documents ("Protocol"). A real scheduler on a free port, with short header and idle
 * timeouts so the partial-request cases take about a second.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class HttpProtocolTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration HEADER_TIMEOUT = Duration.ofMillis(800);
    private static final Duration IDLE_TIMEOUT = Duration.ofSeconds(2);
    private static SchedulerServer server;

    @BeforeAll
    static void start() {
        SchedulerSettings s = TestServers.plaintext();
        server = SchedulerServer.start(new SchedulerSettings(s.httpAddress(), s.grpcAddress(), s.grpcTls(), s.workerTls(),
                s.callTimeout(), s.stopTimeout(), s.drainTimeout(), s.workerTtl(), s.workerExpiry(), s.jobIndexSize(),
                HEADER_TIMEOUT, IDLE_TIMEOUT));
    }

    @AfterAll
    static void stop() {
        server.close();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            // request line
            "`GET /workers HTTP/9.9\\r\\nHost: x\\r\\n\\r\\n`            | 505",
            "`GET /workers HTTP/2.0\\r\\nHost: x\\r\\n\\r\\n`            | 505",
            "`GET /workers FOO/1.1\\r\\nHost: x\\r\\n\\r\\n`             | 400",
            "`GET /workers http/1.1\\r\\nHost: x\\r\\n\\r\\n`            | 400",
            "`G@T /workers HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n`            | 400",
            "`GET  /workers HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n`           | 400",
            "`GET /workers\\r\\nHost: x\\r\\n\\r\\n`                     | 400",
            "` GET /workers HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n`           | 400",
            "`\\r\\nGET /workers HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n`      | 400",
            "`GET /wor\\u0001kers HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n`     | 400",
            "`GET /%zz HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n`                | 400",
            "`GET /workers?a=%zz HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n`      | 400",
            // line ends
            "`GET /workers HTTP/1.1\\nHost: x\\n\\n`                     | 400",
            "`GET /workers HTTP/1.1\\r\\nHost: x\\n\\r\\n`               | 400",
            "`GET /workers HTTP/1.1\\rHost: x\\r\\n\\r\\n`               | 400",
            // headers
            "`GET /workers HTTP/1.1\\r\\n\\r\\n`                         | 400",
            "`GET /workers HTTP/1.1\\r\\nHost: x\\r\\nHost: y\\r\\n\\r\\n` | 400",
            "`GET /workers HTTP/1.1\\r\\nHost: x\\r\\nNo-Colon\\r\\n\\r\\n` | 400",
            "`GET /workers HTTP/1.1\\r\\nHost: x\\r\\nX: a\\r\\n  folded\\r\\n\\r\\n` | 400",
            "`GET /workers HTTP/1.1\\r\\nHost : x\\r\\n\\r\\n`           | 400",
            "`GET /workers HTTP/1.1\\r\\nHost: x\\r\\nX: a\\u0000b\\r\\n\\r\\n` | 400",
            // framing and smuggling shapes
            "`POST /query HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 2\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n0\\r\\n\\r\\n` | 400",
            "`POST /query HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\nContent-Length: 2\\r\\n\\r\\n{}` | 400",
            "`POST /query HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 2\\r\\nContent-Length: 3\\r\\n\\r\\n{}` | 400",
            "`POST /query HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 2, 2\\r\\n\\r\\n{}` | 400",
            "`POST /query HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: -1\\r\\n\\r\\n`  | 400",
            "`POST /query HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: abc\\r\\n\\r\\n` | 400",
            "`POST /query HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: identity\\r\\n\\r\\n` | 400",
            "`POST /query HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: gzip, chunked\\r\\n\\r\\n0\\r\\n\\r\\n` | 501",
            "`POST /query HTTP/1.1\\r\\nHost: x\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\nzz\\r\\n` | 400",
            "`POST /query HTTP/1.1\\r\\nHost: x\\r\\nContent-Type: application/json\\r\\nContent-Length: 1048577\\r\\n\\r\\n{` | 413",
            // well-formed requests the API refuses
            "`GET /workers/ HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n` | 404",
            "`GET /workers?state=x HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n` | 400",
            "`BREW /workers HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n` | 405",
    })
    void aMalformedOrRefusedRequestIsAnsweredWithAStatusAndJson(String request, int status) throws Exception {
        RawHttp.Response response = RawHttp.send(server.httpPort(), unescape(request));

        assertJsonError(response, status);
    }

    @Test
    void aUrlOf20000CharactersIs414() throws Exception {
        RawHttp.Response response = RawHttp.send(server.httpPort(),
                "GET /workers?" + "a".repeat(20_000) + " HTTP/1.1\r\nHost: x\r\n\r\n");

        assertJsonError(response, 414);
        assertEquals("request line is longer than 4096 bytes", error(response));
    }

    @Test
    void aUrlOf20000CharactersIs414AlsoAfterAnotherRequestOnTheConnection() throws Exception {
        try (Socket socket = RawHttp.connect(server.httpPort())) {
            OutputStream out = socket.getOutputStream();
            out.write("GET /workers HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertEquals(200, RawHttp.read(socket.getInputStream()).status());
            out.write(("GET /workers?" + "a".repeat(20_000) + " HTTP/1.1\r\nHost: x\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            assertJsonError(RawHttp.read(socket.getInputStream()), 414);
        }
    }

    /**
     * Documents a limit (api.md, "Protocol"; docs/helidon-notes.md, "HTTP/1 request heads"): only
     * a connection's first request line is checked before Helidon, whose own parser judges the
     * later ones. Each answer is still JSON and closes the connection.
     */
    @ParameterizedTest(name = "{0} after a first request -> {1}")
    @CsvSource({"G@T /workers HTTP/1.1, 500", "GET /workers HTTP/9.9, 400", "GET /workers HTTP/1.0, 505"})
    void onALaterRequestOfAConnectionHelidonJudgesTheRequestLine(String line, int status) throws Exception {
        try (Socket socket = RawHttp.connect(server.httpPort())) {
            OutputStream out = socket.getOutputStream();
            out.write("GET /workers HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertEquals(200, RawHttp.read(socket.getInputStream()).status());
            out.write((line + "\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));

            assertJsonError(RawHttp.read(socket.getInputStream()), status);
            assertTrue(RawHttp.closedByServer(socket));
        }
    }

    @Test
    void http10WithoutHostIsServedAndTheConnectionCloses() throws Exception {
        try (Socket socket = RawHttp.connect(server.httpPort())) {
            socket.getOutputStream().write("GET /workers HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            RawHttp.Response response = RawHttp.read(socket.getInputStream());

            assertEquals(200, response.status(), response.toString());
            assertEquals("{\"workers\":[]}\n", response.body());
            assertEquals("close", response.header("Connection"));
            assertClosedAtOnce(socket);
        }
    }

    @Test
    void aRequestAskingForCloseIsAnsweredAndTheConnectionClosesAtOnce() throws Exception {
        try (Socket socket = RawHttp.connect(server.httpPort())) {
            socket.getOutputStream().write("GET /workers HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            RawHttp.Response response = RawHttp.read(socket.getInputStream());

            assertEquals(200, response.status(), response.toString());
            assertEquals("close", response.header("Connection"));
            assertClosedAtOnce(socket);
        }
    }

    /**
     * The server ends the connection after its answer, not at the idle timeout: a client that
     * reads to the end of the stream gets it then.
     */
    private static void assertClosedAtOnce(Socket socket) throws IOException {
        long started = System.nanoTime();
        assertTrue(RawHttp.closedByServer(socket), "the server closes the connection after its answer");
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        assertTrue(took.compareTo(IDLE_TIMEOUT) < 0, "closed after " + took + ", at the idle timeout, not after the answer");
    }

    @Test
    void http10AskingForKeepAliveStillCloses() throws Exception {
        try (Socket socket = RawHttp.connect(server.httpPort())) {
            socket.getOutputStream().write("GET /workers HTTP/1.0\r\nHost: x\r\nConnection: keep-alive\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII));
            assertEquals(200, RawHttp.read(socket.getInputStream()).status());
            assertClosedAtOnce(socket);
        }
    }

    @Test
    void http10WithABodyIsServed() throws Exception {
        RawHttp.Response response = RawHttp.send(server.httpPort(),
                "POST /query HTTP/1.0\r\nContent-Length: 14\r\n\r\n{\"job_id\":\"x\"}");

        assertJsonError(response, 404);
        assertEquals("unknown job 'x'", error(response));
    }

    @Test
    void aHeadThatDoesNotArriveInTimeIs408AndClosed() throws Exception {
        try (Socket socket = RawHttp.connect(server.httpPort())) {
            socket.getOutputStream().write("GET /workers HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
            RawHttp.Response response = RawHttp.read(socket.getInputStream());

            assertJsonError(response, 408);
            assertEquals("close", response.header("Connection"));
            assertTrue(RawHttp.closedByServer(socket));
        }
    }

    @Test
    void aHeadTricklingInByteByByteIsCutAtTheHeaderTimeout() throws Exception {
        try (Socket socket = RawHttp.connect(server.httpPort())) {
            OutputStream out = socket.getOutputStream();
            long started = System.nanoTime();
            byte[] endless = "GET /workers HTTP/1.1\r\nX-Slow: ".getBytes(StandardCharsets.US_ASCII);
            int sent = 0;
            // Each byte comes well within the timeout; the head as a whole does not.
            while (!Thread.currentThread().isInterrupted()) {
                try {
                    out.write(sent < endless.length ? endless[sent] : 'a');
                    out.flush();
                } catch (IOException e) {
                    break; // the server closed the connection
                }
                sent++;
                if (socket.getInputStream().available() > 0) {
                    break;
                }
                Thread.sleep(50); // the client's pace, the very thing under test
                if (System.nanoTime() - started > TimeUnit.SECONDS.toNanos(30)) {
                    throw new AssertionError("still open after 30 s");
                }
            }
            assertJsonError(RawHttp.read(socket.getInputStream()), 408);
        }
    }

    @Test
    void aStalledBodyIsClosedAfterTheIdleTimeout() throws Exception {
        try (Socket socket = RawHttp.connect(server.httpPort())) {
            socket.getOutputStream().write("POST /query HTTP/1.1\r\nHost: x\r\nContent-Length: 20\r\n\r\n{\"job"
                    .getBytes(StandardCharsets.US_ASCII));
            assertTrue(RawHttp.closedByServer(socket), "closed within the read timeout");
        }
    }

    @Test
    void anIdleKeepAliveConnectionIsClosedAfterTheIdleTimeout() throws Exception {
        try (Socket socket = RawHttp.connect(server.httpPort())) {
            socket.getOutputStream().write("GET /workers HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            assertEquals(200, RawHttp.read(socket.getInputStream()).status());
            long started = System.nanoTime();

            assertTrue(RawHttp.closedByServer(socket), "closed within the read timeout");
            long waited = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            // The server's wait began as it sent the answer, a little before this client had read it.
            assertTrue(waited >= IDLE_TIMEOUT.toMillis() / 2, "not long before the idle timeout: " + waited + " ms");
        }
    }

    @Test
    void aConnectionThatSendsNothingIsClosedAfterTheIdleTimeout() throws Exception {
        try (Socket socket = RawHttp.connect(server.httpPort())) {
            assertTrue(RawHttp.closedByServer(socket), "closed within the read timeout");
        }
    }

    @Test
    void aClientThatLeavesMidHeadLeavesTheServerServing() throws Exception {
        for (int i = 0; i < 20; i++) {
            try (Socket socket = RawHttp.connect(server.httpPort())) {
                socket.getOutputStream().write("GET /workers HTTP/1.1\r\nHo".getBytes(StandardCharsets.US_ASCII));
            }
        }
        assertEquals(200, RawHttp.send(server.httpPort(), "GET /workers HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .status());
    }

    @Test
    void keepAliveStillServesManyRequestsOnOneConnection() throws Exception {
        try (Socket socket = RawHttp.connect(server.httpPort())) {
            for (int i = 0; i < 50; i++) {
                socket.getOutputStream().write("GET /workers HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                assertEquals(200, RawHttp.read(socket.getInputStream()).status());
            }
        }
    }

    static void assertJsonError(RawHttp.Response response, int status) throws IOException {
        assertEquals(status, response.status(), response.toString());
        assertEquals("application/json", response.header("Content-Type"), response.toString());
        assertTrue(response.body().endsWith("}\n"), response.body());
        JsonNode body = JSON.readTree(response.body());
        assertTrue(body.get("error").isTextual() && !body.get("error").asText().isBlank(), response.body());
        assertEquals(1, body.size(), response.body());
    }

    private static String error(RawHttp.Response response) throws IOException {
        return JSON.readTree(response.body()).get("error").asText();
    }

    private static String unescape(String request) {
        return request.replace("\\r", "\r").replace("\\n", "\n").replace("\\u0000", "\0").replace("\\u0001", "\u0001");
    }
}
