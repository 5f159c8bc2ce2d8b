package io.jobscheduler.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The client against a scripted scheduler on a real loopback socket: what the real scheduler
 * does only when it fails (a cut event stream) and what needs no cluster (tokens, usage).
 */
class CliTest {
    private static final String TWO_WORKERS = """
            {"workers":[{"id":"11111111-1111-1111-1111-111111111111","address":"127.0.0.1:1","state":"alive","running_jobs":0},
                        {"id":"22222222-2222-2222-2222-222222222222","address":"127.0.0.1:2","state":"alive","running_jobs":0}]}
            """;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private FakeScheduler scheduler;

    @AfterEach
    void stop() throws IOException {
        if (scheduler != null) {
            scheduler.close();
        }
    }

    @Test
    void aCutEventStreamIsReportedTheStateIsStillAskedForAndTheStatusIs125() throws IOException {
        scheduler = new FakeScheduler(request -> request.startsWith("GET /jobs/j1/events")
                ? events("event: state\nid: 0\ndata: {\"job_id\":\"j1\",\"state\":\"RUNNING\"}\n\n"
                        + "event: output\nid: 5\ndata: aGVsbG8=\n\n")
                : json(200, "{\"job_id\":\"j1\",\"done\":true,\"state\":\"SUCCEEDED\",\"exit_code\":0,\"signal\":null}"));
        int status = run(Map.of(), "logs", "-f", "j1", "--server", scheduler.url());
        assertEquals(125, status, stderr());
        assertEquals("hello", out.toString(StandardCharsets.ISO_8859_1));
        assertTrue(stderr().contains("the output of job j1 was cut off after 5 bytes"), stderr());
        assertTrue(stderr().contains("job j1 is SUCCEEDED (exit 0)"), stderr());
        assertTrue(scheduler.requests().stream().anyMatch(r -> r.startsWith("POST /query ")), scheduler.requests().toString());
    }

    @Test
    void theEndEventSaysTheExitStatusAndTheOutputIsTheDecodedBytes() throws IOException {
        scheduler = new FakeScheduler(request -> request.startsWith("GET /jobs/j1/events")
                ? events(": keep-alive\n\nevent: state\nid: 0\ndata: {\"job_id\":\"j1\",\"state\":\"RUNNING\"}\n\n"
                        + "event: output\nid: 3\ndata: AP/+\n\n"
                        + "event: end\nid: 3\ndata: {\"job_id\":\"j1\",\"done\":true,\"state\":\"FAILED\",\"exit_code\":7}\n\n")
                        + "0\r\n\r\n"
                : json(500, "{\"error\":\"no other call is needed\"}"));
        assertEquals(7, run(Map.of(), "logs", "-f", "j1", "--server", scheduler.url()), stderr());
        assertEquals(List.of(0, 255, 254), out.toString(StandardCharsets.ISO_8859_1).chars().boxed().toList());
        assertEquals(1, scheduler.requests().size(), scheduler.requests().toString());
    }

    @Test
    void outputWhoseOffsetDoesNotFollowOnIsAnErrorNotSilentlyWrongBytes() throws IOException {
        scheduler = new FakeScheduler(request -> events("event: output\nid: 5\ndata: aGVsbG8=\n\n"
                + "event: output\nid: 12\ndata: aGk=\n\n") + "0\r\n\r\n");
        assertEquals(125, run(Map.of(), "logs", "-f", "j1", "--server", scheduler.url()), stderr());
        assertEquals("hello", out.toString(StandardCharsets.ISO_8859_1));
        assertTrue(stderr().contains("output ending at byte 12 after 5 bytes and a chunk of 2"), stderr());
    }

    @Test
    void aStreamCutBecauseTheWorkerIsLostExitsWith69() throws IOException {
        scheduler = new FakeScheduler(request -> request.startsWith("GET /jobs/j1/events")
                ? events("event: output\nid: 2\ndata: aGk=\n\n")
                : json(200, "{\"job_id\":\"j1\",\"done\":true,\"error\":true,\"error_text\":\"worker lost\",\"state\":\"LOST\"}"));
        assertEquals(69, run(Map.of(), "logs", "-f", "j1", "--server", scheduler.url()), stderr());
    }

