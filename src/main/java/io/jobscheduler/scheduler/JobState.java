package io.jobscheduler.scheduler;

/**
 * A job's state as the scheduler answers it. The worker's four states, plus {@code LOST} while
 * the job's worker is down, and {@code QUEUED} while the scheduler holds it for a worker with room (api.md). The scheduler's own type: it never imports worker code, and
 * reads the worker's states from the wire by name.
 */
public enum JobState {
    QUEUED, RUNNING, SUCCEEDED, FAILED, STOPPED, LOST;

    public boolean done() {
        return this != RUNNING && this != QUEUED;
    }

    /** True when the job ended without success (or its end is out of sight). */
    public boolean error() {
        return this == FAILED || this == STOPPED || this == LOST;
    }

    /**
     * The state a worker sent: its name when it gave one, else (an original-contract worker, or
     * a name this scheduler does not know) derived from its {@code done} and {@code error} flags.
     */
    public static JobState fromWire(String name, boolean done, boolean error) {
        for (JobState state : values()) {
            if (state != LOST && state != QUEUED && state.name().equals(name)) {
                return state;
            }
        }
        return !done ? RUNNING : error ? FAILED : SUCCEEDED;
    }
}
