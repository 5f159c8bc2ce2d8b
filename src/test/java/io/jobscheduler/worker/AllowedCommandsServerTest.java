package io.jobscheduler.worker;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.WebServerConfig;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpServer;
import io.jobscheduler.config.JobRules;
import io.jobscheduler.worker.job.JobRunner;
import io.jobscheduler.worker.job.JobShaper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static io.jobscheduler.worker.JobCalls.job;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** {@code allowed_commands = ["printf", "/usr/bin/id"]}: names and absolute paths, over the worker's real gRPC service. */
@ServerTest
class AllowedCommandsServerTest {
    private static Path work;
    private static Path data;
    private static JobRunner runner;

    private final ManagedChannel channel;
    private final JobCalls calls;

    AllowedCommandsServerTest(WebServer server) {
        channel = TestWorkers.channel(server.port());
        calls = new JobCalls(channel);
    }

    @SetUpServer
    static void server(WebServerConfig.Builder server) throws Exception {
        work = Files.createTempDirectory("allowed-work");
        data = Files.createTempDirectory("allowed-data");
        Files.writeString(work.resolve("id"), "#!/bin/sh\necho not the real id\n");
        JobRules rules = new JobRules(List.of(), Optional.empty(), Optional.empty(), List.of("printf", "/usr/bin/id"),
                false, Optional.empty(), List.of(), false);
        runner = new JobRunner(JobShaper.of(work, rules, System.getenv()), () -> "", data, Duration.ofMillis(500),
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
    }

    @Test
    void aListedNameRuns() {
        assertEquals("ok", calls.run(job("printf", "ok").build()));
    }

    @Test
    void aBareNameWhosePathIsListedRunsThatFile() {
        // work_dir holds a script named id: the name is looked up on PATH, never in work_dir.
        assertEquals(ProcessHandle.current().info().user().orElseThrow(), calls.run(job("id", "", "-un").build()).strip());
    }

    @Test
    void aListedAbsolutePathRuns() {
        assertEquals(ProcessHandle.current().info().user().orElseThrow(),
                calls.run(job("/usr/bin/id", "", "-un").build()).strip());
    }

    @Test
    void aBareNameOutsideTheListIsRefused() {
        assertEquals("command 'cat': not in this worker's allowed_commands",
                calls.refused(Status.Code.PERMISSION_DENIED, job("cat", "/etc/hostname").build()));
        assertEquals("command 'bash': not in this worker's allowed_commands",
                calls.refused(Status.Code.PERMISSION_DENIED, job("bash", "", "-c", "printf x").build()));
    }

    @Test
    void aPathOutsideTheListIsRefusedEvenWithAListedName() {
        assertEquals("command '/usr/bin/printf': not in this worker's allowed_commands",
                calls.refused(Status.Code.PERMISSION_DENIED, job("/usr/bin/printf", "x").build()));
        assertEquals("command './id': not in this worker's allowed_commands",
                calls.refused(Status.Code.PERMISSION_DENIED, job("./id", "").build()));
    }
}