    @Test
    void anEndEventSayingLostIsToldAsACutStreamAndExits69() throws IOException {
        scheduler = new FakeScheduler(request -> events("event: output\nid: 2\ndata: aGk=\n\n"
                + "event: end\nid: 2\ndata: {\"job_id\":\"j1\",\"done\":true,\"state\":\"LOST\",\"error_text\":\"worker lost\"}\n\n")
                + "0\r\n\r\n");
        assertEquals(69, run(Map.of(), "logs", "-f", "j1", "--server", scheduler.url()), stderr());
        assertEquals("jobscheduler: the output of job j1 was cut off after 2 bytes (its worker is down)\n"
                + "jobscheduler: job j1 is LOST\n", stderr());
    }

    @Test
    void anEventsRouteRefusedWith503ForALostJobExits69AndAnyOtherRefusalIs125() throws IOException {
        String[] state = {"LOST"};
        scheduler = new FakeScheduler(request -> request.startsWith("GET /jobs/j1/events")
                ? json(503, "{\"error\":\"worker w is down\"}")
                : json(200, "{\"job_id\":\"j1\",\"done\":true,\"state\":\"" + state[0] + "\"}"));
        assertEquals(69, run(Map.of(), "logs", "-f", "j1", "--server", scheduler.url()), stderr());
        assertEquals("jobscheduler: the scheduler answered 503: worker w is down\n", stderr());
        state[0] = "SUCCEEDED";
        assertEquals(125, run(Map.of(), "logs", "-f", "j1", "--server", scheduler.url()), stderr());
    }

    @Test
    void theTokenIsSentAsABearerAndNeverPrinted() throws IOException {
        scheduler = new FakeScheduler(request -> json(404, "{\"error\":\"unknown job 'j9'\"}"));
        int status = run(Map.of("JOBSCHEDULER_TOKEN", "s3cret-token", "JOBSCHEDULER_SERVER", scheduler.url()), "status", "j9");
        assertEquals(125, status);
        assertEquals("jobscheduler: the scheduler answered 404: unknown job 'j9'\n", stderr());
        assertTrue(scheduler.requests().getFirst().contains("\r\nAuthorization: Bearer s3cret-token\r\n"), scheduler.requests().toString());
        assertFalse(stderr().contains("s3cret") || out.toString().contains("s3cret"));
    }

    @Test
    void aTokenThatCannotBeAHeaderIsAUsageErrorThatDoesNotShowIt() {
        assertEquals(2, run(Map.of("JOBSCHEDULER_TOKEN", "s3cret\r\nX: y"), "workers"));
        assertTrue(stderr().contains("JOBSCHEDULER_TOKEN must be printable ASCII"), stderr());
        assertFalse(stderr().contains("s3cret"));
    }

    @Test
    void runWithoutWorkerSendsNoneWithItsConstraintsAndFollowsAQueuedJobToItsEnd() throws IOException {
        scheduler = new FakeScheduler(request -> request.startsWith("POST /start")
                ? json(202, "{\"job_id\":\"q1\",\"worker_id\":null,\"state\":\"QUEUED\"}")
                : request.startsWith("GET /jobs/q1/events")
                ? events("event: state\nid: 0\ndata: {\"job_id\":\"q1\",\"worker_id\":null,\"state\":\"QUEUED\"}\n\n"
                        + "event: state\nid: 0\ndata: {\"job_id\":\"q1\",\"worker_id\":\"w\",\"state\":\"RUNNING\"}\n\n"
                        + "event: output\nid: 3\ndata: aGkK\n\n"
                        + "event: end\nid: 3\ndata: {\"job_id\":\"q1\",\"done\":true,\"state\":\"FAILED\",\"exit_code\":3}\n\n")
                        + "0\r\n\r\n"
                : json(500, "{\"error\":\"no other call is needed\"}"));
        Context terminal = new Context(Map.of(), new PrintStream(out, true), new PrintStream(err, true, StandardCharsets.UTF_8),
                true);
        assertEquals(3, Cli.commandLine(terminal).execute("run", "--server", scheduler.url(), "--constraint", "zone=a",
                "--constraint", "gpu=!none", "--", "make", "all"), stderr());
        assertEquals("hi\n", out.toString());
        assertTrue(stderr().contains("job q1 is queued"), stderr());
        assertTrue(stderr().contains("job q1 is running on worker w"), stderr());
        assertEquals(2, scheduler.requests().size(), "no worker lookup: " + scheduler.requests());
        String start = scheduler.requests().getFirst();
        assertTrue(start.endsWith("{\"command\":\"make\",\"args\":[\"all\"],"
                + "\"constraints\":{\"zone\":\"a\",\"gpu\":\"!none\"}}"), start);
        assertTrue(scheduler.requests().get(1).startsWith("GET /jobs/q1/events HTTP/1.1"), scheduler.requests().get(1));
    }

