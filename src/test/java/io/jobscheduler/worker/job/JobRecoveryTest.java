package io.jobscheduler.worker.job;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static io.jobscheduler.worker.job.JobFixtures.GENEROUS;
import static io.jobscheduler.worker.job.JobFixtures.awaitOutput;
import static io.jobscheduler.worker.job.JobFixtures.livingMembers;
import static io.jobscheduler.worker.job.JobFixtures.script;
import static io.jobscheduler.worker.job.JobFixtures.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(120)
class JobRecoveryTest {
    @TempDir
    Path work;
    @TempDir
    Path data;

    private JobRunner newRunner() throws Exception {
        return new JobRunner(work, data, Duration.ofMillis(300), 100, 1L << 30);
    }

    @Test
    void aJobLeftRunningByADeadWorkerIsKilledAndMarkedFailedByTheNextOne() throws Exception {
        script(work, "long.sh", "sleep 1000 &\necho started\nwait");
        JobRunner crashed = newRunner();
        JobStatus job = crashed.start("sh", "long.sh");
        awaitOutput(crashed.output(job.id()), "started");
        int pgid = crashed.pgidOf(job.id());
        List<Integer> members = livingMembers(pgid);
        assertEquals(2, members.size(), "the script and its sleep run");
        crashed.abandon(); // as if the worker died: no signal sent, the record still says RUNNING

        try (JobRunner restarted = newRunner()) {
            JobStatus recovered = restarted.status(job.id());
            assertEquals(JobState.FAILED, recovered.state());
            assertEquals("worker restarted while the job was running", recovered.errorText());
            assertTrue(recovered.done() && recovered.error());
            assertTrue(recovered.finishedAt() != null);
            assertEquals(0, restarted.runningCount());

            for (int pid : members) {
                Optional<ProcessHandle> handle = ProcessHandle.of(pid);
                if (handle.isPresent()) {
                    handle.get().onExit().get(GENEROUS.toSeconds(), TimeUnit.SECONDS);
                }
            }
            assertEquals(List.of(), livingMembers(pgid));
            OutputLog log = restarted.output(job.id());
            assertTrue(log.complete());
            assertEquals("started\n", text(log));
            assertEquals(recovered, restarted.stop(job.id()), "stopping it again is a no-op");
        }

        try (JobRunner again = newRunner()) {
            assertEquals(JobState.FAILED, again.status(job.id()).state());
            assertEquals("worker restarted while the job was running", again.status(job.id()).errorText());
        }
    }

    @Test
    void aProcessThatMerelyReusesTheRecordedGroupIdIsNotKilled() throws Exception {
        JobRunner crashed = newRunner();
        JobStatus job = crashed.start("sleep", "1000");
        int pgid = crashed.pgidOf(job.id());
        crashed.abandon();
        // Make the record describe a different process that happened to have the same id.
        Path record = data.resolve("jobs").resolve(job.id()).resolve("job.properties");
        String text = Files.readString(record);
        Files.writeString(record, text.replaceAll("startTicks=\\d+", "startTicks=1"));
        try {
            try (JobRunner restarted = newRunner()) {
                assertEquals("worker restarted while the job was running", restarted.status(job.id()).errorText());
                assertEquals(1, livingMembers(pgid).size(), "an unrelated process with that id is left alone");
            }
        } finally {
            Posix.killGroup(pgid, Posix.SIGKILL);
        }
    }

    @Test
    void finishedJobsAreRememberedAcrossRunnersAndNeverRerun() throws Exception {
        script(work, "once.sh", "echo ran >> runs.txt\necho done\nexit 3");
        JobStatus ended;
        try (JobRunner first = newRunner()) {
            ended = first.awaitEnd(first.start("sh", "once.sh").id(), GENEROUS);
        }
        try (JobRunner second = newRunner()) {
            assertEquals(ended, second.status(ended.id()));
            assertEquals(List.of(ended), second.list());
            assertEquals("done\n", text(second.output(ended.id())));
        }
        assertEquals("ran\n", Files.readString(work.resolve("runs.txt")));
        assertFalse(ended.exitCode().isEmpty());
    }

    @Test
    void aJobFolderWhoseFirstRecordIsEmptyIsSkippedAsACrashMidStart() throws Exception {
        String kept;
        try (JobRunner first = newRunner()) {
            kept = first.awaitEnd(first.start("true", "").id(), GENEROUS).id();
        }
        Path crashed = Files.createDirectory(data.resolve("jobs").resolve("crashed-mid-start"));
        Files.createFile(crashed.resolve(JobRecords.RECORD)); // created, never written
        Files.createFile(crashed.resolve(JobRecords.OUTPUT));

        try (JobRunner restarted = newRunner()) {
            assertEquals(List.of(kept), restarted.list().stream().map(JobStatus::id).toList());
        }
    }
}
