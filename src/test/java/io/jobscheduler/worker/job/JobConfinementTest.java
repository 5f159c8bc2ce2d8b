package io.jobscheduler.worker.job;

import io.jobscheduler.config.ConfigException;
import io.jobscheduler.config.JobRules;
import io.jobscheduler.config.Limits;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The runner with job confinement: real cgroups of this machine (a worker restart ends what a crashed one
 * left in its job cgroups), and the fallback without cgroups (RLIMIT_AS for memory; cpu and pids refused).
 */
class JobConfinementTest {
    private static final String PYTHON = "/usr/bin/python3";
    @TempDir
    Path work;
    @TempDir
    Path data;

    private static JobRequest limited(String command, List<String> args, Limits limits) {
        return new JobRequest(command, "", args, Map.of(), Optional.empty(), Optional.empty(), limits);
    }

    private static Limits memory(long bytes) {
        return new Limits(OptionalLong.of(bytes), OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty());
    }

    private static Limits cpu(long millis) {
        return new Limits(OptionalLong.empty(), OptionalLong.of(millis), OptionalLong.empty(), OptionalLong.empty());
    }

    private static Limits pids(long max) {
        return new Limits(OptionalLong.empty(), OptionalLong.empty(), OptionalLong.of(max), OptionalLong.empty());
    }

    @Test
    void withoutCgroupsMemoryIsAnAddressSpaceLimitAndCpuAndPidsAreRefusedNamingThem() throws Exception {
        JobConfinement none = JobConfinement.withoutCgroups("test: no cgroups");
        assertEquals(List.of("memory", "output"), none.enforcedLimits());
        JobShaper shaper = JobShaper.of(work, JobRules.OPEN, System.getenv(), none);
        StartRefusedException cpuRefused = assertThrows(StartRefusedException.class,
                () -> shaper.plan(limited("true", List.of(), cpu(500))));
        assertEquals(StartRefusedException.Reason.UNACCEPTABLE, cpuRefused.reason());
        assertTrue(cpuRefused.getMessage().startsWith("limits.cpu: this worker cannot enforce a cpu limit: test: no"
                + " cgroups"), cpuRefused.getMessage());
        StartRefusedException pidsRefused = assertThrows(StartRefusedException.class,
                () -> shaper.plan(limited("true", List.of(), pids(10))));
        assertTrue(pidsRefused.getMessage().startsWith("limits.pids: this worker cannot enforce a pids limit"),
                pidsRefused.getMessage());
        ConfigException atStartUp = assertThrows(ConfigException.class, () -> JobShaper.of(work,
                JobRules.OPEN.withLimits(cpu(500), Limits.NONE), System.getenv(), none));
        assertTrue(atStartUp.getMessage().startsWith("jobs.default_limits.cpu: this worker cannot enforce"),
                atStartUp.getMessage());

        Assumptions.assumeTrue(Files.isExecutable(Path.of(JobConfinement.PRLIMIT)), "no " + JobConfinement.PRLIMIT);
        try (JobRunner runner = new JobRunner(shaper, () -> "", data, Duration.ofMillis(500), 100, 1L << 20)) {
            JobStatus hog = runner.start(limited(PYTHON, List.of("-c", "s = 'x' * (256 << 20); print(len(s))"),
                    memory(64L << 20)));
            JobStatus ended = runner.awaitEnd(hog.id(), JobFixtures.GENEROUS);
            assertEquals(JobState.FAILED, ended.state());
            assertTrue(JobFixtures.text(runner.output(hog.id())).contains("MemoryError"),
                    "RLIMIT_AS fails the allocation: " + JobFixtures.text(runner.output(hog.id())));
        }
    }