    @Test
    void startOfAQueuedJobPrintsItsId() throws IOException {
        scheduler = new FakeScheduler(request -> json(202, "{\"job_id\":\"q2\",\"worker_id\":null,\"state\":\"QUEUED\"}"));
        assertEquals(0, run(Map.of(), "start", "--server", scheduler.url(), "--constraint", "disk=!ssd", "--", "true"),
                stderr());
        assertEquals("q2\n", out.toString());
        assertTrue(scheduler.requests().getFirst().endsWith("{\"command\":\"true\",\"constraints\":{\"disk\":\"!ssd\"}}"),
                scheduler.requests().getFirst());
    }

    @Test
    void aConstraintWithoutAnEqualsSignIsAUsageError() {
        assertEquals(2, run(Map.of(), "start", "--server", "http://127.0.0.1:1", "--constraint", "zone", "--", "true"));
        assertTrue(stderr().contains("--constraint"), stderr());
    }

    @Test
    void startSendsCommandArgsEnvAndTimeoutToTheNamedWorkerAndPrintsTheJobId() throws IOException {
        scheduler = new FakeScheduler(request -> json(201, "{\"job_id\":\"j7\",\"worker_id\":\"w\"}"));
        assertEquals(0, run(Map.of(), "start", "--server", scheduler.url() + "/", "--worker", "w", "--env", "A=1 2",
                "--env", "B=", "--timeout", "5s", "--", "bash", "x.sh", "--flag"));
        assertEquals("j7\n", out.toString());
        String request = scheduler.requests().getFirst();
        assertTrue(request.startsWith("POST /start HTTP/1.1"), request);
        assertTrue(request.endsWith("{\"worker_id\":\"w\",\"command\":\"bash\",\"args\":[\"x.sh\",\"--flag\"],"
                + "\"env\":{\"A\":\"1 2\",\"B\":\"\"},\"timeout\":\"5s\"}"), request);
    }

    @Test
    void jobsSendsItsFiltersOnEveryPage() throws IOException {
        scheduler = new FakeScheduler(request -> json(200, request.contains("next=c1")
                ? "{\"jobs\":[],\"next\":null}" : "{\"jobs\":[],\"next\":\"c1\"}"));
        assertEquals(0, run(Map.of(), "jobs", "--server", scheduler.url(), "--json", "--all", "--state", "RUNNING",
                "--state", "FAILED", "--worker", "w 1", "--limit", "5"), stderr());
        String filters = "state=RUNNING&state=FAILED&worker_id=w%201&limit=5";
        assertTrue(scheduler.requests().get(0).startsWith("GET /jobs?" + filters + " HTTP/1.1"), scheduler.requests().get(0));
        assertTrue(scheduler.requests().get(1).startsWith("GET /jobs?" + filters + "&next=c1 HTTP/1.1"),
                scheduler.requests().get(1));
    }

    @Test
    void aServerUrlWithAPathKeepsItAndTheEnvironmentNamesTheServerWhenNoFlagDoes() throws IOException {
        scheduler = new FakeScheduler(request -> json(200, TWO_WORKERS));
        assertEquals(0, run(Map.of(), "workers", "--server", scheduler.url() + "/behind/proxy/"), stderr());
        assertTrue(scheduler.requests().getFirst().startsWith("GET /behind/proxy/workers HTTP/1.1"), scheduler.requests().getFirst());
        assertEquals(0, run(Map.of("JOBSCHEDULER_SERVER", scheduler.url()), "workers"), stderr());
        assertTrue(scheduler.requests().get(1).startsWith("GET /workers HTTP/1.1"), scheduler.requests().get(1));
    }

