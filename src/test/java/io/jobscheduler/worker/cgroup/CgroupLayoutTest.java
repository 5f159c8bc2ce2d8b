package io.jobscheduler.worker.cgroup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Layout detection from fake /proc files and a fake /sys/fs/cgroup tree (parsing only: no real cgroups). */
class CgroupLayoutTest {
    private static final String HYBRID_MOUNTS = """
            31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
            32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
            33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
            35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
            39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
            40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
            41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
            """;
    private static final String HYBRID_SELF = """
            9:name=systemd:/
            8:pids:/
            4:memory:/process_api/a611
            2:cpuacct:/
            1:cpu:/
            0::/
            """;
    private static final String V2_MOUNTS = """
            25 1 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate
            """;

    @TempDir
    Path root;

    @Test
    void theHybridLayoutUsesOurOwnCgroupInEachHierarchy() throws IOException {
        cgroupDir("sys/fs/cgroup/unified", "hugetlb", "", "1\n");
        cgroupDir("sys/fs/cgroup/memory/process_api/a611", "", "", "1\n");
        cgroupDir("sys/fs/cgroup/cpu", "", "", "1\n");
        cgroupDir("sys/fs/cgroup/pids", "", "", "1\n");
        CgroupLayout layout = detect(HYBRID_MOUNTS, HYBRID_SELF);
        assertEquals(CgroupLayout.Kind.HYBRID, layout.kind());
        assertEquals(Optional.of(root.resolve("sys/fs/cgroup/memory/process_api/a611")),
                layout.ownDirectory(Control.MEMORY));
        assertEquals(Optional.of(root.resolve("sys/fs/cgroup/cpu")), layout.ownDirectory(Control.CPU));
        assertEquals(Optional.of(root.resolve("sys/fs/cgroup/pids")), layout.ownDirectory(Control.PIDS));
        assertEquals(Optional.of(root.resolve("sys/fs/cgroup/unified")), layout.ownDirectory(Control.KILL_TREE));
        assertEquals("cgroup v1+v2 hybrid: memory (cgroup), cpu (cgroup), pids (cgroup), kill-tree (cgroup)",
                layout.describe());
        assertEquals(Optional.empty(), layout.enforcement().refusal(EnumSet.allOf(Control.class)));
    }

    @Test
    void aHybridHierarchyThatIsMissingLosesOnlyItsControl() throws IOException {
        cgroupDir("sys/fs/cgroup/unified", "", "", "1\n");
        cgroupDir("sys/fs/cgroup/memory/process_api/a611", "", "", "1\n");
        cgroupDir("sys/fs/cgroup/cpu", "", "", "1\n");
        CgroupLayout layout = detect(HYBRID_MOUNTS.replace("/sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids",
                "/sys/fs/cgroup/pids ro,relatime - cgroup cgroup ro,pids"), HYBRID_SELF);
        assertEquals(CgroupLayout.Kind.HYBRID, layout.kind());
        assertTrue(layout.enforcement().enforces(Control.MEMORY));
        assertFalse(layout.enforcement().enforces(Control.PIDS));
        assertEquals(Optional.of("this worker cannot enforce a pids limit: " + root.resolve("sys/fs/cgroup/pids")
                        + " is mounted read-only; RLIMIT_NPROC counts all processes of the job's user"),
                layout.enforcement().refusal(Set.of(Control.PIDS, Control.MEMORY)));
    }

    @Test
    void coMountedControllersAreFoundWhateverOrderTheKernelPrintsThem() throws IOException {
        cgroupDir("sys/fs/cgroup/unified", "", "", "1\n");
        cgroupDir("sys/fs/cgroup/cpu,cpuacct/jobs", "", "", "1\n");
        String mounts = """
                41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
                32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpuacct,cpu
                """;
        CgroupLayout layout = detect(mounts, "2:cpuacct,cpu:/jobs\n0::/\n");
        assertEquals(Optional.of(root.resolve("sys/fs/cgroup/cpu,cpuacct/jobs")), layout.ownDirectory(Control.CPU));
        assertTrue(layout.enforcement().enforces(Control.CPU));
        assertEquals(Enforcement.Means.RLIMIT, layout.enforcement().means(Control.MEMORY),
                "no memory hierarchy, none in v2 either");
    }

