package io.jobscheduler.e2e;

import io.jobscheduler.security.ApiRole;
import io.jobscheduler.security.ApiToken;
import io.jobscheduler.security.TokenTable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The HTTP socket's safe default, on the packaged jar: off loopback, the scheduler starts only
 * with tokens, or with {@code [http_server] insecure = true} and one line saying what is exposed.
 * Each scheduler runs in a network namespace of its own ({@code unshare -n}), whose loopback
 * device also carries {@value #ADDRESS}: this machine's real interfaces are never bound.
 */
class HttpExposureIT {
    private static final String ADDRESS = "10.201.0.1";
    private static final Path JAR = Path.of("target/jobscheduler.jar").toAbsolutePath();
    private static final String JAVA = ProcessHandle.current().info().command().orElseThrow();
    /** Brings up the namespace's loopback, adds the test address to it, and runs the command there. */
    private static final String NAMESPACE = "ip link set lo up && ip addr add " + ADDRESS + "/32 dev lo && exec \"$@\"";

    @TempDir
    Path dir;

    private record Run(int status, String out, String err) {
        String all() {
            return out + err;
        }
    }

    @BeforeAll
    static void needsNetworkNamespaces() throws Exception {
        Process probe = new ProcessBuilder("unshare", "-n", "sh", "-c", "ip link set lo up && ip addr add "
                + ADDRESS + "/32 dev lo").redirectErrorStream(true).start();
        String output = new String(probe.getInputStream().readAllBytes());
        boolean works = probe.waitFor(30, TimeUnit.SECONDS) && probe.exitValue() == 0;
        if (!works) {
            String why = "SKIPPED: cannot make a network namespace with unshare -n and ip (needs root): " + output;
            System.err.println("!!!!! " + why);
            Assumptions.assumeTrue(false, why);
        }
    }

    private Process startInNamespace(Map<String, String> env, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of("unshare", "-n", "sh", "-c", NAMESPACE, "sh", JAVA,
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-jar", JAR.toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile())
                .redirectOutput(dir.resolve("out").toFile()).redirectError(dir.resolve("err").toFile());
        builder.environment().putAll(env);
        return builder.start();
    }

    private Run output(Process process) throws IOException {
        return new Run(process.isAlive() ? -1 : process.exitValue(), Files.readString(dir.resolve("out")),
                Files.readString(dir.resolve("err")));
    }

    private Run run(Map<String, String> env, String... args) throws Exception {
        Process process = startInNamespace(env, args);
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("the scheduler neither started nor refused within 60 s: " + output(process));
        }
        return output(process);
    }

    /** Starts a scheduler that must keep running; returns its output once it listens, then stops it. */
    private Run serving(Map<String, String> env, String... args) throws Exception {
        Process process = startInNamespace(env, args);
        try {
            Instant deadline = Instant.now().plusSeconds(60);
            while (!output(process).all().contains("scheduler grpc listening on")) {
                if (!process.isAlive() || Instant.now().isAfter(deadline)) {
                    throw new AssertionError("the scheduler did not start: " + output(process));
                }
                Thread.sleep(100); // polling another process's log, with a deadline
            }
            return output(process);
        } finally {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {ADDRESS + ":3000", "0.0.0.0:3000", "[::]:3000"})
    void aNonLoopbackHttpSocketWithoutTokensRefusesToStart(String address) throws Exception {
        Run run = run(Map.of(), "scheduler", "--http-addr", address, "--grpc-addr", "127.0.0.1:50000");

        assertEquals(1, run.status(), run.toString());
        assertEquals("jobscheduler scheduler: cannot start: http_server.addr " + address
                + " is not a loopback address and [auth] tokens_file is not set: anyone who reaches it could start,"
                + " stop and read every job; set [auth] tokens_file, or [http_server] insecure = true to serve it"
                + " open anyway\n", run.err());
        assertFalse(run.all().contains("\tat "), run.toString());
    }

    @Test
    void theInsecureOverrideStartsAndSaysInOneLineWhatIsExposed() throws Exception {
        Run run = serving(Map.of("JOBSCHEDULER_HTTP_SERVER_INSECURE", "true"),
                "scheduler", "--http-addr", ADDRESS + ":3000", "--grpc-addr", "127.0.0.1:50000");

        List<String> insecure = run.all().lines().filter(line -> line.contains("INSECURE")).toList();
        assertEquals(1, insecure.size(), run.toString());
        assertTrue(insecure.getFirst().contains("INSECURE: http_server.addr " + ADDRESS + ":3000 is not a loopback"
                + " address and [auth] tokens_file is not set ([http_server] insecure = true): anyone who reaches it"
                + " can start commands on every worker, stop and read every job, and remove workers"), insecure.getFirst());
        assertTrue(run.all().contains("scheduler http listening on " + ADDRESS + ":3000\n"), run.toString());
    }

    @Test
    void withTokensANonLoopbackSocketStartsWithNoWarning() throws Exception {
        Path tokens = dir.resolve("tokens.toml");
        Files.writeString(tokens, TokenTable.empty().with(new TokenTable.Entry("ci", ApiRole.OPERATOR,
                ApiToken.sha256(ApiToken.generate()))).toToml());
        Run run = serving(Map.of("JOBSCHEDULER_AUTH_TOKENS_FILE", tokens.toString()),
                "scheduler", "--http-addr", "0.0.0.0:3000", "--grpc-addr", "127.0.0.1:50000");

        assertFalse(run.all().contains("INSECURE"), run.toString());
        assertTrue(run.all().contains("scheduler http listening on 0.0.0.0:3000 (bearer tokens of " + tokens + ")"),
                run.toString());
    }

    @Test
    void anyLoopbackAddressNeedsNoTokens() throws Exception {
        Run run = serving(Map.of(), "scheduler", "--http-addr", "127.0.0.2:3000", "--grpc-addr", "127.0.0.1:50000");

        assertFalse(run.all().contains("INSECURE"), run.toString());
        assertTrue(run.all().contains("scheduler http listening on 127.0.0.2:3000\n"), run.toString());
    }
}
