package io.jobscheduler.worker.job;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * How a running job is ended: SIGTERM to its process group, SIGKILL to the group (and, for a job
 * with a cgroup, to every process in it) after the grace period, and — when the group is dead but
 * the output is still open, because a descendant left the group ({@code setsid}) and no cgroup
 * reached it — the output cut loose, so the job can end.
 */
final class Termination {
    private final Duration grace;

    Termination(Duration grace) {
        this.grace = grace;
    }

    /** Ends one job; returns once it has ended. {@code entry} is empty once its process was reaped. */
    void end(Job job, Optional<RunningJob> entry) throws InterruptedException {
        entry.ifPresent(r -> r.process().signal(ProcessDriver.Signal.TERMINATE));
        if (!job.awaitEnd(grace)) {
            if (!job.done()) {
                entry.ifPresent(r -> r.process().signal(ProcessDriver.Signal.KILL));
            }
            awaitEndAfterKill(job, entry);
        }
    }

    /**
     * Ends every job of {@code all} whose stop this caller won, within one grace period for all of
     * them together. An interrupt kills what is still running and is passed on.
     */
    void endAll(List<RunningJob> all) throws InterruptedException {
        try {
            for (RunningJob r : all) {
                if (r.job().requestStop()) {
                    r.process().signal(ProcessDriver.Signal.TERMINATE);
                }
            }
            long deadline = System.nanoTime() + grace.toNanos();
            for (RunningJob r : all) {
                r.job().awaitEnd(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
            }
            killUnended(all);
            for (RunningJob r : all) {
                awaitEndAfterKill(r.job(), Optional.of(r)); // returns at once for a job already settled
            }
        } catch (InterruptedException e) {
            killUnended(all);
            throw e;
        }
    }

    private void awaitEndAfterKill(Job job, Optional<RunningJob> entry) throws InterruptedException {
        if (job.awaitEnd(grace)) {
            return;
        }
        entry.ifPresent(r -> r.process().cutOutput());
        job.awaitEnd();
    }

    private static void killUnended(List<RunningJob> all) {
        for (RunningJob r : all) {
            if (!r.job().done()) {
                r.process().signal(ProcessDriver.Signal.KILL);
            }
        }
    }
}
