package io.jobscheduler.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The jlink dist ({@code target/dist/jobscheduler}, built by {@code bin/make-dist} in {@code
 * pre-integration-test}) copied to a temporary folder and run as on a host with no JDK: an empty
 * environment ({@code env -i}: no {@code JAVA_HOME}) whose {@code PATH} is {@code /usr/bin:/bin}
 * behind a {@code java} that fails, so any use of a Java other than the dist's own fails the test.
 * A scheduler, a worker and a job, in plaintext and over TLS (configured in HOCON and JSON); then
 * {@code dev}; and the AOT cache must map from the copy.
 */
class DistIT {
    private static final Path DIST = Path.of("target/dist/jobscheduler").toAbsolutePath();
    private static final Duration DEADLINE = Duration.ofSeconds(60);
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private Path home;
    private final List<Process> processes = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void reportTheSizes() {
        if (isBuilt()) {
            System.out.printf("DistIT: %s is %d MB without the AOT cache; the AOT cache is %d MB%n", DIST,
                    megabytes(DIST, "jobscheduler.aot", false), megabytes(DIST.resolve("app/jobscheduler.aot"), "", true));
        }
    }

    private static boolean isBuilt() {
        return Files.isExecutable(DIST.resolve("bin/jobscheduler"));
    }

    @BeforeEach
    void copyTheDist() throws IOException, InterruptedException {
        // Each test skips on its own, so the run's summary counts them as skipped, with this reason.
        Assumptions.assumeTrue(isBuilt(), () -> "DistIT SKIPPED: " + DIST + " is missing. `bin/test` builds it "
                + "(unless -DskipDist); or build it with `bin/jobscheduler dist`.");
        home = dir.resolve("opt/jobscheduler");
        Files.createDirectories(home.getParent());
        // cp -r: new modification times, as a copy to another host gives; the AOT cache must still map.
        assertEquals(0, new ProcessBuilder("cp", "-r", DIST.toString(), home.toString()).inheritIO().start().waitFor());
        Path fakeBin = Files.createDirectories(dir.resolve("fakebin"));
        Path fakeJava = Files.writeString(fakeBin.resolve("java"),
                "#!/bin/sh\necho 'the dist ran the java on PATH' >&2\nexit 97\n");
        Files.setPosixFilePermissions(fakeJava, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    @AfterEach
    void stopEverything() throws InterruptedException {
        processes.forEach(Process::destroy);
        for (Process process : processes) {
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(20, TimeUnit.SECONDS);
            }
        }
        http.close();
    }

    @Test
    void aSchedulerAWorkerAndAJobRunFromTheDistWithoutAJdk() throws Exception {
        int httpPort = freePort();
        int grpcPort = freePort();
        int workerPort = freePort();
        start("scheduler", Map.of(), "scheduler", "--http-addr", "127.0.0.1:" + httpPort, "--grpc-addr", "127.0.0.1:" + grpcPort);
        Path work = Files.createDirectories(dir.resolve("work"));
        Files.writeString(work.resolve("hello.sh"), "echo \"hello from the dist, $0\"\necho to stderr >&2\n");
        start("worker", Map.of("JOBSCHEDULER_JOBS_WORK_DIR", work.toString()),
                "worker", "--grpc-addr", "127.0.0.1:" + workerPort, "--scheduler-addr", "127.0.0.1:" + grpcPort);

        String output = runOneJob(httpPort, "sh", "hello.sh");

        assertEquals("hello from the dist, hello.sh\nto stderr\n", output);
    }

    @Test
    void tlsBothWaysWithAHoconAndAJsonConfigurationRunFromTheDist() throws Exception {
        Path etc = Files.createDirectories(dir.resolve("etc"));
        for (String file : List.of("ca.pem", "server.pem", "server.key")) {
            Files.copy(Path.of("src/test/resources/tls", file), etc.resolve(file));
        }
        int httpPort = freePort();
        int grpcPort = freePort();
        int workerPort = freePort();
        Path scheduler = Files.writeString(etc.resolve("scheduler.conf"), """
                http_server.addr = "127.0.0.1:%d"
                grpc_server { addr = "127.0.0.1:%d", use_tls = true, crt_file = "server.pem", key_file = "server.key" }
                workers { use_tls = true, ca_file = "ca.pem" }
                """.formatted(httpPort, grpcPort));
        Path worker = Files.writeString(etc.resolve("worker.json"), """
                {"grpc_server": {"addr": "127.0.0.1:%d", "use_tls": true, "crt_file": "server.pem", "key_file": "server.key"},
                 "scheduler": {"addr": "127.0.0.1:%d", "use_tls": true, "ca_file": "ca.pem"}}
                """.formatted(workerPort, grpcPort));
        start("scheduler", Map.of(), "scheduler", "--config", scheduler.toString());
        start("worker", Map.of(), "worker", "--config", worker.toString());

        // Both sides require TLS: a job that runs proves the runtime's TLS (and both file formats) work.
        assertEquals("over tls\n", runOneJob(httpPort, "echo", "over tls"));
    }

    @Test
    void devRunsFromTheDistWithoutAJdk() throws Exception {
        int httpPort = freePort();
        start("dev", Map.of(), "dev", "--http-addr", "127.0.0.1:" + httpPort, "--grpc-addr", "127.0.0.1:" + freePort(),
                "--worker-addr", "127.0.0.1:" + freePort());

        assertEquals("dev\n", runOneJob(httpPort, "echo", "dev"));
    }

    @Test
    void theAotCacheMapsFromTheCopiedFolder() throws Exception {
        // With -XX:AOTMode=on the JVM refuses to start when it cannot use the cache.
        Process version = start("version", Map.of("JOBSCHEDULER_JAVA_OPTS", "-XX:AOTMode=on"), "version");
        assertTrue(version.waitFor(60, TimeUnit.SECONDS), "version did not end");
        String printed = Files.readString(dir.resolve("version.log"));
        assertEquals(0, version.exitValue(), printed);
        assertTrue(printed.matches("jobscheduler \\d+\\.\\d+\\.\\d+\\S*\\n"), printed);
    }

    /** Starts {@code jobscheduler args} from the copied dist with only PATH (and {@code extraEnv}) set. */
    private Process start(String name, Map<String, String> extraEnv, String... args) throws IOException {
        Path cwd = Files.createDirectories(dir.resolve("cwd-" + name));
        List<String> command = new ArrayList<>(List.of(home.resolve("bin/jobscheduler").toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(cwd.toFile())
                .redirectErrorStream(true).redirectOutput(dir.resolve(name + ".log").toFile());
        builder.environment().clear();
        builder.environment().put("PATH", dir.resolve("fakebin") + ":/usr/bin:/bin");
        builder.environment().putAll(extraEnv);
        Process process = builder.start();
        processes.add(process);
        return process;
    }

    /** Waits for one registered worker, runs {@code command path} on it, and returns its whole output. */
    private String runOneJob(int httpPort, String command, String path) throws Exception {
        String base = "http://127.0.0.1:" + httpPort;
        JsonNode workers = await(() -> {
            JsonNode list = JSON.readTree(get(base + "/workers")).get("workers");
            return list != null && list.size() == 1 ? list : null;
        });
        String workerId = workers.get(0).get("id").asText();
        String started = send(HttpRequest.newBuilder(URI.create(base + "/start")).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.createObjectNode().put("worker_id", workerId)
                        .put("command", command).put("path", path).toString())), 201);
        String jobId = JSON.readTree(started).get("job_id").asText();
        String output = send(HttpRequest.newBuilder(URI.create(base + "/jobs/" + jobId + "/output")), 200);
        JsonNode status = JSON.readTree(send(HttpRequest.newBuilder(URI.create(base + "/query"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"job_id\":\"" + jobId + "\"}")), 200));
        assertEquals("SUCCEEDED", status.get("state").asText(), status.toString());
        return output;
    }

    private interface Probe<T> {
        T attempt() throws Exception;
    }

    private <T> T await(Probe<T> probe) throws Exception {
        Instant deadline = Instant.now().plus(DEADLINE);
        while (true) {
            for (Process process : processes) {
                if (!process.isAlive()) {
                    throw new AssertionError("a dist process exited with " + process.exitValue() + ":\n" + logs());
                }
            }
            try {
                T value = probe.attempt();
                if (value != null) {
                    return value;
                }
            } catch (IOException notYet) {
                // not listening yet
            }
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError("the dist did not come up within " + DEADLINE + ":\n" + logs());
            }
            Thread.sleep(100);
        }
    }

    private String get(String uri) throws IOException, InterruptedException {
        return send(HttpRequest.newBuilder(URI.create(uri)), 200);
    }

    private String send(HttpRequest.Builder request, int expected) throws IOException, InterruptedException {
        HttpResponse<String> response = http.send(request.timeout(Duration.ofSeconds(30)).build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
        assertEquals(expected, response.statusCode(), response.body());
        return response.body();
    }

    private String logs() throws IOException {
        StringBuilder text = new StringBuilder();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path log : files.filter(f -> f.toString().endsWith(".log")).toList()) {
                text.append("----- ").append(log.getFileName()).append(" -----\n").append(Files.readString(log));
            }
        }
        return text.toString();
    }

    private static long megabytes(Path path, String excludedName, boolean single) {
        try (Stream<Path> files = single ? Stream.of(path) : Files.walk(path)) {
            long bytes = files.filter(Files::isRegularFile).filter(f -> !f.getFileName().toString().equals(excludedName))
                    .mapToLong(f -> {
                        try {
                            return Files.size(f);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    }).sum();
            return bytes >> 20;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
