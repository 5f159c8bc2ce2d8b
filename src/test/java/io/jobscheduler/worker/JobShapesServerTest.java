package io.jobscheduler.worker;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.WebServerConfig;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpServer;
import io.jobscheduler.config.JobRules;
import io.jobscheduler.grpc.QueryJobRes;
import io.jobscheduler.worker.job.JobRunner;
import io.jobscheduler.worker.job.JobShaper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static io.jobscheduler.worker.JobCalls.job;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Starts shaped by the worker's rules, over the worker's real gRPC service with real processes:
 * arguments, the clean environment, timeouts, and confinement to work_dir ({@code confine = true},
 * {@code max_timeout = 5s}, {@code pass_env = ["PASSED_ON"]}).
 */
@ServerTest
class JobShapesServerTest {
    private static final Duration GRACE = Duration.ofMillis(500);
    private static Path work;
    private static Path data;
    private static Path outside;
    private static JobRunner runner;

    private final ManagedChannel channel;
    private final JobCalls calls;

    JobShapesServerTest(WebServer server) {
        channel = TestWorkers.channel(server.port());
        calls = new JobCalls(channel);
    }

    @SetUpServer
    static void server(WebServerConfig.Builder server) throws Exception {
        work = Files.createTempDirectory("job-shapes-work");
        data = Files.createTempDirectory("job-shapes-data");
        outside = Files.createTempDirectory("job-shapes-outside");
        Files.createDirectories(work.resolve("scripts"));
        Files.writeString(work.resolve("scripts/count.sh"), "for i in 1 2 3; do echo $i; done\n");
        Files.writeString(outside.resolve("secret"), "outside\n");
        Files.createSymbolicLink(work.resolve("link-out"), outside.resolve("secret"));
        Files.createSymbolicLink(work.resolve("dir-out"), outside);
        Files.createSymbolicLink(work.resolve("link-in"), work.resolve("scripts/count.sh"));
        // The worker's own environment, as the worker process would have it: a secret it holds
        // and one variable the operator passes on.
        Map<String, String> workerEnv = new HashMap<>(System.getenv());
        workerEnv.put("WORKER_SECRET", "s3cret");
        workerEnv.put("PASSED_ON", "yes");
        JobRules rules = new JobRules(List.of("PASSED_ON"), Optional.empty(), Optional.of(Duration.ofSeconds(5)),
                List.of(), true, Optional.empty(), List.of(), false);
        runner = new JobRunner(JobShaper.of(work, rules, workerEnv), () -> InJvmWorker.WORKER_ID, data, GRACE,
                1000, 1L << 30);
        InJvmWorker.serve(server, runner);
    }

    @AfterEach
    void closeChannel() throws InterruptedException {
        TestWorkers.close(channel);
    }

    @AfterAll
    static void cleanUp() {
        runner.close();
        InJvmWorker.deleteTree(work);
        InJvmWorker.deleteTree(data);
        InJvmWorker.deleteTree(outside);
    }

    @Test
    void argumentsArriveByteExact() {
        String[] args = {"two words", "", "  lead and trail  ", "'single' \"double\" \\back", "ü€😀 中文", "$HOME;`x`|*"};
        String output = calls.run(job("printf", "%s|", args).build());
        assertEquals(String.join("|", args) + "|", output);
    }

    @Test
    void anEmptyPathIsLeftOutOfTheCommandLine() {
        assertEquals("a|b|", calls.run(job("printf", "", "%s|", "a", "b").build()));
    }

    @Test
    void theEnvironmentIsTheCleanSetPlusPassedAndRequestedVariables() {
        String id = calls.start(job("sh", "", "-c", "env -0").putEnv("FROM_REQUEST", "x y=z").build());
        String output = calls.output(id);
        Map<String, String> env = new HashMap<>();
        for (String entry : output.split("\0")) {
            env.put(entry.substring(0, entry.indexOf('=')), entry.substring(entry.indexOf('=') + 1));
        }
        TreeSet<String> expected = new TreeSet<>(List.of("PATH", "HOME", "USER", "JOBSCHEDULER_JOB_ID",
                "JOBSCHEDULER_WORKER_ID", "PASSED_ON", "FROM_REQUEST", "PWD"));   // sh sets PWD itself
        for (String optional : List.of("LANG", "TZ")) {
            if (System.getenv(optional) != null) {
                expected.add(optional);
            }
        }
        env.remove("SHLVL");   // some shells count themselves in
        env.remove("_");
        assertEquals(expected, new TreeSet<>(env.keySet()), "no WORKER_SECRET, nothing else of the worker's");
        assertEquals(id, env.get("JOBSCHEDULER_JOB_ID"));
        assertEquals(InJvmWorker.WORKER_ID, env.get("JOBSCHEDULER_WORKER_ID"));
        assertEquals("yes", env.get("PASSED_ON"));
        assertEquals("x y=z", env.get("FROM_REQUEST"));
        assertEquals(System.getenv("PATH"), env.get("PATH"));
    }

