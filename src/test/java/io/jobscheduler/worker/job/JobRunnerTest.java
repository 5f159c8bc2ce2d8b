package io.jobscheduler.worker.job;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static io.jobscheduler.worker.job.JobFixtures.GENEROUS;
import static io.jobscheduler.worker.job.JobFixtures.awaitOutput;
import static io.jobscheduler.worker.job.JobFixtures.livingMembers;
import static io.jobscheduler.worker.job.JobFixtures.membersAfterKill;
import static io.jobscheduler.worker.job.JobFixtures.script;
import static io.jobscheduler.worker.job.JobFixtures.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(120)
class JobRunnerTest {
    @TempDir
    Path work;
    @TempDir
    Path data;
    private JobRunner runner;

    @BeforeEach
    void open() throws Exception {
        runner = new JobRunner(work, data, Duration.ofMillis(300), 100, 1L << 30);
    }

    @AfterEach
    void close() {
        runner.close();
    }

    private JobStatus run(String command, String path) throws Exception {
        JobStatus started = runner.start(command, path);
        return runner.awaitEnd(started.id(), GENEROUS);
    }

    @Test
    void aJobThatExitsZeroSucceeds() throws Exception {
        script(work, "ok.sh", "echo hello");
        JobStatus started = runner.start("sh", "ok.sh");
        assertEquals(JobState.RUNNING, started.state());
        assertEquals("ok.sh", started.path());
        JobStatus ended = runner.awaitEnd(started.id(), GENEROUS);
        assertEquals(JobState.SUCCEEDED, ended.state());
        assertTrue(ended.done());
        assertFalse(ended.error());
        assertEquals("", ended.errorText());
        assertEquals(0, ended.exitCode().getAsInt());
        assertTrue(ended.signal().isEmpty());
        assertTrue(ended.finishedAt() != null && !ended.finishedAt().isBefore(ended.startedAt()));
        assertEquals("hello\n", text(runner.output(started.id())));
        assertTrue(Files.isRegularFile(data.resolve("jobs").resolve(started.id()).resolve("job.properties")));
    }

    @Test
    void aJobThatExitsNonZeroFailsWithItsExitStatus() throws Exception {
        script(work, "three.sh", "exit 3");
        JobStatus ended = run("sh", "three.sh");
        assertEquals(JobState.FAILED, ended.state());
        assertTrue(ended.error());
        assertEquals("exit status 3", ended.errorText());
        assertEquals(3, ended.exitCode().getAsInt());
    }

    @Test
    void aJobKilledByASignalFailsNamingTheSignal() throws Exception {
        script(work, "suicide.sh", "kill -9 $$");
        JobStatus ended = run("sh", "suicide.sh");
        assertEquals(JobState.FAILED, ended.state());
        assertEquals("killed by signal 9", ended.errorText());
        assertEquals(9, ended.signal().getAsInt());
        assertTrue(ended.exitCode().isEmpty());
    }

    @Test
    void aMissingCommandFailsToStartAtOnce() {
        SpawnException e = assertThrows(SpawnException.class, () -> runner.start("no-such-command-xyz", ""));
        assertEquals("command not found: no-such-command-xyz (ENOENT)", e.getMessage());
        assertFalse(e.workerExhausted());
        assertTrue(runner.list().isEmpty(), "a job that never started is not listed");
    }

    @Test
    void aFileWithoutExecutePermissionFailsToStartAtOnce() throws Exception {
        Files.writeString(work.resolve("x"), "#!/bin/sh\necho hi\n");
        Files.setPosixFilePermissions(work.resolve("x"), PosixFilePermissions.fromString("rw-r--r--"));
        SpawnException e = assertThrows(SpawnException.class, () -> runner.start("./x", ""));
        assertEquals("cannot start ./x: permission denied (EACCES)", e.getMessage());
    }

