package io.jobscheduler.worker.cgroup;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real job cgroups and real processes, for one layout (a subclass each). Every process joins its cgroup
 * before its first instruction through {@link JobCgroup#joiningCommand}. A control the layout cannot
 * enforce here skips its test, naming what is missing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class JobCgroupsContract {
    static final Duration REMOVE_TIMEOUT = Duration.ofSeconds(10);
    private static final String PYTHON = "/usr/bin/python3";

    private final List<Process> started = new ArrayList<>();
    private final List<JobCgroup> created = new ArrayList<>();
    CgroupLayout layout;
    JobCgroups cgroups;
    private List<Path> parents;

    /** The layout under test, or a reason it is not available here (then every test is skipped). */
    abstract CgroupLayout layout() throws IOException;

    @BeforeAll
    void openTheWorkersParent() throws IOException {
        layout = layout();
        skipUnless(layout.kind() != CgroupLayout.Kind.NONE, "no usable cgroups: " + layout.describe());
        cgroups = JobCgroups.open(layout, "test-" + UUID.randomUUID());
        parents = ((LinuxJobCgroups) cgroups).parentDirectories();
        System.out.println(getClass().getSimpleName() + ": " + layout.describe() + "; parents " + parents);
    }

    @AfterEach
    void endEveryProcessAndCgroup() throws IOException {
        for (Process process : started) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
        }
        started.clear();
        for (JobCgroup cgroup : created) {
            cgroup.remove(REMOVE_TIMEOUT);
        }
        created.clear();
        if (cgroups != null) {
            cgroups.removeLeftovers(REMOVE_TIMEOUT);
        }
    }

    @AfterAll
    void noCgroupIsLeftAndTheParentGoes() throws IOException {
        if (cgroups == null) {
            return;
        }
        assertEquals(List.of(), cgroups.leftovers(), "job cgroups left under the worker's parent");
        cgroups.close();
        for (Path parent : parents) {
            assertFalse(Files.exists(parent), parent + " is still there");
        }
    }

    @Test
    void aProcessJoinsEveryHierarchyBeforeItsFirstInstruction() throws Exception {
        JobCgroup cgroup = create(ResourceLimits.NONE);
        Process process = start(cgroup, "cat", "/proc/self/cgroup");
        String membership = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, process.waitFor());
        for (Path procs : cgroup.procsFiles()) {
            String suffix = "/" + LinuxJobCgroups.TOP + "/" + procs.getParent().getParent().getFileName() + "/"
                    + cgroup.jobId();
            assertTrue(membership.lines().anyMatch(line -> line.endsWith(suffix)),
                    "cat ran outside " + procs.getParent() + ":\n" + membership);
        }
    }

    @Test
    void joinMovesARunningProcessIn() throws Exception {
        JobCgroup cgroup = create(ResourceLimits.NONE);
        Process sleeper = track(new ProcessBuilder("sleep", "300").start());
        cgroup.join(sleeper.pid());
        assertEquals(List.of(sleeper.pid()), cgroup.pids());
        cgroup.remove(REMOVE_TIMEOUT);
        assertTrue(sleeper.waitFor(5, TimeUnit.SECONDS), "remove kills what is inside");
        assertEquals(137, sleeper.exitValue());
    }

    @Test
    void aJoinThatFailsStopsTheCommandBeforeItRuns() throws Exception {
        JobCgroup cgroup = create(ResourceLimits.NONE);
        List<String> argv = cgroup.joiningCommand(List.of("echo", "ran"));
        cgroup.remove(REMOVE_TIMEOUT);
        Process process = track(new ProcessBuilder(argv).redirectErrorStream(true).start());
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(125, process.waitFor());
        assertFalse(output.contains("ran"), output);
    }

    @Test
    void aProcessPastItsMemoryLimitIsOomKilledAndReportedAsSuch() throws Exception {
        skipUnlessCgroupEnforces(Control.MEMORY);
        JobCgroup cgroup = create(ResourceLimits.NONE.withMemory(64L << 20));
        // 'x' * n writes every byte, so the pages are really charged (a zeroed bytearray would not be).
        Process hog = start(cgroup, PYTHON, "-c", "s = 'x' * (256 << 20); print(len(s))");
        assertTrue(hog.waitFor(30, TimeUnit.SECONDS));
        assertEquals(137, hog.exitValue(), "killed by SIGKILL");
        JobCgroup.OutOfMemory oom = cgroup.outOfMemory().orElseThrow(() -> new AssertionError("no OOM seen"));
        assertEquals("out of memory (limit 64 MiB)", oom.describe());
        assertTrue(oom.kills() >= 1);
        System.out.println("memory: 256 MiB asked under a 64 MiB limit: exit " + hog.exitValue() + ", oom_kill "
                + oom.kills());

        JobCgroup modest = create(ResourceLimits.NONE.withMemory(64L << 20));
        Process fits = start(modest, PYTHON, "-c", "s = 'x' * (16 << 20); print(len(s))");
        assertEquals(0, fits.waitFor());
        assertEquals(java.util.Optional.empty(), modest.outOfMemory(), "16 MiB fits in 64 MiB");
    }

    @Test
    void pidsMaxTenStopsFiftyForksWithEagain() throws Exception {
        skipUnlessCgroupEnforces(Control.PIDS);
        JobCgroup cgroup = create(ResourceLimits.NONE.withPids(10));
        String forks = """
                import errno, os, sys, time
                made = refused = 0
                for _ in range(50):
                    try:
                        pid = os.fork()
                    except OSError as e:
                        if e.errno != errno.EAGAIN:
                            raise
                        refused += 1
                        continue
                    if pid == 0:
                        time.sleep(300)
                        os._exit(0)
                    made += 1
                print(made, refused, flush=True)
                time.sleep(300)
                """;
        Process process = start(cgroup, PYTHON, "-c", forks);
        String line = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))
                .readLine();
        String[] counts = line.split(" ");
        int made = Integer.parseInt(counts[0]);
        int refused = Integer.parseInt(counts[1]);
        System.out.println("pids: pids.max 10, 50 forks: " + made + " made, " + refused + " refused with EAGAIN, "
                + cgroup.pids().size() + " processes in the cgroup");
        assertEquals(9, made, "the parent is the tenth process");
        assertEquals(41, refused);
        assertEquals(10, cgroup.pids().size());
        cgroup.remove(REMOVE_TIMEOUT);
        assertTrue(process.waitFor(5, TimeUnit.SECONDS));
    }

    @Test
    void aBusyLoopWithHalfACoreUsesAtMostSixTenthsOfOne() throws Exception {
        skipUnlessCgroupEnforces(Control.CPU);
        JobCgroup cgroup = create(ResourceLimits.NONE.withCpu(0.5));
        Process loop = start(cgroup, "sh", "-c", "while :; do :; done");
        Duration before = cgroup.cpuUsage();
        long start = System.nanoTime();
        // A measuring window, not a wait for an event: the quota is enforced per 100 ms period.
        Thread.sleep(3000);
        Duration used = cgroup.cpuUsage().minus(before);
        long wall = System.nanoTime() - start;
        double cores = (double) used.toNanos() / wall;
        System.out.printf("cpu: limit 0.5, used %.3f of a core over %.2f s%n", cores, wall / 1e9);
        assertTrue(loop.isAlive());
        assertTrue(cores <= 0.6, "used " + cores + " of a core");
        assertTrue(cores > 0.0, "the loop never ran");
    }

    @Test
    void killEndsDescendantsThatCalledSetsid() throws Exception {
        skipUnlessCgroupEnforces(Control.KILL_TREE);
        JobCgroup cgroup = create(ResourceLimits.NONE);
        String marker = "417." + (System.nanoTime() % 1_000_000);
        Process parent = start(cgroup, "sh", "-c",
                "setsid sleep " + marker + " & setsid -f sleep " + marker + "; exec sleep " + marker);
        // setsid -f forks: until its child has called setsid() and exec'd, the count is not final.
        awaitUntil(() -> survivors(marker) == 3 && cgroup.pids().size() == 3
                && cgroup.pids().stream().map(JobCgroupsContract::sessionId).distinct().count() == 3,
                "three sleeps in the cgroup, each in a session of its own");

        cgroup.kill();
        awaitUntil(() -> survivors(marker) == 0, "no sleep survives the kill");
        assertTrue(parent.waitFor(5, TimeUnit.SECONDS));
        cgroup.remove(REMOVE_TIMEOUT);
        System.out.println("kill-tree: 3 processes in 3 sessions, survivors after kill() counted with ps: "
                + survivors(marker));
    }

    @Test
    void removeWaitsForTheKillAndLeavesNoDirectory() throws Exception {
        JobCgroup cgroup = create(ResourceLimits.NONE);
        start(cgroup, "sh", "-c", "sleep 300 & sleep 300 & wait");
        awaitUntil(() -> cgroup.pids().size() == 3, "the shell and two sleeps");
        cgroup.remove(REMOVE_TIMEOUT);
        for (Path procs : cgroup.procsFiles()) {
            assertFalse(Files.exists(procs.getParent()), procs.getParent() + " is left");
        }
        assertEquals(List.of(), cgroups.leftovers());
    }

    @Test
    void removeTakesAnEmptyCgroupAndTheChildCgroupsAJobMadeInIt() throws Exception {
        JobCgroup plain = create(ResourceLimits.NONE);
        start(plain, "/bin/true").waitFor();
        plain.remove(REMOVE_TIMEOUT);   // ended, empty: one rmdir each
        JobCgroup nested = create(ResourceLimits.NONE);
        for (Path procs : nested.procsFiles()) {
            Files.createDirectories(procs.getParent().resolve("made-by-the-job/deeper"));   // rmdir alone is EBUSY
        }
        nested.remove(REMOVE_TIMEOUT);
        for (JobCgroup cgroup : List.of(plain, nested)) {
            for (Path procs : cgroup.procsFiles()) {
                assertFalse(Files.exists(procs.getParent()), procs.getParent() + " is left");
            }
        }
        assertEquals(List.of(), cgroups.leftovers());
    }

    @Test
    void aRestartedWorkerFindsItsLeftoverCgroupsAndEndsThem() throws Exception {
        JobCgroup first = create(ResourceLimits.NONE);
        JobCgroup second = create(ResourceLimits.NONE);
        Process a = start(first, "sleep", "300");
        Process b = start(second, "sh", "-c", "setsid -f sleep 300; exec sleep 300");
        awaitUntil(() -> second.pids().size() == 2, "both sleeps of the second job");
        String workerId = ((LinuxJobCgroups) cgroups).parentDirectories().getFirst().getFileName().toString();

        JobCgroups restarted = JobCgroups.open(layout, workerId);
        assertEquals(List.of(first.jobId(), second.jobId()).stream().sorted().toList(), restarted.leftovers());
        assertEquals(restarted.leftovers(), restarted.removeLeftovers(REMOVE_TIMEOUT));
        assertEquals(List.of(), restarted.leftovers());
        assertTrue(a.waitFor(5, TimeUnit.SECONDS) && b.waitFor(5, TimeUnit.SECONDS));
        created.clear();
    }

    @Test
    void aJobIdInUseIsRefusedAndLeavesNothingHalfMade() throws Exception {
        JobCgroup cgroup = create(ResourceLimits.NONE);
        CgroupException twice = assertThrows(CgroupException.class,
                () -> cgroups.create(cgroup.jobId(), ResourceLimits.NONE));
        assertTrue(twice.getMessage().contains(cgroup.jobId()), twice.getMessage());
        assertEquals(List.of(cgroup.jobId()), cgroups.leftovers());
    }

    @Test
    void aLimitThisLayoutCannotEnforceIsRefusedNamingIt() throws Exception {
        List<Control> missing = java.util.Arrays.stream(Control.values())
                .filter(c -> layout.enforcement().means(c) != Enforcement.Means.CGROUP).toList();
        skipUnless(!missing.isEmpty() && missing.getFirst() != Control.KILL_TREE,
                "this layout enforces every limit by cgroup: " + layout.describe());
        Control control = missing.getFirst();
        ResourceLimits limits = switch (control) {
            case MEMORY -> ResourceLimits.NONE.withMemory(1 << 20);
            case CPU -> ResourceLimits.NONE.withCpu(1);
            default -> ResourceLimits.NONE.withPids(1);
        };
        String jobId = UUID.randomUUID().toString();
        CgroupException refused = assertThrows(CgroupException.class, () -> cgroups.create(jobId, limits));
        assertTrue(refused.getMessage().contains("cannot enforce a " + control.word() + " limit"),
                refused.getMessage());
        assertEquals(List.of(), cgroups.leftovers());
    }

    JobCgroup create(ResourceLimits limits) throws CgroupException {
        JobCgroup cgroup = cgroups.create(UUID.randomUUID().toString(), limits);
        created.add(cgroup);
        return cgroup;
    }

    Process start(JobCgroup cgroup, String... command) throws IOException {
        return track(new ProcessBuilder(cgroup.joiningCommand(List.of(command)))
                .redirectError(ProcessBuilder.Redirect.INHERIT).start());
    }

    private Process track(Process process) {
        started.add(process);
        return process;
    }

    void skipUnlessCgroupEnforces(Control control) {
        skipUnless(layout.enforcement().means(control) == Enforcement.Means.CGROUP,
                control.word() + " is not enforced by a cgroup here: " + layout.enforcement().note(control));
    }

    static void skipUnless(boolean condition, String why) {
        if (!condition) {
            System.err.println("SKIPPED (missing on this machine): " + why);
        }
        Assumptions.assumeTrue(condition, why);
    }

    /** Processes {@code sleep <marker>} not yet dead (zombies count as dead), from ps. */
    static long survivors(String marker) throws IOException, InterruptedException {
        Process ps = new ProcessBuilder("ps", "-eo", "stat=,args=").start();
        String table = new String(ps.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        ps.waitFor();
        return table.lines().map(line -> line.strip().split("\\s+", 2))
                .filter(row -> row.length == 2 && row[1].equals("sleep " + marker) && !row[0].startsWith("Z"))
                .count();
    }

    private static long sessionId(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            return Long.parseLong(stat.substring(stat.lastIndexOf(')') + 2).split(" ")[6 - 3]);
        } catch (IOException e) {
            return -pid;
        }
    }

    interface Check {
        boolean holds() throws Exception;
    }

    static void awaitUntil(Check check, String what) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!check.holds()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("not within 10 s: " + what);
            }
            Thread.sleep(20);
        }
    }
}
