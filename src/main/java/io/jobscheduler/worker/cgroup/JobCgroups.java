package io.jobscheduler.worker.cgroup;

import java.time.Duration;
import java.util.List;

/**
 * The worker's job cgroups: one {@link JobCgroup} per job, under a parent the worker owns
 * ({@code <own cgroup>/jobscheduler/<worker-id>/<job-id>} in each hierarchy its layout uses).
 */
public interface JobCgroups {
    /**
     * The job cgroups of {@code workerId} in {@code layout}, creating the worker's parent cgroups.
     *
     * @throws CgroupException if the layout has no cgroups, or the parent cannot be made
     */
    static JobCgroups open(CgroupLayout layout, String workerId) throws CgroupException {
        return LinuxJobCgroups.open(layout, workerId);
    }

    /** What job cgroups here can enforce (as {@link CgroupLayout#enforcement()}). */
    Enforcement enforcement();

    /**
     * A new, empty cgroup for {@code jobId} with {@code limits} written, before any process joins it.
     *
     * @throws CgroupException if it exists already, a limit cannot be enforced here, or the kernel refuses
     */
    JobCgroup create(String jobId, ResourceLimits limits) throws CgroupException;

    /** The ids of job cgroups under the worker's parent: after a restart, those of jobs the worker lost. */
    List<String> leftovers() throws CgroupException;

    /**
     * Kills every process in every leftover job cgroup and removes them, each within {@code timeout}.
     *
     * @return the job ids whose cgroups were removed
     * @throws CgroupException naming the first that could not be, after trying them all
     */
    List<String> removeLeftovers(Duration timeout) throws CgroupException;

    /** Removes the worker's own parent cgroups, which must hold no job cgroups (for a clean shutdown). */
    void close() throws CgroupException;
}