    @Test
    void v2AtTheRootOfTheHierarchyEnforcesEverythingItsControllersOffer() throws IOException {
        cgroupDir("sys/fs/cgroup", "cpuset cpu io memory hugetlb pids rdma misc", "", "1\n72\n");
        CgroupLayout layout = detect(V2_MOUNTS, "0::/\n");
        assertEquals(CgroupLayout.Kind.V2, layout.kind());
        assertEquals("cgroup v2: memory (cgroup), cpu (cgroup), pids (cgroup), kill-tree (cgroup)", layout.describe());
        assertEquals(Optional.of(root.resolve("sys/fs/cgroup")), layout.ownDirectory(Control.MEMORY));
    }

    @Test
    void v2InADelegatedEmptyCgroupOrOneWithControllersPassedDownIsUsable() throws IOException {
        cgroupDir("sys/fs/cgroup/worker.slice/empty", "cpu memory pids", "", "");
        assertTrue(detect(V2_MOUNTS, "0::/worker.slice/empty\n").enforcement().enforces(Control.CPU));
        cgroupDir("sys/fs/cgroup/worker.slice/passed", "cpu memory pids", "cpu memory pids", "");
        CgroupLayout passed = detect(V2_MOUNTS, "0::/worker.slice/passed\n");
        assertEquals(Optional.of(root.resolve("sys/fs/cgroup/worker.slice/passed")), passed.ownDirectory(Control.PIDS));
    }

    @Test
    void v2InACgroupHoldingProcessesCannotPassControllersDownButCanStillKill() throws IOException {
        Path own = cgroupDir("sys/fs/cgroup/system.slice/worker.service", "cpu memory pids", "", "812\n");
        CgroupLayout layout = detect(V2_MOUNTS, "0::/system.slice/worker.service\n");
        assertEquals(CgroupLayout.Kind.V2, layout.kind());
        assertTrue(layout.enforcement().enforces(Control.KILL_TREE));
        assertFalse(layout.enforcement().enforces(Control.CPU));
        assertEquals(Enforcement.Means.RLIMIT, layout.enforcement().means(Control.MEMORY));
        assertEquals("this worker cannot enforce a cpu limit: the worker's cgroup " + own + " holds processes, so it"
                + " cannot pass the cpu controller to job cgroups (cgroup v2's no-internal-processes rule); run the"
                + " worker in a delegated cgroup (systemd: Delegate=yes) from a leaf of its own; RLIMIT_CPU limits"
                + " CPU seconds, not a share of a core", layout.enforcement().refusal(Set.of(Control.CPU)).orElseThrow());
    }

    @Test
    void aV2ControllerNotOfferedToUsIsNamedWithWhatIs() throws IOException {
        Path own = cgroupDir("sys/fs/cgroup", "memory pids", "", "1\n");
        CgroupLayout layout = detect(V2_MOUNTS, "0::/\n");
        assertEquals("the cpu controller is not available to cgroup v2 jobs (" + own + "/cgroup.controllers: memory"
                + " pids); RLIMIT_CPU limits CPU seconds, not a share of a core", layout.enforcement().note(Control.CPU));
        assertTrue(layout.enforcement().enforces(Control.PIDS));
    }

    @Test
    void aContainersCgroupMountShowsOnlyItsOwnSubtree() throws IOException {
        cgroupDir("sys/fs/cgroup/worker", "memory", "", "1\n");
        String mounts = "100 90 0:40 /docker/c0ffee /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw\n";
        assertEquals(Optional.of(root.resolve("sys/fs/cgroup/worker")),
                detect(mounts, "0::/docker/c0ffee/worker\n").ownDirectory(Control.KILL_TREE));
        CgroupLayout outside = detect(mounts, "0::/docker/other\n");
        assertEquals(CgroupLayout.Kind.NONE, outside.kind());
        assertEquals("no cgroups (this process's cgroup2 cgroup is not visible under " + root.resolve("sys/fs/cgroup")
                + "): memory (RLIMIT_AS only), cpu (none), pids (none), kill-tree (none)", outside.describe());
        assertEquals("RLIMIT_AS per process (address space, not resident memory; this process's cgroup2 cgroup is not"
                + " visible under " + root.resolve("sys/fs/cgroup") + ")", outside.enforcement().note(Control.MEMORY));
    }

