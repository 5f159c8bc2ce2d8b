package io.jobscheduler.worker.cgroup;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** One job's cgroup, a directory in each hierarchy the worker uses. */
public interface JobCgroup {
    String jobId();

    /**
     * The {@code cgroup.procs} files a process writes its pid into to join this cgroup, one per hierarchy: what
     * a pre-exec step writes before exec'ing the job, so that the job's first instruction already runs inside.
     */
    List<Path> procsFiles();

    /** Moves process {@code pid} (all its threads) into this cgroup in every hierarchy. */
    void join(long pid) throws CgroupException;

    /** The processes in it now (from the hierarchy the kill follows). */
    List<Long> pids() throws CgroupException;

    /** Whether the kernel killed a process of it for reaching the memory limit, and that limit. */
    Optional<OutOfMemory> outOfMemory() throws CgroupException;

    /** CPU time used by every process that ran in it, from {@code cpu.stat}. */
    Duration cpuUsage() throws CgroupException;

    /** Sends SIGKILL to every process in it at once, setsid descendants included. Returns without waiting. */
    void kill() throws CgroupException;

    /**
     * Kills what is left, waits until it is empty in every hierarchy and removes its directories.
     *
     * @throws CgroupException if it is still not empty after {@code timeout}, or cannot be removed
     */
    void remove(Duration timeout) throws CgroupException;

    /**
     * {@code command} prefixed by a shell step that joins this cgroup and then execs it (same pid), so no
     * instruction of the command runs outside. The shell's only input is its arguments (nothing is
     * interpolated into the script); if a join fails it exits 125 before running the command. For spawners
     * that cannot join the child themselves (see docs/helidon-notes.md, "cgroups on this machine kind").
     */
    default List<String> joiningCommand(List<String> command) {
        List<String> argv = new ArrayList<>(List.of("/bin/sh", "-c", JOIN_SCRIPT, "jobscheduler-join",
                Integer.toString(procsFiles().size())));
        procsFiles().forEach(file -> argv.add(file.toString()));
        argv.addAll(command);
        return argv;
    }

    /** $1 is the count of procs files that follow, then the command. {@code $$} is the shell, which exec keeps. */
    String JOIN_SCRIPT = "n=$1; shift; while [ \"$n\" -gt 0 ]; do echo $$ > \"$1\" || exit 125; shift; "
            + "n=$((n - 1)); done; exec \"$@\"";

    /** A memory kill: how many processes were killed and the limit, in the words a job's error uses. */
    record OutOfMemory(long kills, long limitBytes) {
        /** "out of memory (limit 256 MiB)" */
        public String describe() {
            return "out of memory (limit " + ResourceLimits.describeBytes(limitBytes) + ")";
        }
    }
}
