package io.jobscheduler.worker.cgroup;

import java.io.IOException;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The other way to be inside before the first instruction, for v1 hierarchies only: the spawning (platform)
 * thread moves itself into the job's v1 cgroups through their per-thread {@code tasks} files, spawns (the
 * child inherits the thread's cgroups), and moves back. cgroup v2 has no per-thread membership for domain
 * cgroups, so the v2 hierarchy still needs the pre-exec join. Findings: docs/helidon-notes.md, "cgroups on
 * this machine kind".
 */
class SpawningThreadJoinTest {
    @Test
    void aChildSpawnedByAThreadInsideV1CgroupsStartsInsideThem() throws Throwable {
        CgroupLayout layout = CgroupLayout.detect();
        JobCgroupsContract.skipUnless(layout.kind() == CgroupLayout.Kind.HYBRID,
                "no v1 hierarchies to join per thread: " + layout.describe());
        JobCgroups cgroups = JobCgroups.open(layout, "test-" + UUID.randomUUID());
        JobCgroup cgroup = cgroups.create(UUID.randomUUID().toString(), ResourceLimits.NONE.withPids(5));
        List<Path> v1Dirs = cgroup.procsFiles().stream().map(Path::getParent)
                .filter(dir -> Files.exists(dir.resolve("tasks"))).toList();
        // A thread made while we are inside stays inside: the JDK makes its process reaper thread on the first
        // start, from the starting thread. Start one process first, so that it exists already.
        new ProcessBuilder("true").start().waitFor();
        String tid = Integer.toString(gettid());
        String childCgroups;
        try {
            for (Path dir : v1Dirs) {
                write(dir.resolve("tasks"), tid);
            }
            try {
                Process child = new ProcessBuilder("cat", "/proc/self/cgroup").start();
                childCgroups = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                child.waitFor();
                // v1 lists a process in cgroup.procs once any thread of it is inside: the kill must not end us.
                CgroupException self = assertThrows(CgroupException.class, cgroup::kill);
                assertTrue(self.getMessage().contains("the worker itself"), self.getMessage());
            } finally {
                for (Path dir : v1Dirs) {
                    // Back into our own cgroup of that hierarchy: the job's dir is three levels below it.
                    write(dir.getParent().getParent().getParent().resolve("tasks"), tid);
                }
            }
            for (Path dir : v1Dirs) {
                assertEquals("", Files.readString(dir.resolve("tasks")), "no thread of ours left in " + dir);
            }
            String threadCgroups = Files.readString(Path.of("/proc/thread-self/cgroup"));
            for (Path dir : v1Dirs) {
                String controller = dir.toString().split("/")[4];
                assertTrue(childCgroups.lines().anyMatch(l -> l.contains(":" + controller + ":")
                        && l.endsWith(cgroup.jobId())), controller + ": " + childCgroups);
                assertTrue(threadCgroups.lines().noneMatch(l -> l.endsWith(cgroup.jobId())), threadCgroups);
            }
            assertTrue(childCgroups.lines().noneMatch(l -> l.startsWith("0::") && l.endsWith(cgroup.jobId())),
                    "the v2 hierarchy is not joined this way: " + childCgroups);
            Path v2Threads = cgroup.procsFiles().getFirst().resolveSibling("cgroup.threads");
            IOException refused = assertThrows(IOException.class, () -> write(v2Threads, tid));
            System.out.println("spawning-thread join: v1 " + v1Dirs.size() + " hierarchies joined by the child; "
                    + "a thread into a v2 domain cgroup: " + refused.getMessage());
        } finally {
            cgroup.remove(Duration.ofSeconds(10));
            cgroups.close();
        }
        assertEquals(List.of(), cgroups.leftovers());
    }

    private static void write(Path file, String value) throws IOException {
        Files.writeString(file, value, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
    }

    private static int gettid() throws Throwable {
        Linker linker = Linker.nativeLinker();
        MethodHandle gettid = linker.downcallHandle(linker.defaultLookup().find("gettid").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT));
        return (int) gettid.invokeExact();
    }
}
