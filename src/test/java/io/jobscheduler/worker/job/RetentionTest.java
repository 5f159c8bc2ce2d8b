package io.jobscheduler.worker.job;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static io.jobscheduler.worker.job.JobFixtures.GENEROUS;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(120)
class RetentionTest {
    @TempDir
    Path work;
    @TempDir
    Path data;

    private static String runToEnd(JobRunner runner, String command, String path) throws Exception {
        return runner.awaitEnd(runner.start(command, path).id(), GENEROUS).id();
    }

    @Test
    void theOldestFinishedJobsGoWhenMoreThanKeepFinishedExistButRunningJobsStay() throws Exception {
        try (JobRunner runner = new JobRunner(work, data, Duration.ofMillis(300), 2, 1L << 30)) {
            String running = runner.start("sleep", "1000").id();
            String a = runToEnd(runner, "echo", "a");
            String b = runToEnd(runner, "echo", "b");
            String c = runToEnd(runner, "echo", "c");
            String d = runToEnd(runner, "echo", "d");

            assertEquals(List.of(d, c, running), runner.list().stream().map(JobStatus::id).toList());
            assertThrows(UnknownJobException.class, () -> runner.status(a));
            assertFalse(Files.exists(data.resolve("jobs").resolve(a)), "record and output are deleted");
            assertFalse(Files.exists(data.resolve("jobs").resolve(b)));
            assertTrue(Files.exists(data.resolve("jobs").resolve(c).resolve("output")));

            runner.stop(running);
            assertEquals(List.of(d, running), runner.list().stream().map(JobStatus::id).toList(),
                    "the stopped job is now the newest finished one");
        }
        try (JobRunner restarted = new JobRunner(work, data, Duration.ofMillis(300), 1, 1L << 30)) {
            assertEquals(1, restarted.list().size(), "a smaller limit applies at start-up");
        }
    }

    @Test
    void theOldestFinishedJobsGoWhenTheirOutputExceedsKeepOutputBytes() throws Exception {
        try (JobRunner runner = new JobRunner(work, data, Duration.ofMillis(300), 100, 1000)) {
            String first = runToEnd(runner, "true", "");
            JobFixtures.script(work, "six.sh", "head -c 600 /dev/zero");
            String a = runToEnd(runner, "sh", "six.sh");
            String b = runToEnd(runner, "sh", "six.sh");
            assertEquals(600, runner.output(b).length());
            assertEquals(List.of(b), runner.list().stream().map(JobStatus::id).toList());
            assertThrows(UnknownJobException.class, () -> runner.status(a));
            assertThrows(UnknownJobException.class, () -> runner.status(first));
        }
    }

    @Test
    void jobsEndingConcurrentlyLeaveExactlyTheNewestKeepFinishedOnesInMemoryAndOnDisk() throws Exception {
        int keep = 5;
        List<JobStatus> all = new ArrayList<>();
        try (JobRunner runner = new JobRunner(work, data, Duration.ofMillis(300), keep, 1L << 30)) {
            try (ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
                List<Callable<List<JobStatus>>> tasks = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    tasks.add(() -> {
                        List<JobStatus> mine = new ArrayList<>();
                        for (int i = 0; i < 10; i++) {
                            mine.add(runner.awaitEnd(runner.start("true", "").id(), GENEROUS));
                        }
                        return mine;
                    });
                }
                for (Future<List<JobStatus>> f : threads.invokeAll(tasks)) {
                    all.addAll(f.get());
                }
            }
            List<String> kept = runner.list().stream().map(JobStatus::id).sorted().toList();
            List<String> newest = all.stream().sorted(Comparator.comparing(JobStatus::finishedAt).reversed())
                    .limit(keep).map(JobStatus::id).sorted().toList();
            assertEquals(newest, kept, "the jobs that ended last are kept, whatever order their ends were handled in");
            try (Stream<Path> dirs = Files.list(data.resolve("jobs"))) {
                assertEquals(kept, dirs.map(d -> d.getFileName().toString()).sorted().toList(),
                        "evicted jobs' folders are gone once every job has settled");
            }
        }
    }
}
