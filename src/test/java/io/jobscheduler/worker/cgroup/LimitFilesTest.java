package io.jobscheduler.worker.cgroup;

import io.jobscheduler.worker.cgroup.CgroupLayout.Hierarchy;
import io.jobscheduler.worker.cgroup.LinuxJobCgroup.Member;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The file formats of both layouts against plain files standing in for a cgroup's control files: the v2
 * memory, cpu and pids files cannot be exercised for real on the hybrid machines (those controllers are bound
 * to v1 there), so their exact contents are checked here.
 */
class LimitFilesTest {
    private static final ResourceLimits LIMITS = ResourceLimits.NONE.withMemory(256L << 20).withCpu(0.5).withPids(10);

    @TempDir
    Path dir;

    @Test
    void v2LimitsAreWrittenAsTheKernelReadsThem() throws IOException {
        controlFiles("memory.max", "memory.swap.max", "cpu.max", "pids.max", "memory.events", "cgroup.kill",
                "cgroup.procs");
        LinuxJobCgroup cgroup = cgroup(true, EnumSet.allOf(Control.class));
        cgroup.apply(LIMITS);
        assertEquals("268435456", Files.readString(dir.resolve("memory.max")));
        assertEquals("0", Files.readString(dir.resolve("memory.swap.max")), "the limit covers swap");
        assertEquals("50000 100000", Files.readString(dir.resolve("cpu.max")));
        assertEquals("10", Files.readString(dir.resolve("pids.max")));

        Files.writeString(dir.resolve("memory.events"), "low 0\nhigh 0\nmax 12\noom 1\noom_kill 0\n");
        assertEquals(Optional.empty(), cgroup.outOfMemory(), "max and oom without a kill are not an OOM kill");
        Files.writeString(dir.resolve("memory.events"), "low 0\nhigh 0\nmax 12\noom 1\noom_kill 2\noom_group_kill 0\n");
        assertEquals(Optional.of(new JobCgroup.OutOfMemory(2, 256L << 20)), cgroup.outOfMemory());

        cgroup.kill();
        assertEquals("1", Files.readString(dir.resolve("cgroup.kill")));
    }

    @Test
    void v1LimitsIncludeSwapWhenTheKernelAccountsIt() throws IOException {
        controlFiles("memory.limit_in_bytes", "memory.memsw.limit_in_bytes", "memory.oom_control",
                "cpu.cfs_period_us", "cpu.cfs_quota_us", "pids.max", "cgroup.procs");
        LinuxJobCgroup cgroup = cgroup(false, EnumSet.of(Control.MEMORY, Control.CPU, Control.PIDS, Control.KILL_TREE));
        cgroup.apply(LIMITS);
        assertEquals("268435456", Files.readString(dir.resolve("memory.limit_in_bytes")));
        assertEquals("268435456", Files.readString(dir.resolve("memory.memsw.limit_in_bytes")));
        assertEquals("100000", Files.readString(dir.resolve("cpu.cfs_period_us")));
        assertEquals("50000", Files.readString(dir.resolve("cpu.cfs_quota_us")));
        Files.writeString(dir.resolve("memory.oom_control"), "oom_kill_disable 0\nunder_oom 0\noom_kill 1\n");
        assertEquals("out of memory (limit 256 MiB)", cgroup.outOfMemory().orElseThrow().describe());
    }

    @Test
    void withoutSwapAccountingOnlyThePlainLimitIsWritten() throws IOException {
        controlFiles("memory.limit_in_bytes", "cgroup.procs");
        cgroup(false, EnumSet.of(Control.MEMORY, Control.KILL_TREE)).apply(ResourceLimits.NONE.withMemory(1 << 20));
        assertEquals("1048576", Files.readString(dir.resolve("memory.limit_in_bytes")));
        assertTrue(Files.notExists(dir.resolve("memory.memsw.limit_in_bytes")), "a missing file is never created");
    }

    @Test
    void aMissingControlFileIsAnErrorNamingIt() throws IOException {
        controlFiles("cgroup.procs");
        CgroupException missing = assertThrows(CgroupException.class,
                () -> cgroup(true, EnumSet.allOf(Control.class)).apply(ResourceLimits.NONE.withPids(3)));
        assertEquals("cannot write '3' to " + dir.resolve("pids.max") + ": no such file",
                missing.getMessage());
    }

    private LinuxJobCgroup cgroup(boolean v2, EnumSet<Control> controls) {
        return new LinuxJobCgroup("job", List.of(new Member(new Hierarchy("test", dir, v2, controls), dir)));
    }

    private void controlFiles(String... names) throws IOException {
        for (String name : names) {
            Files.writeString(dir.resolve(name), "");
        }
    }
}
