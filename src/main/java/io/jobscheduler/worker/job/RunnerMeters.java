package io.jobscheduler.worker.job;

import java.time.Duration;

/**
 * What a {@link JobRunner} tells the worker's meters (plain JDK types: the job domain imports no
 * framework). Called on the paths they measure; must not block.
 */
public interface RunnerMeters {
    /** Counts nothing: for runners built in tests. */
    RunnerMeters NONE = new RunnerMeters() {
    };

    /** A job's process was spawned in {@code took} (the driver's start: spawn, and the cgroup join where there is one). */
    default void spawned(Duration took) {
    }

    /** {@code bytes} of a job's output were appended to its log on disk. */
    default void outputWritten(long bytes) {
    }
}
