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
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import static io.jobscheduler.worker.JobCalls.job;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A worker running as root with {@code run_as = "jobscheduler-test"} (made by this test with
 * useradd when missing, and removed after), {@code allowed_users = ["nobody"]} and
 * {@code job_dir = "isolated"}: real processes as real users, over the worker's gRPC service.
 */
@ServerTest
class RunAsServerTest {
    static final String USER = "jobscheduler-test";
    private static Path work;
    private static Path data;
    private static JobRunner runner;
    private static boolean createdUser;

    private final ManagedChannel channel;
    private final JobCalls calls;

    RunAsServerTest(WebServer server) {
        channel = TestWorkers.channel(server.port());
        calls = new JobCalls(channel);
    }

    @SetUpServer
    static void server(WebServerConfig.Builder server) throws Exception {
        boolean root = ProcessHandle.current().info().user().orElse("").equals("root");
        if (!root) {
            System.err.println("SKIPPED: RunAsServerTest needs a worker running as root");
        }
        Assumptions.assumeTrue(root, "runs as root to run jobs as other users");
        if (sh("id", "-u", USER).exit() != 0) {
            Result made = sh("useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent", USER);
            assertEquals(0, made.exit(), made.output());
            createdUser = true;
        }
        work = Files.createTempDirectory("run-as-work");
        data = Files.createTempDirectory("run-as-data");
        Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.writeString(work.resolve("root-only"), "root's secret\n");
        Files.setPosixFilePermissions(work.resolve("root-only"), PosixFilePermissions.fromString("rw-------"));
        Files.writeString(work.resolve("whoami.sh"), "id -u\n");
        JobRules rules = new JobRules(List.of(), Optional.empty(), Optional.empty(), List.of(), false,
                Optional.of(USER), List.of("nobody"), true);
        runner = new JobRunner(JobShaper.of(work, rules, System.getenv()), () -> "", data, Duration.ofMillis(500),
                2, 1L << 30);
        InJvmWorker.serve(server, runner);
    }

    @AfterEach
    void closeChannel() throws InterruptedException {
        TestWorkers.close(channel);
    }

    @AfterAll
    static void cleanUp() throws Exception {
        if (runner != null) {
            runner.close();
        }
        InJvmWorker.deleteTree(work);
        InJvmWorker.deleteTree(data);
        if (createdUser) {
            Result removed = sh("userdel", USER);
            assertEquals(0, removed.exit(), removed.output());
        }
    }

    record Result(int exit, String output) {
    }

    static Result sh(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        return new Result(p.waitFor(), output);
    }

    @Test
    void aJobRunsAsRunAsWithItsGroupsFromItsFirstInstruction() throws Exception {
        assertEquals(sh("id", "-u", USER).output(), calls.run(job("id", "", "-u").build()).strip());
        assertEquals(sh("id", "-G", USER).output(), calls.run(job("id", "", "-G").build()).strip());
        assertEquals(sh("id", "-u", USER).output(), calls.run(job("sh", work.resolve("whoami.sh").toString()).build())
                .strip(), "a script in work_dir, passed by its absolute path");
        String env = calls.run(job("sh", "", "-c", "echo $USER $HOME").build()).strip();
        assertEquals(USER + " /nonexistent", env, "HOME and USER are the job's user's");
    }

    @Test
    void aJobCannotReadARootOnlyFile() {
        String id = calls.start(job("cat", work.resolve("root-only").toString()).build());
        String output = calls.output(id);
        QueryJobRes status = calls.status(id);
        assertEquals("FAILED", status.getState(), output);
        assertTrue(output.contains("Permission denied"), output);
        assertFalse(output.contains("secret"), output);
    }

    @Test
    void aRequestMayNameAnAllowedUserOnly() throws Exception {
        assertEquals(sh("id", "-u", "nobody").output(), calls.run(job("id", "", "-u").setUser("nobody").build()).strip());
        assertEquals("user 'root': not in this worker's allowed_users",
                calls.refused(Status.Code.PERMISSION_DENIED, job("id", "").setUser("root").build()));
    }

    @Test
    void anIsolatedJobRunsInAFreshFolderOfItsUserThatGoesWithTheJob() throws Exception {
        String id = calls.start(job("sh", "", "-c", "pwd; ls -A; stat -c %u .; touch made-here; ls").build());
        List<String> lines = calls.output(id).lines().toList();
        Path jobFolder = data.resolve("jobs").resolve(id);
        assertEquals(List.of(jobFolder.resolve("work").toRealPath().toString(), sh("id", "-u", USER).output(),
                "made-here"), lines, "an empty folder of the job's user");
        assertEquals(0, (int) Files.getAttribute(jobFolder.resolve("output"), "unix:uid"),
                "output stays the worker's");
        // keep_finished = 2: two more jobs retire this one with everything in its folder.
        calls.run(job("true", "").build());
        calls.run(job("true", "").build());
        assertFalse(Files.exists(jobFolder), "the job's folder, working folder included, is removed");
    }
}
