package io.jobscheduler.worker.cgroup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The v2-only code path on the real cgroup2 hierarchy: this process's mountinfo with every v1 mount hidden,
 * so the layout is what a pure cgroup v2 host with the same controllers would give. On the hybrid machines
 * memory, cpu and pids are bound to v1 and absent from v2, so those tests skip naming that; membership, the
 * kill and removal run for real.
 */
class V2OnlyJobCgroupsTest extends JobCgroupsContract {
    private Path mountinfo;

    @Override
    CgroupLayout layout() throws IOException {
        mountinfo = Files.createTempFile("mountinfo-v2-only", "");
        String v2Only = Files.readAllLines(Path.of("/proc/self/mountinfo")).stream()
                .filter(line -> line.contains(" - cgroup2 ")).collect(Collectors.joining("\n", "", "\n"));
        Files.writeString(mountinfo, v2Only);
        CgroupLayout layout = CgroupLayout.detect(mountinfo, Path.of("/proc/self/cgroup"), Path.of("/"));
        skipUnless(layout.kind() == CgroupLayout.Kind.V2, "no cgroup2 hierarchy: " + layout.describe());
        return layout;
    }

    @Test
    void theLayoutIsV2() {
        assertEquals(CgroupLayout.Kind.V2, layout.kind());
    }

    @AfterAll
    void removeTheMountinfoCopy() throws IOException {
        Files.deleteIfExists(mountinfo);
    }
}