    @Test
    void mountPointsWithEscapedSpacesAreDecoded() throws IOException {
        cgroupDir("sys/fs/my cgroup", "", "", "1\n");
        CgroupLayout layout = detect("41 31 0:38 / /sys/fs/my\\040cgroup rw - cgroup2 cgroup2 rw\n", "0::/\n");
        assertEquals(Optional.of(root.resolve("sys/fs/my cgroup")), layout.ownDirectory(Control.KILL_TREE));
    }

    @Test
    void withoutCgroup2OrWritableCgroupsThereAreNone() throws IOException {
        cgroupDir("sys/fs/cgroup/memory", "", "", "1\n");
        CgroupLayout v1Only = detect("35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n", "4:memory:/\n");
        assertEquals(CgroupLayout.Kind.NONE, v1Only.kind());
        assertTrue(v1Only.describe().contains("no cgroup2 hierarchy is mounted"), v1Only.describe());
        cgroupDir("sys/fs/cgroup", "memory", "", "1\n");
        CgroupLayout readOnly = detect(V2_MOUNTS.replace("rw,nosuid", "ro,nosuid"), "0::/\n");
        assertEquals(CgroupLayout.Kind.NONE, readOnly.kind());
        assertEquals(root.resolve("sys/fs/cgroup") + " is mounted read-only; a process group kill misses setsid"
                + " descendants", readOnly.enforcement().note(Control.KILL_TREE));
        CgroupLayout unreadable = CgroupLayout.detect(root.resolve("no-mountinfo"), root.resolve("no-cgroup"), root);
        assertEquals(CgroupLayout.Kind.NONE, unreadable.kind());
        assertTrue(unreadable.describe().contains("cannot read " + root.resolve("no-mountinfo")), unreadable.describe());
    }

    @Test
    void limitsAreCheckedAndWrittenInTheKernelsUnits() {
        assertEquals(50_000, ResourceLimits.cpuQuotaMicros(0.5));
        assertEquals(150_000, ResourceLimits.cpuQuotaMicros(1.5));
        assertEquals(1_000, ResourceLimits.cpuQuotaMicros(0.001), "the kernel's minimum quota");
        assertEquals("256 MiB", ResourceLimits.describeBytes(256L << 20));
        assertEquals("2 GiB", ResourceLimits.describeBytes(2L << 30));
        assertEquals("1536 KiB", ResourceLimits.describeBytes(1536L << 10));
        assertEquals("1000 bytes", ResourceLimits.describeBytes(1000));
        assertEquals("out of memory (limit 256 MiB)", new JobCgroup.OutOfMemory(1, 256L << 20).describe());
        assertThrows(IllegalArgumentException.class, () -> ResourceLimits.NONE.withCpu(0));
        assertThrows(IllegalArgumentException.class, () -> ResourceLimits.NONE.withCpu(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> ResourceLimits.NONE.withMemory(-1));
        assertThrows(IllegalArgumentException.class, () -> ResourceLimits.NONE.withPids(0));
        assertEquals(EnumSet.of(Control.MEMORY, Control.PIDS), ResourceLimits.NONE.withMemory(1).withPids(2).controls());
    }

    @Test
    void idsThatCannotNameACgroupAreRefused() {
        for (String bad : new String[] {"", ".", "..", "a/b", "cgroup.procs", "-x", "a b", "é"}) {
            assertThrows(IllegalArgumentException.class, () -> CgroupFiles.checkName("job id", bad), bad);
        }
        assertEquals("0b6c1f0e-5d2a-4c8e-9d1e-7f0a2b3c4d5e",
                CgroupFiles.checkName("job id", "0b6c1f0e-5d2a-4c8e-9d1e-7f0a2b3c4d5e"));
    }

    private CgroupLayout detect(String mountinfo, String selfCgroup) throws IOException {
        Path mounts = Files.writeString(root.resolve("mountinfo"), mountinfo);
        Path self = Files.writeString(root.resolve("cgroup"), selfCgroup);
        return CgroupLayout.detect(mounts, self, root);
    }

    private Path cgroupDir(String relative, String controllers, String subtree, String procs) throws IOException {
        Path dir = Files.createDirectories(root.resolve(relative));
        Files.writeString(dir.resolve("cgroup.controllers"), controllers.isEmpty() ? "" : controllers + "\n");
        Files.writeString(dir.resolve("cgroup.subtree_control"), subtree.isEmpty() ? "" : subtree + "\n");
        Files.writeString(dir.resolve("cgroup.procs"), procs);
        return dir;
    }
}
