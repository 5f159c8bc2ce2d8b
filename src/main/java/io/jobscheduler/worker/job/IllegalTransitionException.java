package io.jobscheduler.worker.job;

/** A job was asked to move between two states the lifecycle does not connect. */
public final class IllegalTransitionException extends IllegalStateException {
    private final JobState from;
    private final JobState to;

    public IllegalTransitionException(JobState from, JobState to) {
        super("a job cannot go from " + from + " to " + to);
        this.from = from;
        this.to = to;
    }

    public JobState from() {
        return from;
    }

    public JobState to() {
        return to;
    }
}
