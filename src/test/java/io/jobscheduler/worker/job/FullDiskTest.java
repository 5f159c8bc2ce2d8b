package io.jobscheduler.worker.job;

import io.jobscheduler.Tmpfs;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static io.jobscheduler.worker.job.JobFixtures.GENEROUS;
import static io.jobscheduler.worker.job.JobFixtures.membersAfterKill;
import static io.jobscheduler.worker.job.JobFixtures.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A data_dir on a real 4 MB tmpfs: a job whose output does not fit, then starts on the full disk. */
@Timeout(120)
class FullDiskTest {
    private static final Pattern CUT = Pattern.compile(
            "output was cut at byte (\\d+): the worker's disk is full, no space left on device \\(ENOSPC\\)");

    @TempDir
    Path work;
    @TempDir
    Path base;

    @Test
    void outputThatDoesNotFitFailsTheJobKillsItAndLaterStartsLeaveNothingBehind() throws Exception {
        try (Tmpfs disk = Tmpfs.mount(base.resolve("data"), 4);
             JobRunner runner = new JobRunner(work, disk.dir(), Duration.ofMillis(300), 100, 1L << 30)) {
            // Writes 10 MB, then would sleep on: only a kill ends it early.
            Files.writeString(work.resolve("flood.sh"), "head -c 10000000 /dev/zero\nexec sleep 1000\n");
            JobStatus started = runner.start("sh", "flood.sh");
            OutputLog output = runner.output(started.id());
            IOException followed = assertThrows(IOException.class, () -> text(output));

            JobStatus ended = runner.awaitEnd(started.id(), GENEROUS);
            assertEquals(JobState.FAILED, ended.state(), ended.toString());
            Matcher cut = CUT.matcher(ended.errorText());
            assertTrue(cut.matches(), ended.errorText());
            long at = Long.parseLong(cut.group(1));
            assertTrue(at > 0 && at <= 4 << 20, ended.errorText());
            assertEquals(at, output.length());
            assertEquals(at, Files.size(disk.dir().resolve("jobs").resolve(started.id()).resolve("output")));
            assertEquals(ended.errorText(), followed.getMessage());
            assertEquals(List.of(), membersAfterKill(runner.pgidOf(started.id())), "the job's process group was killed");

            // The disk is full: a start cannot store its record, is refused as the worker's
            // condition, and leaves no folder and no process behind.
            SpawnException refused = assertThrows(SpawnException.class, () -> runner.start("sleep", "1000"));
            assertTrue(refused.workerExhausted(), refused.getMessage());
            assertTrue(refused.getMessage().startsWith("the worker is out of disk space: "), refused.getMessage());
            assertTrue(refused.getMessage().endsWith("no space left on device (ENOSPC)"), refused.getMessage());
            assertEquals(List.of(started.id()), runner.list().stream().map(JobStatus::id).toList());
            awaitFolders(disk.dir(), 1);

            // Room again: the runner serves as before.
            disk.resize(64);
            JobStatus normal = runner.start("echo", "after");
            assertEquals("after\n", text(runner.output(normal.id())));
            assertEquals(JobState.SUCCEEDED, runner.awaitEnd(normal.id(), GENEROUS).state());

            // The final record was stored on the full disk: a later worker knows why the job failed.
            runner.close();
            try (JobRunner later = new JobRunner(work, disk.dir(), Duration.ofMillis(300), 100, 1L << 30)) {
                assertEquals(ended, later.status(started.id()));
            }
        }
    }

    private static void awaitFolders(Path data, int expected) throws Exception {
        long deadline = System.nanoTime() + GENEROUS.toNanos();
        while (true) {
            long count;
            try (var folders = Files.list(data.resolve("jobs"))) {
                count = folders.count();
            }
            if (count == expected) {
                return;
            }
            assertTrue(System.nanoTime() < deadline, count + " job folders, expected " + expected);
            Thread.sleep(20);
        }
    }
}