    @Test
    void anIdIsPercentEncodedInThePath() throws IOException {
        scheduler = new FakeScheduler(request -> "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        assertEquals(0, run(Map.of(), "logs", "a b/é?", "--server", scheduler.url()), stderr());
        assertTrue(scheduler.requests().getFirst().startsWith("GET /jobs/a%20b%2F%C3%A9%3F/output?follow=false HTTP/1.1"),
                scheduler.requests().getFirst());
    }

    @Test
    void helpIsStatusZeroOnStdoutAndAnUnknownOptionIsAUsageError() {
        assertEquals(0, run(Map.of(), "jobs", "--help"));
        assertTrue(out.toString().startsWith("Usage: jobscheduler jobs"), out.toString());
        assertEquals(2, run(Map.of(), "jobs", "--nope"));
        assertTrue(stderr().startsWith("jobscheduler jobs: Unknown option: '--nope'"), stderr());
        assertEquals(2, run(Map.of(), "workers", "--server", "localhost:3000"));
        assertTrue(stderr().contains("is not an http:// or https:// URL"), stderr());
    }

    @Test
    void completionPrintsABashScriptForEveryCommand() {
        assertEquals(0, run(Map.of(), "completion"));
        String script = out.toString();
        assertTrue(script.startsWith("#!/usr/bin/env bash"), script);
        for (String command : List.of("workers", "jobs", "status", "stop", "start", "logs", "run")) {
            assertTrue(script.contains(command), command);
        }
    }

    private int run(Map<String, String> env, String... args) {
        Context context = new Context(env, new PrintStream(out, true), new PrintStream(err, true, StandardCharsets.UTF_8), false);
        return Cli.commandLine(context).execute(args);
    }

    private String stderr() {
        return err.toString(StandardCharsets.UTF_8);
    }

    private static String json(int status, String body) {
        byte[] bytes = (body + "\n").getBytes(StandardCharsets.UTF_8);
        return "HTTP/1.1 " + status + " X\r\nContent-Type: application/json\r\nContent-Length: " + bytes.length + "\r\n\r\n"
                + body + "\n";
    }

    /** The head of an event stream and {@code text} as one chunk (no final chunk: the caller adds it or not). */
    private static String events(String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        return "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
                + Integer.toHexString(bytes.length) + "\r\n" + text + "\r\n";
    }

    /**
     * A scheduler that answers each request (its head and body as text) with the raw bytes a
     * function gives, then closes the connection: without the final chunk, a chunked body is cut.
     */
    private static final class FakeScheduler implements AutoCloseable {
        private final ServerSocket socket = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        private final List<String> requests = new CopyOnWriteArrayList<>();
        private final Thread acceptor;

        FakeScheduler(Function<String, String> answer) throws IOException {
            acceptor = Thread.ofVirtual().start(() -> {
                while (!socket.isClosed()) {
                    try (Socket connection = socket.accept()) {
                        String request = readRequest(connection.getInputStream());
                        requests.add(request);
                        connection.getOutputStream().write(answer.apply(request).getBytes(StandardCharsets.UTF_8));
                        connection.getOutputStream().flush();
                    } catch (IOException e) {
                        // closed: the test is over
                    }
                }
            });
        }

        String url() {
            return "http://127.0.0.1:" + socket.getLocalPort();
        }

        List<String> requests() {
            return requests;
        }

        private static String readRequest(InputStream in) throws IOException {
            StringBuilder head = new StringBuilder();
            while (!head.toString().endsWith("\r\n\r\n")) {
                int b = in.read();
                if (b < 0) {
                    throw new IOException("closed mid-request");
                }
                head.append((char) b);
            }
            int length = head.toString().lines().filter(l -> l.toLowerCase().startsWith("content-length:"))
                    .map(l -> Integer.parseInt(l.substring(15).strip())).findFirst().orElse(0);
            return head + new String(in.readNBytes(length), StandardCharsets.UTF_8);
        }

        @Override
        public void close() throws IOException {
            socket.close();
            try {
                acceptor.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
