package io.jobscheduler.worker.cgroup;

import io.jobscheduler.worker.cgroup.CgroupLayout.Hierarchy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;

/** A job's cgroup as one directory per hierarchy; the v2 one (first) holds membership and the kill. */
final class LinuxJobCgroup implements JobCgroup {
    /** A cgroup directory and the hierarchy it is in. */
    record Member(Hierarchy hierarchy, Path dir) {
        boolean serves(Control control) {
            return hierarchy.controls().contains(control);
        }
    }

    private static final Duration POLL = Duration.ofMillis(10);

    private final String jobId;
    private final List<Member> members;

    LinuxJobCgroup(String jobId, List<Member> members) {
        this.jobId = jobId;
        this.members = List.copyOf(members);
    }

    /** Writes the limits into the (still empty) cgroup. */
    void apply(ResourceLimits limits) throws CgroupException {
        for (Member member : members) {
            Path dir = member.dir();
            boolean v2 = member.hierarchy().v2();
            if (limits.memoryBytes().isPresent() && member.serves(Control.MEMORY)) {
                String bytes = Long.toString(limits.memoryBytes().getAsLong());
                // The limit covers swap too (v1: memory+swap equal to it; v2: no swap), so a job cannot exceed
                // it by being swapped out. memsw must be written after the plain limit: it may not be lower.
                CgroupFiles.write(dir.resolve(v2 ? "memory.max" : "memory.limit_in_bytes"), bytes);
                Path swap = dir.resolve(v2 ? "memory.swap.max" : "memory.memsw.limit_in_bytes");
                if (Files.exists(swap)) {
                    CgroupFiles.write(swap, v2 ? "0" : bytes);
                }
            }
            if (limits.cpuCores().isPresent() && member.serves(Control.CPU)) {
                long quota = ResourceLimits.cpuQuotaMicros(limits.cpuCores().getAsDouble());
                long period = ResourceLimits.CPU_PERIOD_MICROS;
                if (v2) {
                    CgroupFiles.write(dir.resolve("cpu.max"), quota + " " + period);
                } else {
                    CgroupFiles.write(dir.resolve("cpu.cfs_period_us"), Long.toString(period));
                    CgroupFiles.write(dir.resolve("cpu.cfs_quota_us"), Long.toString(quota));
                }
            }
            if (limits.pids().isPresent() && member.serves(Control.PIDS)) {
                CgroupFiles.write(dir.resolve("pids.max"), Long.toString(limits.pids().getAsLong()));
            }
        }
    }

    @Override
    public String jobId() {
        return jobId;
    }

    @Override
    public List<Path> procsFiles() {
        return members.stream().map(member -> member.dir().resolve("cgroup.procs")).toList();
    }

    @Override
    public void join(long pid) throws CgroupException {
        for (Path procs : procsFiles()) {
            CgroupFiles.write(procs, Long.toString(pid));
        }
    }

    @Override
    public List<Long> pids() throws CgroupException {
        return CgroupFiles.pids(membership().dir().resolve("cgroup.procs"));
    }

    @Override
    public Optional<OutOfMemory> outOfMemory() throws CgroupException {
        Optional<Member> memory = members.stream().filter(m -> m.serves(Control.MEMORY)).findFirst();
        if (memory.isEmpty()) {
            return Optional.empty();
        }
        Path dir = memory.get().dir();
        boolean v2 = memory.get().hierarchy().v2();
        // v1 reports oom_kill in memory.oom_control since Linux 4.13; v2 in memory.events.
        OptionalLong kills = CgroupFiles.keyed(dir.resolve(v2 ? "memory.events" : "memory.oom_control"), "oom_kill");
        if (kills.orElse(0) == 0) {
            return Optional.empty();
        }
        String limit = CgroupFiles.read(dir.resolve(v2 ? "memory.max" : "memory.limit_in_bytes")).strip();
        return Optional.of(new OutOfMemory(kills.getAsLong(), limit.equals("max") ? Long.MAX_VALUE
                : Long.parseLong(limit)));
    }

    @Override
    public Duration cpuUsage() throws CgroupException {
        // cpu.stat's usage_usec is kept for every v2 cgroup, with or without the cpu controller.
        Path stat = membership().dir().resolve("cpu.stat");
        long micros = CgroupFiles.keyed(stat, "usage_usec")
                .orElseThrow(() -> new CgroupException(stat + " has no usage_usec"));
        return Duration.ofNanos(micros * 1000);
    }

    @Override
    public void kill() throws CgroupException {
        long self = ProcessHandle.current().pid();
        for (Member member : members) {
            // A v1 cgroup.procs lists a process as soon as one of its threads is inside (a spawning thread
            // that joined it): killing the job must never kill the worker.
            if (CgroupFiles.pids(member.dir().resolve("cgroup.procs")).contains(self)) {
                throw new CgroupException("the worker itself (pid " + self + ") is in " + member.dir()
                        + ": not killing it");
            }
        }
        Path killFile = membership().dir().resolve("cgroup.kill");
        if (Files.exists(killFile)) {
            CgroupFiles.write(killFile, "1");
        }
        // Without cgroup.kill (before Linux 5.14), and for a process that joined only the v1 hierarchies,
        // SIGKILL each member; remove() repeats this until the cgroup is empty, catching forks in between.
        for (Member member : members) {
            for (long pid : CgroupFiles.pids(member.dir().resolve("cgroup.procs"))) {
                ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
            }
        }
    }

    @Override
    public void remove(Duration timeout) throws CgroupException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            // Most jobs leave nothing behind: their cgroup is empty when they end, and goes with one rmdir.
            if (!empty()) {
                kill();
            }
            if (empty()) {
                try {
                    for (Member member : members) {
                        CgroupFiles.removeTree(member.dir());
                    }
                    return;
                } catch (CgroupException busy) {
                    // The kernel may still be tearing down exited processes: retry until the deadline.
                    if (System.nanoTime() - deadline > 0) {
                        throw busy;
                    }
                }
            } else if (System.nanoTime() - deadline > 0) {
                throw new CgroupException("cgroup of job " + jobId + " still holds processes " + pids()
                        + " after " + timeout.toMillis() + " ms");
            }
            try {
                Thread.sleep(POLL);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CgroupException("interrupted while removing the cgroup of job " + jobId, e);
            }
        }
    }

    private boolean empty() throws CgroupException {
        for (Member member : members) {
            Path events = member.dir().resolve("cgroup.events");
            boolean populated = member.hierarchy().v2() && Files.exists(events)
                    ? CgroupFiles.keyed(events, "populated").orElse(0) != 0
                    : !CgroupFiles.pids(member.dir().resolve("cgroup.procs")).isEmpty();
            if (populated) {
                return false;
            }
        }
        return true;
    }

    private Member membership() {
        return members.stream().filter(m -> m.serves(Control.KILL_TREE)).findFirst().orElseThrow();
    }
}
