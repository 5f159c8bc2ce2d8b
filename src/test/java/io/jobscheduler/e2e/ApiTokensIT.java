package io.jobscheduler.e2e;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Tokens and the audit log end to end, on the packaged jar as a user runs it: tokens made by
 * {@code token create}, a scheduler and a worker as separate processes, the command-line client
 * sending {@code JOBSCHEDULER_TOKEN}, a revocation taking effect without a restart.
 */
class ApiTokensIT {
    private static final Path JAR = Path.of("target/jobscheduler.jar").toAbsolutePath();
    private static final String JAVA = ProcessHandle.current().info().command().orElseThrow();

    @TempDir
    Path dir;
    private final List<Process> servers = new ArrayList<>();
    private final HttpClient http = HttpClient.newHttpClient();

    private record Run(int status, String out, String err) {
    }

    @AfterEach
    void stopServers() throws InterruptedException {
        for (Process server : servers.reversed()) {
            server.destroy();
            if (!server.waitFor(30, TimeUnit.SECONDS)) {
                server.destroyForcibly();
            }
        }
    }

    private List<String> jar(String... args) {
        List<String> command = new ArrayList<>(List.of(JAVA, "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-jar", JAR.toString()));
        command.addAll(List.of(args));
        return command;
    }

    private Run run(Map<String, String> env, String... args) throws Exception {
        Path out = Files.createTempFile(dir, "out", ".txt");
        Path err = Files.createTempFile(dir, "err", ".txt");
        ProcessBuilder builder = new ProcessBuilder(jar(args)).directory(dir.toFile())
                .redirectOutput(out.toFile()).redirectError(err.toFile());
        builder.environment().remove("JOBSCHEDULER_TOKEN");
        builder.environment().putAll(env);
        Process process = builder.start();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("jobscheduler " + String.join(" ", args) + " did not end");
        }
        return new Run(process.exitValue(), Files.readString(out), Files.readString(err));
    }

    private void serve(String name, Map<String, String> env, String... args) throws IOException {
        Path folder = Files.createDirectories(dir.resolve(name));
        ProcessBuilder builder = new ProcessBuilder(jar(args)).directory(folder.toFile())
                .redirectOutput(folder.resolve("log").toFile()).redirectErrorStream(true);
        builder.environment().putAll(env);
        servers.add(builder.start());
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        Instant deadline = Instant.now().plusSeconds(60);
        while (!condition.getAsBoolean()) {
            assertTrue(Instant.now().isBefore(deadline), what + " not within 60 s");
            Thread.sleep(100); // polling other processes, with a deadline
        }
    }

    private int status(String url, String token) {
        try {
            HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10));
            if (token != null) {
                request.header("Authorization", "Bearer " + token);
            }
            return http.send(request.build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (IOException e) {
            return -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    @Test
    void theClientsTokenDecidesWhatItMayDoAndEveryDecisionIsAudited() throws Exception {
        Path tokens = dir.resolve("tokens.toml");
        Run viewerMade = run(Map.of(), "token", "create", "--file", tokens.toString(), "--name", "watcher", "--role", "viewer");
        Run operatorMade = run(Map.of(), "token", "create", "--file", tokens.toString(), "--name", "ci", "--role", "operator");
        assertEquals(0, viewerMade.status(), viewerMade.toString());
        String viewer = viewerMade.out().strip();
        String operator = operatorMade.out().strip();

        int httpPort = freePort();
        int grpcPort = freePort();
        Path audit = dir.resolve("audit.log");
        serve("scheduler", Map.of("JOBSCHEDULER_AUTH_TOKENS_FILE", tokens.toString(),
                "JOBSCHEDULER_AUDIT_FILE", audit.toString()),
                "scheduler", "--http-addr", "127.0.0.1:" + httpPort, "--grpc-addr", "127.0.0.1:" + grpcPort);
        serve("worker", Map.of(), "worker", "--grpc-addr", "127.0.0.1:" + freePort(),
                "--scheduler-addr", "127.0.0.1:" + grpcPort);
        String base = "http://127.0.0.1:" + httpPort;
        await("the scheduler is ready", () -> status(base + "/observe/health/ready", null) == 204);
        await("the worker is registered", () -> {
            try {
                return run(Map.of("JOBSCHEDULER_TOKEN", viewer), "workers", "--server", base).out().contains("alive");
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });

        Run anonymous = run(Map.of(), "workers", "--server", base);
        assertEquals(125, anonymous.status());
        assertTrue(anonymous.err().contains("the scheduler answered 401: missing token"), anonymous.err());

        Run watcherStarts = run(Map.of("JOBSCHEDULER_TOKEN", viewer), "run", "--server", base, "--", "echo", "hi");
        assertEquals(125, watcherStarts.status());
        assertTrue(watcherStarts.err().contains("the scheduler answered 403: token 'watcher' has role viewer;"
                + " POST /start needs role operator or above"), watcherStarts.err());

        Run ciRuns = run(Map.of("JOBSCHEDULER_TOKEN", operator), "run", "--server", base, "--", "echo", "hi");
        assertEquals(0, ciRuns.status(), ciRuns.toString());
        assertEquals("hi\n", ciRuns.out());

        assertEquals(0, run(Map.of(), "token", "revoke", "--file", tokens.toString(), "--name", "ci").status());
        await("the revoked token is refused", () -> status(base + "/workers", operator) == 401);
        assertEquals(200, status(base + "/workers", viewer));

        String log = Files.readString(audit);
        assertFalse(log.contains(viewer) || log.contains(operator) || log.contains("jst_"), "a token in the audit log");
        List<String> lines = log.lines().toList();
        assertTrue(lines.stream().anyMatch(l -> l.contains("\"event\":\"worker_register\"") && l.contains("\"status\":\"OK\"")), log);
        assertTrue(lines.stream().anyMatch(l -> l.contains("\"event\":\"refused\"") && l.contains("\"status\":401")), log);
        assertTrue(lines.stream().anyMatch(l -> l.contains("\"event\":\"refused\"") && l.contains("\"who\":\"watcher\"")
                && l.contains("\"status\":403")), log);
        assertEquals(1, lines.stream().filter(l -> l.contains("\"event\":\"start\"") && l.contains("\"who\":\"ci\"")
                && l.contains("\"command\":\"echo\"") && l.contains("\"args\":[\"hi\"]") && l.contains("\"status\":201")).count(), log);
        assertEquals(1, lines.stream().filter(l -> l.contains("\"event\":\"output\"") && l.contains("\"who\":\"ci\"")
                && l.contains("\"status\":200")).count(), log);
    }
}