    @Test
    void aRestartedWorkerKillsWhatACrashedOneLeftInItsJobCgroups() throws Exception {
        JobConfinement first = JobConfinement.open(data);
        skipUnlessCgroups(first);
        String marker = "420." + (System.nanoTime() % 1_000_000);
        JobShaper shaper = JobShaper.of(work, JobRules.OPEN, System.getenv(), first);
        JobRunner crashed = new JobRunner(shaper, () -> "", data, Duration.ofMillis(500), 100, 1L << 20);
        JobStatus job = crashed.start(limited("sh", List.of("-c", "setsid -f sleep " + marker
                + " >/dev/null 2>&1; exec sleep " + marker), Limits.NONE));
        awaitSurvivors(marker, 2);
        crashed.abandon(); // as if the worker died: nothing signalled, the cgroup left behind
        assertFalse(cgroupsOf(job.id()).isEmpty(), "the crashed worker's job cgroup is still there");

        JobConfinement restarted = JobConfinement.open(data);
        try {
            assertEquals(0, survivors(marker), "the restart killed the setsid descendant too");
            assertEquals(List.of(), cgroupsOf(job.id()));
        } finally {
            restarted.close();
        }
        // The crashed worker's record is failed by the next runner, as before.
        try (JobRunner next = new JobRunner(JobShaper.of(work, JobRules.OPEN, System.getenv(),
                JobConfinement.withoutCgroups("test")), () -> "", data, Duration.ofMillis(500), 100, 1L << 20)) {
            assertEquals(JobState.FAILED, next.status(job.id()).state());
        }
    }

    @Test
    void everyJobGetsACgroupRemovedAtItsEnd() throws Exception {
        JobConfinement confinement = JobConfinement.open(data);
        skipUnlessCgroups(confinement);
        try (confinement; JobRunner runner = new JobRunner(JobShaper.of(work, JobRules.OPEN, System.getenv(),
                confinement), () -> "", data, Duration.ofMillis(500), 100, 1L << 20)) {
            JobStatus job = runner.start(limited("cat", List.of("/proc/self/cgroup"), Limits.NONE));
            runner.awaitEnd(job.id(), JobFixtures.GENEROUS);
            String membership = JobFixtures.text(runner.output(job.id()));
            assertTrue(membership.lines().anyMatch(line -> line.startsWith("0::") && line.endsWith("/" + job.id())),
                    "the job ran in its own v2 cgroup from its first instruction:\n" + membership);
            assertEquals(JobState.SUCCEEDED, runner.status(job.id()).state());
            assertEquals(List.of(), cgroupsOf(job.id()));

            SpawnException missing = assertThrows(SpawnException.class,
                    () -> runner.start(limited("no-such-command-xyz", List.of(), Limits.NONE)));
            assertEquals("command not found: no-such-command-xyz (ENOENT)", missing.getMessage(),
                    "behind the join step a missing command is still refused at start");
        }
    }

    private static void skipUnlessCgroups(JobConfinement confinement) {
        if (!confinement.hasCgroups()) {
            System.err.println("SKIPPED (missing on this machine): no job cgroups: " + confinement.describe());
        }
        Assumptions.assumeTrue(confinement.hasCgroups(), confinement.describe());
    }

    private static List<Path> cgroupsOf(String jobId) throws Exception {
        try (Stream<Path> tree = Files.walk(Path.of("/sys/fs/cgroup"), 8)) {
            return tree.filter(p -> p.getFileName() != null && p.getFileName().toString().equals(jobId)).toList();
        }
    }

    private static void awaitSurvivors(String marker, long count) throws Exception {
        long deadline = System.nanoTime() + JobFixtures.GENEROUS.toNanos();
        while (survivors(marker) != count) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError(count + " sleeps " + marker + " never ran");
            }
            Thread.sleep(20);
        }
    }

    /** Processes {@code sleep <marker>} not yet dead (zombies count as dead), from ps. */
    private static long survivors(String marker) throws Exception {
        Process ps = new ProcessBuilder("ps", "-eo", "stat=,args=").start();
        String table = new String(ps.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        ps.waitFor();
        return table.lines().map(line -> line.strip().split("\\s+", 2))
                .filter(row -> row.length == 2 && row[1].equals("sleep " + marker) && !row[0].startsWith("Z"))
                .count();
    }

    @Test
    void theParentNameIsStablePerDataDir() {
        assertEquals(JobConfinement.parentName(Path.of("/a/b")), JobConfinement.parentName(Path.of("/a/./b")));
        assertFalse(JobConfinement.parentName(Path.of("/a/b")).equals(JobConfinement.parentName(Path.of("/a/c"))));
    }
}
