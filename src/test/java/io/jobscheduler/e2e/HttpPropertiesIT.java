package io.jobscheduler.e2e;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import io.jobscheduler.scheduler.http.RawHttp;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Property-based tests over the HTTP layer, against the packaged jar as a real scheduler and a
 * real worker: random JSON values (types, sizes, Unicode, NULs, duplicate keys) on the POST
 * routes, and random methods, paths, query strings, content types and bodies on raw sockets.
 * The properties: never a 5xx, every error is JSON with an {@code "error"} string, every answer
 * arrives within the socket's read timeout.
 *
 * <p>Random commands must not harm the machine: the worker's {@code PATH} holds only stub
 * programs of a temporary folder, generated strings never contain {@code /} (so no command can
 * name a program outside it), the worker keeps little output, and the cluster is killed at the
 * end. Fixed seeds make a run repeatable; jqwik prints the seed and the shrunk sample of a failure.
 */
class HttpPropertiesIT {
    private static final String SEED = "20261201";
    private static final List<String> STUBS = List.of("ok", "fail", "talk", "nap");
    private static Path dir;
    private static Cluster cluster;
    private static String worker;
    private static String finishedJob;

    @BeforeContainer
    static void startCluster() throws IOException {
        dir = Files.createTempDirectory("http-properties");
        Path stubs = Files.createDirectories(dir.resolve("stubs"));
        stub(stubs, "ok", "exit 0");
        stub(stubs, "fail", "exit 3");
        stub(stubs, "talk", "printf '%s\\n' \"$@\"");
        stub(stubs, "nap", "sleep 0.2");
        cluster = Cluster.start(dir.resolve("cluster"), 1, Map.of(), Map.of(
                "PATH", stubs.toString(),
                "JOBSCHEDULER_JOBS_KEEP_OUTPUT_BYTES", "65536",
                "JOBSCHEDULER_JOBS_KEEP_FINISHED", "50"));
        worker = cluster.workerId(0);
        finishedJob = cluster.startJob(worker, "talk", "hello");
        cluster.awaitDone(finishedJob);
    }

