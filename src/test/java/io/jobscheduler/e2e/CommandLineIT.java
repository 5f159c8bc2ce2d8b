package io.jobscheduler.e2e;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
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
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The packaged jar's command line as a user meets it: help, version, usage errors, ports that are taken. */
class CommandLineIT {
    private static final Path JAR = Path.of("target/jobscheduler.jar").toAbsolutePath();
    private static final String JAVA = ProcessHandle.current().info().command().orElseThrow();

    @TempDir
    Path dir;

    /** A finished run: exit status, stdout, stderr. */
    private record Run(int status, String out, String err) {
    }

    private Run run(String... args) throws IOException, InterruptedException {
        Process process = start(args);
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("jobscheduler " + String.join(" ", args) + " did not end");
        }
        return new Run(process.exitValue(), Files.readString(dir.resolve("out")), Files.readString(dir.resolve("err")));
    }

    private Process start(String... args) throws IOException {
        return start(Map.of(), args);
    }

    private Process start(Map<String, String> env, String... args) throws IOException {
        List<String> command = new ArrayList<>(List.of(JAVA, "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-jar", JAR.toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile())
                .redirectOutput(dir.resolve("out").toFile()).redirectError(dir.resolve("err").toFile());
        builder.environment().putAll(env);
        return builder.start();
    }

    @ParameterizedTest
    @ValueSource(strings = {"help", "--help", "-h", "scheduler --help", "dev -h"})
    void helpPrintsUsageOnStdoutAndExitsZero(String args) throws Exception {
        Run run = run(args.split(" "));
        assertEquals(0, run.status(), run.toString());
        assertThat(run.out(), startsWith("usage: jobscheduler scheduler"));
        assertThat(run.out(), containsString("--worker-addr"));
        assertThat(run.err(), is(""));
    }

    @Test
    void versionPrintsTheProjectsVersion() throws Exception {
        Matcher version = Pattern.compile("<artifactId>jobscheduler</artifactId>\\s*<version>([^<]+)</version>")
                .matcher(Files.readString(Path.of("pom.xml")));
        assertThat("the pom's version", version.find(), is(true));

        Run run = run("version");

        assertEquals(new Run(0, "jobscheduler " + version.group(1) + "\n", ""), run);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "bogus", "scheduler --nope 1", "dev --config x.toml", "worker --grpc-addr"})
    void aUsageErrorExitsTwoWithUsageOnStderr(String args) throws Exception {
        Run run = run(args.isEmpty() ? new String[0] : args.split(" "));
        assertEquals(2, run.status(), run.toString());
        assertThat(run.err(), containsString("usage: jobscheduler scheduler"));
        assertThat(run.out(), is(""));
    }

    @Test
    void devWithItsWorkerPortTakenNamesTheWorkerFlagInOneLine() throws Exception {
        try (ServerSocket taken = takenPort()) {
            Run run = run("dev", "--http-addr", "127.0.0.1:" + freePort(), "--grpc-addr", "127.0.0.1:" + freePort(),
                    "--worker-addr", "127.0.0.1:" + taken.getLocalPort());

            assertEquals(1, run.status(), run.toString());
            assertEquals("jobscheduler dev: cannot start the worker: cannot bind grpc_server.addr 127.0.0.1:"
                    + taken.getLocalPort() + ": address in use (set another with --worker-addr)\n", run.err());
            assertNoStackTrace(run);
        }
    }

    @Test
    void devWithTheSchedulersPortTakenNamesTheSchedulerFlag() throws Exception {
        try (ServerSocket taken = takenPort()) {
            Run run = run("dev", "--http-addr", "127.0.0.1:" + freePort(), "--grpc-addr", "127.0.0.1:" + taken.getLocalPort(),
                    "--worker-addr", "127.0.0.1:" + freePort());

            assertEquals(1, run.status(), run.toString());
            assertEquals("jobscheduler dev: cannot start the scheduler: cannot bind grpc_server.addr 127.0.0.1:"
                    + taken.getLocalPort() + ": address in use (set another with --grpc-addr)\n", run.err());
            assertNoStackTrace(run);
        }
    }

    @Test
    void aWorkerOnATakenPortSaysSoInOneLine() throws Exception {
        try (ServerSocket taken = takenPort()) {
            Run run = run("worker", "--grpc-addr", "127.0.0.1:" + taken.getLocalPort(), "--scheduler-addr", "127.0.0.1:1");

            assertEquals(1, run.status(), run.toString());
            assertEquals("jobscheduler worker: cannot start: cannot bind grpc_server.addr 127.0.0.1:"
                    + taken.getLocalPort() + ": address in use (set another with --grpc-addr)\n", run.err());
            assertNoStackTrace(run);
        }
    }

    @Test
    void aSchedulerOnATakenHttpPortSaysSoInOneLine() throws Exception {
        try (ServerSocket taken = takenPort()) {
            Run run = run("scheduler", "--http-addr", "127.0.0.1:" + taken.getLocalPort(), "--grpc-addr", "127.0.0.1:0");

            assertEquals(1, run.status(), run.toString());
            assertEquals("jobscheduler scheduler: cannot start: cannot bind http_server.addr 127.0.0.1:"
                    + taken.getLocalPort() + ": address in use (set another with --http-addr)\n", run.err());
            assertNoStackTrace(run);
        }
    }

    @Test
    void devWorkerAddrMovesTheWorkerWhileTheGrpcVariableMovesTheScheduler() throws Exception {
        int httpPort = freePort();
        int workerPort = freePort();
        Process dev = start(Map.of("JOBSCHEDULER_GRPC_SERVER_ADDR", "127.0.0.1:" + freePort()),
                "dev", "--http-addr", "127.0.0.1:" + httpPort, "--worker-addr", "127.0.0.1:" + workerPort);
        try (HttpClient http = HttpClient.newHttpClient()) {
            Instant deadline = Instant.now().plusSeconds(60);
            String workers = "";
            while (!workers.contains("\"address\":\"127.0.0.1:" + workerPort + "\"")) {
                if (!dev.isAlive() || Instant.now().isAfter(deadline)) {
                    throw new AssertionError("dev's worker did not register on its port " + workerPort + ": "
                            + workers + "\n" + Files.readString(dir.resolve("out")) + Files.readString(dir.resolve("err")));
                }
                try {
                    workers = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/workers"))
                            .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.ofString()).body();
                } catch (IOException notYet) {
                    // not listening yet
                }
                Thread.sleep(100);
            }
        } finally {
            dev.destroy();
            if (!dev.waitFor(30, TimeUnit.SECONDS)) {
                dev.destroyForcibly();
            }
        }
    }

    private static void assertNoStackTrace(Run run) {
        assertThat(run.out() + run.err(), not(containsString("\tat ")));
        assertThat(run.out() + run.err(), not(containsString("Exception")));
        assertThat(run.out() + run.err(), not(containsString("SEVERE")));
    }

    private static ServerSocket takenPort() throws IOException {
        ServerSocket socket = new ServerSocket();
        socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        return socket;
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
