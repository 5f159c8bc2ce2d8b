package io.jobscheduler.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Optional;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;

/**
 * The scheduler's HTTP API (api.md) as the client uses it: JSON calls that answer the body of a
 * 2xx, the raw output, and a job's event stream. Any other answer, and any failure to connect, is a
 * {@link CliException} with one line that names the problem (the token is never part of it).
 * Following a job reads its event stream, whose end event says how the job ended.
 */
final class Api {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(10);
    /** A call that is not a follow; the scheduler bounds its own calls to workers well below this. */
    private static final Duration CALL_TIMEOUT = Duration.ofMinutes(2);
    private static final int COPY_BUFFER = 64 * 1024;

    private final URI server;
    private final Optional<String> token;
    private final HttpClient http;

    /** An answer's status and body. */
    record Answer(int status, byte[] body) {
        String text() {
            return new String(body, StandardCharsets.UTF_8);
        }

        JsonNode json() {
            try {
                return JSON.readTree(body);
            } catch (IOException e) {
                throw new CliException("the scheduler answered " + status + " with a body that is not JSON");
            }
        }
    }

    /** How a followed event stream ended: the {@code end} event's status, after {@code bytes} of output. */
    record Followed(JsonNode end, long bytes) {
    }

    /** The output stream ended without its final chunk: the server aborted it (api.md). */
    static final class OutputCut extends Exception {
        OutputCut(String message) {
            super(message, null, false, false);
        }
    }

    Api(URI server, Optional<String> token, Optional<SSLContext> tls) {
        this.server = server;
        this.token = token;
        // The API speaks HTTP/1.1 only (api.md, Protocol): no h2c upgrade attempt.
        HttpClient.Builder builder = HttpClient.newBuilder()
                .version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(CONNECT_TIMEOUT);
        tls.ifPresent(builder::sslContext);
        this.http = builder.build();
    }

    URI server() {
        return server;
    }

    Answer get(String pathAndQuery) {
        return call(request(pathAndQuery).GET());
    }