    @Test
    void malformedEntriesAreRefusedNamingThem() {
        assertEquals("env 'BAD-NAME': not a variable name ([A-Za-z_][A-Za-z0-9_]*)", calls.refused(
                Status.Code.INVALID_ARGUMENT, job("true", "").putEnv("BAD-NAME", "v").build()));
        assertEquals("env '1X': not a variable name ([A-Za-z_][A-Za-z0-9_]*)", calls.refused(
                Status.Code.INVALID_ARGUMENT, job("true", "").putEnv("1X", "v").build()));
        assertEquals("env 'JOBSCHEDULER_JOB_ID': names starting with JOBSCHEDULER_ are the worker's", calls.refused(
                Status.Code.INVALID_ARGUMENT, job("true", "").putEnv("JOBSCHEDULER_JOB_ID", "mine").build()));
        assertEquals("env 'V': must not contain NUL", calls.refused(
                Status.Code.INVALID_ARGUMENT, job("true", "").putEnv("V", "a\0b").build()));
        assertEquals("args[1]: must not contain NUL", calls.refused(
                Status.Code.INVALID_ARGUMENT, job("true", "", "ok", "a\0b").build()));
        assertEquals("args[0]: 131072 bytes, at most 131071", calls.refused(
                Status.Code.INVALID_ARGUMENT, job("true", "", "a".repeat(128 * 1024)).build()));
        String[] many = new String[10];
        Arrays.fill(many, "a".repeat(120_000));
        assertTrue(calls.refused(Status.Code.INVALID_ARGUMENT, job("true", "", many).build())
                .startsWith("args and env: 1200"), "a bound on the whole command line");
        assertEquals("timeout: must be more than 0", calls.refused(
                Status.Code.INVALID_ARGUMENT, job("true", "").setTimeoutMillis(-1).build()));
    }

    @Test
    void aJobStillRunningAtItsTimeoutIsStoppedAndFails() {
        long before = System.nanoTime();
        String id = calls.start(job("sleep", "30").setTimeoutMillis(300).build());
        calls.output(id);
        Duration took = Duration.ofNanos(System.nanoTime() - before);
        QueryJobRes status = calls.status(id);
        assertEquals("FAILED", status.getState());
        assertEquals("timed out after 300ms", status.getErrorText());
        assertTrue(took.compareTo(Duration.ofMillis(300).plus(GRACE).plusSeconds(1)) < 0, "ended after " + took);
    }

    @Test
    void aJobThatIgnoresSigtermIsKilledAfterTheGraceAtItsTimeout() {
        String id = calls.start(job("sh", "", "-c", "trap '' TERM; sleep 30 & wait; sleep 30")
                .setTimeoutMillis(1000).build());
        calls.output(id);
        QueryJobRes status = calls.status(id);
        assertEquals("FAILED", status.getState());
        assertEquals("timed out after 1s", status.getErrorText());
        assertEquals(9, status.getSignal());
    }

    @Test
    void aJobThatEndsInTimeIsNotTouchedByItsTimeout() {
        String id = calls.start(job("true", "").setTimeoutMillis(5000).build());
        calls.output(id);
        assertEquals("SUCCEEDED", calls.status(id).getState());
    }

    @Test
    void aTimeoutOverMaxTimeoutIsRefusedNeverClamped() {
        assertEquals("timeout: 6s is longer than this worker's max_timeout of 5s", calls.refused(
                Status.Code.FAILED_PRECONDITION, job("true", "").setTimeoutMillis(6000).build()));
    }

    @Test
    void theReadmesScriptStillRunsUnderConfine() {
        assertEquals("1\n2\n3\n", calls.run(job("bash", "scripts/count.sh").build()));
        assertEquals("1\n2\n3\n", calls.run(job("bash", "link-in").build()), "a link inside work_dir is fine");
    }

    @Test
    void pathsOutsideWorkDirAreRefused() {
        for (String path : List.of("../../../../etc/passwd", "/etc/passwd", "scripts/../../x", "link-out",
                "dir-out/secret", "dir-out/not-yet-there", outside.resolve("secret").toString())) {
            assertEquals("path '" + path + "': outside work_dir (jobs.confine)",
                    calls.refused(Status.Code.PERMISSION_DENIED, job("cat", path).build()), path);
        }
    }

    @Test
    void commandsWithASlashOutsideWorkDirAreRefused() {
        for (String command : List.of("../../../../bin/cat", "/bin/cat", "/usr/bin/env", "dir-out/secret")) {
            assertEquals("command '" + command + "': outside work_dir (jobs.confine)",
                    calls.refused(Status.Code.PERMISSION_DENIED, job(command, "").build()), command);
        }
    }

    @Test
    void argumentsAreNotInspected() {
        // confine is policy, not a sandbox: an argument may name anything (README, "Jobs").
        assertEquals("outside\n", calls.run(job("sh", "", "-c", "cat " + outside.resolve("secret")).build()));
    }
}