    @AfterContainer
    static void stopCluster() throws IOException {
        if (cluster != null) {
            cluster.close();
        }
        if (dir != null) {
            try (Stream<Path> files = Files.walk(dir)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Property(tries = 400, seed = SEED)
    void anyJsonOnAPostRouteIsAnsweredWithoutA5xx(@ForAll("postRoutes") String route, @ForAll("jsonBodies") String body)
            throws IOException {
        assertWellAnswered("POST " + route + " " + body, exchange("POST", route, "application/json", body));
    }

    @Property(tries = 400, seed = SEED)
    void anyStartBodyIsAnsweredWithoutA5xx(@ForAll("startBodies") String body) throws IOException {
        assertWellAnswered("POST /start " + body, exchange("POST", "/start", "application/json", body));
    }

    @Property(tries = 600, seed = SEED)
    void anyRequestIsAnsweredWithoutA5xx(@ForAll("methods") String method, @ForAll("targets") String target,
                                         @ForAll("contentTypes") String contentType, @ForAll("bodies") String body)
            throws IOException {
        assertWellAnswered(method + " " + target + " [" + contentType + "] " + body,
                exchange(method, target, contentType, body));
    }

    // --- generators ---

    @Provide
    Arbitrary<String> postRoutes() {
        return Arbitraries.of("/start", "/stop", "/query");
    }

    /** Any string a client may send: Unicode (lone surrogates too), NULs, sizes around the limits; never a '/'. */
    @Provide
    Arbitrary<String> strings() {
        return Arbitraries.frequencyOf(
                        weighted(4, Arbitraries.strings().all().ofMaxLength(30)),
                        weighted(3, Arbitraries.strings().withChars("a\u0000é😀\ud800 \\\"\t\n").ofMaxLength(12)),
                        weighted(1, Arbitraries.strings().alpha().ofMinLength(4090).ofMaxLength(4200)),
                        weighted(1, Arbitraries.strings().withChars("é").ofMinLength(2040).ofMaxLength(2060)),
                        weighted(2, Arbitraries.of(STUBS)))
                .map(s -> s.replace('/', '_'));
    }

    /** Any JSON value, as text: objects may repeat a key. */
    @Provide
    Arbitrary<String> jsonBodies() {
        return json(3);
    }

    /** Bodies shaped like a start, each field of any shape, the real worker's id and the stubs often. */
    @Provide
    Arbitrary<String> startBodies() {
        Arbitrary<String> workerId = Arbitraries.frequencyOf(
                weighted(4, Arbitraries.just(quote(worker))),
                weighted(1, json(1)),
                weighted(1, Arbitraries.just("00000000-0000-0000-0000-000000000000").map(HttpPropertiesIT::quote)));
        Arbitrary<String> command = Arbitraries.frequencyOf(
                weighted(3, Arbitraries.of(STUBS).map(HttpPropertiesIT::quote)),
                weighted(2, commandsTheWorkerMaySee().map(HttpPropertiesIT::quote)),
                weighted(1, strings().filter(s -> s.contains("\0") || s.length() > 4096).map(HttpPropertiesIT::quote)),
                weighted(1, json(1)));
        Arbitrary<String> path = Arbitraries.frequencyOf(
                weighted(3, strings().map(HttpPropertiesIT::quote)),
                weighted(1, json(1)));
        Arbitrary<String> field = Arbitraries.oneOf(
                workerId.map(v -> "\"worker_id\":" + v),
                command.map(v -> "\"command\":" + v),
                path.map(v -> "\"path\":" + v),
                json(1).map(v -> "\"extra\":" + v));
        return Combinators.combine(workerId, command, path, field.list().ofMaxSize(2))
                .as((w, c, p, more) -> {
                    StringBuilder body = new StringBuilder("{\"worker_id\":").append(w).append(",\"command\":").append(c)
                            .append(",\"path\":").append(p);
                    more.forEach(f -> body.append(',').append(f));
                    return body.append('}').toString();
                });
    }

    /**
     * Commands that pass the HTTP layer and reach the worker, whose refusal quotes them in a gRPC
     * status message: any Unicode, up to the 4 KiB limit, so the worker's bounded, percent-encoded
     * status messages are exercised (docs/helidon-notes.md, "HPACK" and "gRPC status messages with
     * non-ASCII characters"). No '/' and no NUL: only the stub programs on the worker's PATH may run.
     */
    private Arbitrary<String> commandsTheWorkerMaySee() {
        return strings().filter(s -> s.getBytes(StandardCharsets.UTF_8).length <= 4096)
                .map(s -> s.replace('/', '_').replace('\0', '_'));
    }

    @Provide
    Arbitrary<String> methods() {
        return Arbitraries.frequencyOf(
                weighted(6, Arbitraries.of("GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD", "TRACE")),
                weighted(1, Arbitraries.strings().withCharRange('A', 'Z').ofMinLength(1).ofMaxLength(8)),
                weighted(1, Arbitraries.strings().withChars("G@T(){}<>,;:\"[]?=").ofMinLength(1).ofMaxLength(4)));
    }

    @Provide
    Arbitrary<String> targets() {
        Arbitrary<String> segment = Arbitraries.frequencyOf(
                weighted(6, Arbitraries.of("workers", "jobs", "start", "stop", "query", "output", "observe", "health",
                        "ready", "live", worker, finishedJob, "%00", "%zz", "%C3%A9", "%2F", "..", ".", "")),
                weighted(2, Arbitraries.strings().withCharRange('!', '~').ofMaxLength(10)
                        .map(s -> s.replace("?", "").replace("#", "").replace("/", ""))),
                weighted(1, Arbitraries.strings().all().ofMaxLength(4).map(s -> s.replace('/', '_'))));
        Arbitrary<String> path = segment.list().ofMinSize(1).ofMaxSize(4).map(s -> "/" + String.join("/", s));
        Arbitrary<String> name = Arbitraries.of("limit", "next", "follow", "offset", "worker_id", "state", "x", "");
        Arbitrary<String> value = Arbitraries.frequencyOf(
                weighted(3, Arbitraries.of("0", "1", "-1", "1000", "1001", "true", "false", "yes", worker, "%zz", "%00", "")),
                weighted(1, Arbitraries.strings().withCharRange('!', '~').ofMaxLength(12).map(s -> s.replace("#", ""))));
        Arbitrary<String> query = Combinators.combine(name, value).as((n, v) -> n + "=" + v)
                .list().ofMaxSize(3).map(p -> p.isEmpty() ? "" : "?" + String.join("&", p));
        // Follows end when the job has ended; the only job a path can name has.
        return Combinators.combine(path, query).as(String::concat);
    }

    @Provide
    Arbitrary<String> contentTypes() {
        return Arbitraries.of("", "application/json", "application/json; charset=utf-8", "text/plain", "application/xml",
                "application/*", "*/*", "json", "application/json;;", "multipart/form-data; boundary=x");
    }

    @Provide
    Arbitrary<String> bodies() {
        return Arbitraries.frequencyOf(
                weighted(2, Arbitraries.just("")),
                weighted(3, json(2)),
                weighted(1, Arbitraries.strings().all().ofMaxLength(40).map(s -> s.replace('/', '_'))));
    }

    private Arbitrary<String> json(int depth) {
        Arbitrary<String> scalar = Arbitraries.frequencyOf(
                weighted(1, Arbitraries.of("null", "true", "false", "0", "-1", "1.5", "1e400", "99999999999999999999")),
                weighted(1, Arbitraries.integers().map(String::valueOf)),
                weighted(3, strings().map(HttpPropertiesIT::quote)));
        if (depth == 0) {
            return scalar;
        }
        Arbitrary<String> key = Arbitraries.frequencyOf(
                weighted(4, Arbitraries.of("worker_id", "command", "path", "job_id", "extra")),
                weighted(1, strings()));
        Arbitrary<String> array = json(depth - 1).list().ofMaxSize(3).map(l -> "[" + String.join(",", l) + "]");
        Arbitrary<String> object = Combinators.combine(key, json(depth - 1)).as((k, v) -> quote(k) + ":" + v)
                .list().ofMaxSize(4).map(l -> "{" + String.join(",", l) + "}");
        return Arbitraries.frequencyOf(weighted(2, scalar), weighted(1, array), weighted(3, object));
    }

    // --- the properties' checks ---

    /** Sends one request on its own connection and reads the answer; a hang fails at the socket's read timeout. */
    private static RawHttp.Response exchange(String method, String target, String contentType, String body)
            throws IOException {
        byte[] entity = body.getBytes(StandardCharsets.UTF_8);
        String head = method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                + (contentType.isEmpty() ? "" : "Content-Type: " + contentType + "\r\n")
                + (entity.length == 0 ? "" : "Content-Length: " + entity.length + "\r\n") + "\r\n";
        try (Socket socket = RawHttp.connect(cluster.httpPort())) {
            // Request lines carry UTF-8 as raw bytes, as a careless client sends them.
            socket.getOutputStream().write(head.getBytes(StandardCharsets.UTF_8));
            socket.getOutputStream().write(entity);
            socket.getOutputStream().flush();
            RawHttp.Response response = RawHttp.read(socket.getInputStream());
            return method.equals("HEAD") ? new RawHttp.Response(response.status(), response.headers(), "") : response;
        } catch (SocketTimeoutException e) {
            throw new AssertionError("no answer within " + RawHttp.READ_TIMEOUT_MILLIS + " ms to " + method + " " + target, e);
        }
    }

    private static void assertWellAnswered(String request, RawHttp.Response response) {
        if (response.status() >= 500) {
            throw new AssertionError(response.status() + " for " + request + ": " + response.body()
                    + "\n" + cluster.schedulerLog());
        }
        String type = response.header("Content-Type");
        if (request.startsWith("HEAD ")) {
            // A HEAD answer has the headers of the GET answer and no body.
            if (response.status() >= 400 && !"application/json".equals(type)) {
                throw new AssertionError("error " + response.status() + " is '" + type + "' for " + request);
            }
            return;
        }
        if (response.status() >= 400) {
            if (!"application/json".equals(type)) {
                throw new AssertionError("error " + response.status() + " is '" + type + "' for " + request);
            }
            JsonNode error = parse(response, request).get("error");
            if (error == null || !error.isTextual() || error.asText().isBlank()) {
                throw new AssertionError("no \"error\" string in " + response.body() + " for " + request);
            }
        }
        if ("application/json".equals(type)) {
            parse(response, request);
            if (!response.body().endsWith("\n")) {
                throw new AssertionError("JSON without a final newline for " + request + ": " + response.body());
            }
        }
    }

    private static JsonNode parse(RawHttp.Response response, String request) {
        try {
            return Cluster.JSON.readTree(response.body());
        } catch (JsonProcessingException e) {
            throw new AssertionError("not JSON (" + response.status() + ") for " + request + ": " + response.body(), e);
        }
    }

    private static String quote(String text) {
        try {
            return Cluster.JSON.writeValueAsString(text);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Tuple.Tuple2<Integer, Arbitrary<? extends String>> weighted(int weight, Arbitrary<String> arbitrary) {
        return Tuple.of(weight, arbitrary);
    }

    private static void stub(Path stubs, String name, String body) throws IOException {
        Path file = stubs.resolve(name);
        Files.writeString(file, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
}
