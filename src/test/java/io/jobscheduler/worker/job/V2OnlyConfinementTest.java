package io.jobscheduler.worker.job;

import io.jobscheduler.config.JobRules;
import io.jobscheduler.config.Limits;
import io.jobscheduler.worker.cgroup.CgroupLayout;
import io.jobscheduler.worker.cgroup.Control;
import io.jobscheduler.worker.cgroup.Enforcement;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The runner on the v2-only path, on this machine's real cgroup2 hierarchy (its mountinfo with the v1 mounts
 * hidden, as a pure cgroup v2 host shows it): a stop reaches setsid descendants through {@code cgroup.kill},
 * each cgroup goes at its job's end, a limit the hierarchy cannot enforce is refused naming it, and one it
 * can is enforced. On the hybrid development machines v2 offers no memory, cpu or pids controller: those
 * are the refusals, and the memory test skips naming what is missing.
 */
class V2OnlyConfinementTest {
    private static final String PYTHON = "/usr/bin/python3";
    @TempDir
    Path work;
    @TempDir
    Path data;
    private Path mountinfo;
    private CgroupLayout layout;
    private JobConfinement confinement;

    @BeforeEach
    void openTheV2OnlyView() throws Exception {
        mountinfo = Files.createTempFile("mountinfo-v2-only", "");
        Files.writeString(mountinfo, Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .filter(line -> line.contains(" - cgroup2 ")).collect(Collectors.joining("\n", "", "\n")));
        layout = CgroupLayout.detect(mountinfo, Path.of("/proc/self/cgroup"), Path.of("/"));
        skipUnless(layout.kind() == CgroupLayout.Kind.V2, "no usable cgroup2 hierarchy: " + layout.describe());
        confinement = JobConfinement.open(layout, data);
        skipUnless(confinement.hasCgroups(), "no job cgroups on cgroup2: " + confinement.describe());
        System.out.println("v2-only: " + confinement.describe());
    }

    @AfterEach
    void close() throws Exception {
        if (confinement != null) {
            confinement.close();
        }
        Files.deleteIfExists(mountinfo);
    }

    private JobRunner runner() throws Exception {
        return new JobRunner(JobShaper.of(work, JobRules.OPEN, System.getenv(), confinement), () -> "", data,
                Duration.ofMillis(500), 100, 1L << 20);
    }

    private static JobRequest request(String command, List<String> args, Limits limits) {
        return new JobRequest(command, "", args, Map.of(), Optional.empty(), Optional.empty(), limits);
    }

    @Test
    void aStopEndsSetsidDescendantsAndTheCgroupGoes() throws Exception {
        String marker = "421." + (System.nanoTime() % 1_000_000);
        try (JobRunner runner = runner()) {
            JobStatus job = runner.start(request("sh", List.of("-c", "setsid sleep " + marker + " & setsid -f sleep "
                    + marker + " >/dev/null 2>&1; exec sleep " + marker), Limits.NONE));
            long deadline = System.nanoTime() + JobFixtures.GENEROUS.toNanos();
            while (survivors(marker) != 3) {
                assertTrue(System.nanoTime() - deadline < 0, "three sleeps never ran");
                Thread.sleep(20);
            }
            assertEquals(JobState.STOPPED, runner.stop(job.id()).state());
            assertEquals(0, survivors(marker), "survivors of the stop, counted with ps");
            assertEquals(List.of(), cgroupsOf(job.id()));
        }
    }

    @Test
    void aLimitV2CannotEnforceHereIsRefusedNamingIt() throws Exception {
        Optional<Control> missing = Stream.of(Control.CPU, Control.PIDS)
                .filter(c -> layout.enforcement().means(c) == Enforcement.Means.NONE).findFirst();
        skipUnless(missing.isPresent(), "cgroup v2 enforces cpu and pids here: " + layout.describe());
        Limits limits = missing.get() == Control.CPU
                ? new Limits(OptionalLong.empty(), OptionalLong.of(500), OptionalLong.empty(), OptionalLong.empty())
                : new Limits(OptionalLong.empty(), OptionalLong.empty(), OptionalLong.of(10), OptionalLong.empty());
        try (JobRunner runner = runner()) {
            StartRefusedException refused = assertThrows(StartRefusedException.class,
                    () -> runner.start(request("true", List.of(), limits)));
            assertEquals(StartRefusedException.Reason.UNACCEPTABLE, refused.reason(), "FAILED_PRECONDITION: 422");
            String word = missing.get().word();
            assertTrue(refused.getMessage().startsWith("limits." + word + ": this worker cannot enforce a " + word
                    + " limit: the " + word + " controller is not available to cgroup v2 jobs"), refused.getMessage());
            assertEquals(List.of(), runner.list(), "nothing ran");
        }
    }

    @Test
    void aJobPastItsMemoryLimitFailsOutOfMemory() throws Exception {
        skipUnless(layout.enforcement().means(Control.MEMORY) == Enforcement.Means.CGROUP,
                "memory is not a cgroup v2 controller here: " + layout.enforcement().note(Control.MEMORY));
        try (JobRunner runner = runner()) {
            JobStatus job = runner.start(request(PYTHON, List.of("-c", "s = 'x' * (256 << 20); print(len(s))"),
                    new Limits(OptionalLong.of(64L << 20), OptionalLong.empty(), OptionalLong.empty(),
                            OptionalLong.empty())));
            JobStatus ended = runner.awaitEnd(job.id(), JobFixtures.GENEROUS);
            assertEquals(JobState.FAILED, ended.state());
            assertEquals("out of memory (limit 64 MiB)", ended.errorText());
        }
    }

    private static void skipUnless(boolean condition, String why) {
        if (!condition) {
            System.err.println("SKIPPED (missing on this machine): " + why);
        }
        Assumptions.assumeTrue(condition, why);
    }

    private static List<Path> cgroupsOf(String jobId) throws Exception {
        try (Stream<Path> tree = Files.walk(Path.of("/sys/fs/cgroup"), 8)) {
            return tree.filter(p -> p.getFileName() != null && p.getFileName().toString().equals(jobId)).toList();
        }
    }

    private static long survivors(String marker) throws Exception {
        Process ps = new ProcessBuilder("ps", "-eo", "stat=,args=").start();
        String table = new String(ps.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        ps.waitFor();
        return table.lines().map(line -> line.strip().split("\\s+", 2))
                .filter(row -> row.length == 2 && row[1].equals("sleep " + marker) && !row[0].startsWith("Z"))
                .count();
    }
}
