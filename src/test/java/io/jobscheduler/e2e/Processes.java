package io.jobscheduler.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import io.jobscheduler.worker.cgroup.CgroupException;
import io.jobscheduler.worker.cgroup.CgroupLayout;
import io.jobscheduler.worker.cgroup.JobCgroups;
import io.jobscheduler.worker.job.JobConfinement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** The machine's processes as {@code /proc} shows them, found by a marker in their command line. */
final class Processes {
    private Processes() {
    }

    /** A string unique to one test, to name its scripts and find its processes. */
    static String marker() {
        return "e2e" + UUID.randomUUID().toString().replace("-", "");
    }

    /** The pids of live processes whose command line contains {@code marker}. */
    static List<Long> withMarker(String marker) {
        List<Long> pids = new ArrayList<>();
        try (var entries = Files.list(Path.of("/proc"))) {
            for (Path entry : entries.toList()) {
                String name = entry.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    // A zombie's command line is empty: only live processes match.
                    if (new String(Files.readAllBytes(entry.resolve("cmdline")), StandardCharsets.ISO_8859_1)
                            .contains(marker)) {
                        pids.add(Long.parseLong(name));
                    }
                } catch (IOException e) {
                    // The process ended while we looked.
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return pids;
    }

    /** SIGKILL to every process with {@code marker}, for cleaning up after a worker that could not. */
    static void kill(String marker) {
        withMarker(marker).forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
    }

    /**
     * Does for the worker of {@code dataDir}, whose process has ended, what its next start would:
     * kills and removes the job cgroups it left, then removes its own parent cgroups. A worker
     * stopped by SIGTERM has done this itself; one SIGKILLed has not, and the tests give every
     * worker a fresh data_dir, so no later worker would. Nothing to do without cgroups.
     */
    static void removeWorkerCgroups(Path dataDir) {
        JobCgroups cgroups;
        try {
            cgroups = JobCgroups.open(CgroupLayout.detect(), JobConfinement.parentName(dataDir));
        } catch (CgroupException noCgroups) {
            return;
        }
        try {
            cgroups.removeLeftovers(Duration.ofSeconds(10));
            cgroups.close();
        } catch (CgroupException e) {
            throw new AssertionError("cannot remove the cgroups of the worker of " + dataDir + ": " + e.getMessage(), e);
        }
    }
}