    @Test
    void jobsStartAndFailToStartFromVirtualThreadsToo() throws Exception {
        try (var pool = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            JobStatus started = pool.submit(() -> runner.start("echo", "virtual")).get();
            assertEquals("virtual\n", text(runner.output(started.id())));
            var failure = assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> pool.submit(() -> runner.start("no-such-command-xyz", "")).get());
            assertEquals(SpawnException.class, failure.getCause().getClass());
        }
    }

    @Test
    void anEmptyCommandIsRejected() {
        var e = assertThrows(StartRefusedException.class, () -> runner.start("", "x.sh"));
        assertEquals(StartRefusedException.Reason.INVALID, e.reason());
    }

    @Test
    void aCommandWithASlashResolvesAgainstTheWorkDirectory() throws Exception {
        script(work, "hello.sh", "echo \"hello $1\"");
        Files.setPosixFilePermissions(work.resolve("hello.sh"), PosixFilePermissions.fromString("rwxr-xr-x"));
        JobStatus ended = run("./hello.sh", "world");
        assertEquals(JobState.SUCCEEDED, ended.state());
        assertEquals("hello world\n", text(runner.output(ended.id())));
    }

    @Test
    void aJobRunsInTheWorkDirectory() throws Exception {
        JobStatus ended = run("pwd", "");
        assertEquals(work.toRealPath() + "\n", text(runner.output(ended.id())));
    }

    @Test
    void stdoutAndStderrInterleaveInWriteOrder() throws Exception {
        script(work, "both.sh", "for i in 1 2 3 4 5; do echo out$i; echo err$i >&2; done");
        JobStatus ended = run("sh", "both.sh");
        assertEquals("out1\nerr1\nout2\nerr2\nout3\nerr3\nout4\nerr4\nout5\nerr5\n", text(runner.output(ended.id())));
    }

    @Test
    void aJobInheritsNoDescriptorOfTheWorker() throws Exception {
        try (ServerSocket open = new ServerSocket(0)) {
            JobStatus ended = run("ls", "/proc/self/fd");
            Set<String> fds = new TreeSet<>(Arrays.asList(text(runner.output(ended.id())).trim().split("\n")));
            assertTrue(fds.containsAll(Set.of("0", "1", "2")), fds.toString());
            // 3 is the directory ls itself opens to list /proc/self/fd.
            assertTrue(Set.of("0", "1", "2", "3").containsAll(fds), "inherited descriptors: " + fds);
            assertTrue(open.getLocalPort() > 0);
        }
        JobStatus stdin = run("readlink", "/proc/self/fd/0");
        assertEquals("/dev/null\n", text(runner.output(stdin.id())));
    }

    @Test
    void stopKillsTheWholeProcessGroupAfterTheGracePeriod() throws Exception {
        // The job ignores SIGTERM, and so does its grandchild in the background.
        script(work, "stubborn.sh", "trap '' TERM\nsleep 1000 &\necho ready\nwait\necho unreachable");
        JobStatus started = runner.start("sh", "stubborn.sh");
        int pgid = runner.pgidOf(started.id());
        awaitOutput(runner.output(started.id()), "ready");
        assertEquals(2, livingMembers(pgid).size(), "the script and its sleep run in the job's group");

        JobStatus stopped = runner.stop(started.id());

        assertEquals(JobState.STOPPED, stopped.state());
        assertEquals("stopped", stopped.errorText());
        assertTrue(stopped.error());
        assertEquals(9, stopped.signal().getAsInt(), "SIGTERM was ignored, so SIGKILL ended it");
        assertEquals(List.of(), membersAfterKill(pgid));
        assertEquals("ready\n", text(runner.output(started.id())));
        assertEquals(0, runner.runningCount());
    }

    @Test
    void stopEndsAJobEvenWhenADescendantLeftTheGroupWithTheOutputOpen() throws Exception {
        // setsid puts the sleep beyond the reach of kill(-pgid); it still holds the output pipe.
        // It reports its pid only once it has left, so the stop cannot overtake the setsid.
        script(work, "escape.sh", "setsid sh -c 'echo \"$$\"; exec sleep 1000' &\nwait");
        JobStatus started = runner.start("sh", "escape.sh");
        OutputLog log = runner.output(started.id());
        awaitOutput(log, "\n");
        long escaped = Long.parseLong(new String(JobFixtures.read(log, 0, 100, false).bytes()).trim());
        assertFalse(livingMembers(runner.pgidOf(started.id())).contains((int) escaped));
        try {
            JobStatus stopped = runner.stop(started.id());
            assertEquals(JobState.STOPPED, stopped.state());
            assertTrue(log.complete(), "the output was cut loose from the escaped process");
            assertTrue(ProcessHandle.of(escaped).isPresent(), "the escaped process is out of reach, as documented");
        } finally {
            ProcessHandle.of(escaped).ifPresent(ProcessHandle::destroyForcibly);
        }
    }

    @Test
    void stopOfAJobThatDiesOfSigtermReportsStopped() throws Exception {
        JobStatus started = runner.start("sleep", "1000");
        assertEquals(1, runner.runningCount());
        JobStatus stopped = runner.stop(started.id());
        assertEquals(JobState.STOPPED, stopped.state());
        assertEquals("stopped", stopped.errorText());
        assertEquals(15, stopped.signal().getAsInt());
        assertEquals(List.of(), membersAfterKill(runner.pgidOf(started.id())));
    }

    @Test
    void stopOfAFinishedJobChangesNothing() throws Exception {
        JobStatus ended = run("true", "");
        assertEquals(ended, runner.stop(ended.id()));
        assertEquals(JobState.SUCCEEDED, runner.status(ended.id()).state());
    }

    @Test
    void unknownJobsAreReportedAsSuch() {
        assertThrows(UnknownJobException.class, () -> runner.status("nope"));
        assertThrows(UnknownJobException.class, () -> runner.stop("nope"));
        assertThrows(UnknownJobException.class, () -> runner.output("nope"));
    }

    @Test
    void theListShowsEveryJobNewestFirst() throws Exception {
        JobStatus first = run("true", "");
        JobStatus second = run("false", "");
        List<JobStatus> list = runner.list();
        assertEquals(List.of(second.id(), first.id()), list.stream().map(JobStatus::id).toList());
        assertEquals("exit status 1", list.getFirst().errorText());
    }

    @Test
    void closeStopsEveryRunningJob() throws Exception {
        JobStatus a = runner.start("sleep", "1000");
        JobStatus b = runner.start("sleep", "1000");
        runner.close();
        assertEquals(JobState.STOPPED, runner.status(a.id()).state());
        assertEquals(JobState.STOPPED, runner.status(b.id()).state());
        assertEquals(List.of(), membersAfterKill(runner.pgidOf(a.id())));
        assertThrows(RunnerClosedException.class, () -> runner.start("true", ""));
    }
}
