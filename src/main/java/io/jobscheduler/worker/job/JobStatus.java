package io.jobscheduler.worker.job;

import java.time.Instant;
import java.util.Objects;
import java.util.OptionalInt;

/**
 * A snapshot of one job. {@code errorText} is "" for success, "exit status 3", "killed by signal 9",
 * "stopped", or "worker restarted while the job was running"; {@code finishedAt} is null while running.
 */
public record JobStatus(String id, String command, String path, JobState state, OptionalInt exitCode,
                        OptionalInt signal, String errorText, Instant startedAt, Instant finishedAt) {
    public JobStatus {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(command, "command");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(exitCode, "exitCode");
        Objects.requireNonNull(signal, "signal");
        Objects.requireNonNull(errorText, "errorText");
        Objects.requireNonNull(startedAt, "startedAt");
    }

    public boolean done() {
        return state.done();
    }

    /** True when the job ended without success: failed or stopped. */
    public boolean error() {
        return state == JobState.FAILED || state == JobState.STOPPED;
    }
}
