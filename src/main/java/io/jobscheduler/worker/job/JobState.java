package io.jobscheduler.worker.job;

import java.util.EnumSet;
import java.util.Set;

/**
 * The lifecycle of a job, and the one table of transitions between its states: a job runs, then
 * ends exactly once, as succeeded, failed or stopped. Nothing leaves an end state.
 */
public enum JobState {
    RUNNING, SUCCEEDED, FAILED, STOPPED;

    /** The states this one may move to. */
    public Set<JobState> next() {
        return switch (this) {
            case RUNNING -> EnumSet.of(SUCCEEDED, FAILED, STOPPED);
            case SUCCEEDED, FAILED, STOPPED -> EnumSet.noneOf(JobState.class);
        };
    }

    public boolean canMoveTo(JobState target) {
        return next().contains(target);
    }

    /** Returns {@code target} if this state may move to it; otherwise throws. */
    public JobState moveTo(JobState target) {
        if (!canMoveTo(target)) {
            throw new IllegalTransitionException(this, target);
        }
        return target;
    }

    public boolean done() {
        return this != RUNNING;
    }
}