    Answer post(String path, ObjectNode body) {
        return call(request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString())));
    }

    /**
     * Writes the job's output that exists now to {@code out}, unchanged (the raw output route).
     * Answers the number of bytes written.
     *
     * @throws OutputCut when the body ends without its final chunk (the server aborted it)
     */
    long copyOutput(String jobId, String workerId, PrintStream out) throws OutputCut {
        String query = "?follow=false" + (workerId == null ? "" : "&worker_id=" + PercentEncoding.segment(workerId));
        HttpRequest request = request("/jobs/" + PercentEncoding.segment(jobId) + "/output" + query).GET().build();
        HttpResponse<InputStream> response = send(request, HttpResponse.BodyHandlers.ofInputStream());
        long written = 0;
        try (InputStream body = response.body()) {
            if (response.statusCode() != 200) {
                throw refused(new Answer(response.statusCode(), body.readAllBytes()));
            }
            byte[] buffer = new byte[COPY_BUFFER];
            for (int n; (n = body.read(buffer)) >= 0; ) {
                write(out, jobId, buffer, n);
                written += n;
            }
            return written;
        } catch (IOException e) {
            throw new OutputCut("the output of job " + jobId + " was cut off after " + written + " bytes ("
                    + reason(e) + ")");
        }
    }

    /**
     * Follows the job's event stream ({@code GET /jobs/{id}/events}, api.md) from byte 0: writes
     * its output to {@code out} as it arrives, unchanged, hands each {@code state} event's status
     * to {@code onState}, and answers the status that the {@code end} event carries.
     *
     * @throws OutputCut when the stream ends before its {@code end} event (the server aborted it,
     *         or the connection broke)
     */
    Followed followEvents(String jobId, String workerId, PrintStream out, Consumer<JsonNode> onState) throws OutputCut {
        String query = workerId == null ? "" : "?worker_id=" + PercentEncoding.segment(workerId);
        HttpRequest request = request("/jobs/" + PercentEncoding.segment(jobId) + "/events" + query)
                .header("Accept", "text/event-stream").GET().build();
        HttpResponse<InputStream> response = send(request, HttpResponse.BodyHandlers.ofInputStream());
        long written = 0;
        try (InputStream body = response.body()) {
            if (response.statusCode() != 200) {
                throw refused(new Answer(response.statusCode(), body.readAllBytes()));
            }
            EventStream events = new EventStream(body);
            for (EventStream.Event event; (event = events.next()) != null; ) {
                switch (event.name()) {
                    case "output" -> {
                        byte[] chunk = Base64.getDecoder().decode(event.data());
                        // The id is the offset after the chunk: anything else would lose or repeat bytes.
                        if (event.id() != null && !event.id().equals(String.valueOf(written + chunk.length))) {
                            throw new CliException("the scheduler sent output ending at byte " + event.id()
                                    + " after " + written + " bytes and a chunk of " + chunk.length);
                        }
                        write(out, jobId, chunk, chunk.length);
                        written += chunk.length;
                    }
                    case "state" -> onState.accept(json(event));
                    case "end" -> {
                        return new Followed(json(event), written);
                    }
                    default -> {
                        // An event this client does not know is left alone, as EventSource does.
                    }
                }
            }
            throw new OutputCut("the events of job " + jobId + " ended before the job did, after " + written
                    + " bytes of output");
        } catch (IOException | IllegalArgumentException e) {
            throw new OutputCut("the output of job " + jobId + " was cut off after " + written + " bytes ("
                    + (e instanceof IllegalArgumentException ? "an output event that is not base64" : reason(e)) + ")");
        }
    }

    private static JsonNode json(EventStream.Event event) {
        try {
            return JSON.readTree(event.data());
        } catch (IOException e) {
            throw new CliException("the scheduler sent a " + event.name() + " event that is not JSON");
        }
    }

    private static void write(PrintStream out, String jobId, byte[] bytes, int length) {
        out.write(bytes, 0, length);
        out.flush();
        if (out.checkError()) {
            throw new CliException("cannot write the output of job " + jobId + " to stdout");
        }
    }

    private HttpRequest.Builder request(String pathAndQuery) {
        // Appended, not resolved: a server URL with a path (behind a proxy) keeps it.
        HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(server + pathAndQuery));
        token.ifPresent(t -> builder.header("Authorization", "Bearer " + t));
        return builder;
    }

    private Answer call(HttpRequest.Builder request) {
        HttpResponse<byte[]> response = send(request.timeout(CALL_TIMEOUT).build(), HttpResponse.BodyHandlers.ofByteArray());
        Answer answer = new Answer(response.statusCode(), response.body());
        if (answer.status() / 100 != 2) {
            throw refused(answer);
        }
        return answer;
    }

    private <T> HttpResponse<T> send(HttpRequest request, HttpResponse.BodyHandler<T> body) {
        try {
            return http.send(request, body);
        } catch (IOException e) {
            throw new CliException("cannot reach the scheduler at " + server + ": " + reason(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException("interrupted");
        }
    }

    /** The API's own error text ({@code {"error": "..."}}, api.md) with the status; 422 means the job could not start. */
    static CliException refused(Answer answer) {
        String text;
        try {
            JsonNode error = JSON.readTree(answer.body()).path("error");
            text = error.isTextual() ? error.asText() : printable(answer.body());
        } catch (IOException e) {
            text = printable(answer.body());
        }
        int exit = answer.status() == 422 ? ExitCodes.CANNOT_START : ExitCodes.CLI_ERROR;
        return new CliException(exit, answer.status(), "the scheduler answered " + answer.status() + ": " + text);
    }

    private static String printable(byte[] body) {
        String text = new String(body, StandardCharsets.UTF_8).strip().replaceAll("\\p{Cntrl}", " ");
        return text.length() > 200 ? text.substring(0, 200) + "…" : text;
    }

    /** What went wrong with a connection, in words: the JDK's exceptions often carry no message. */
    private static String reason(Throwable e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof ConnectException && !(cause instanceof HttpConnectTimeoutException)) {
                return "connection refused";
            }
            if (cause instanceof HttpTimeoutException) {
                return "timed out";
            }
            if (cause instanceof UnresolvedAddressException) {
                return "unknown host";
            }
            if (cause instanceof SSLException) {
                return "TLS: " + cause.getMessage();
            }
        }
        return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    }
}
