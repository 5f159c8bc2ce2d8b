package io.jobscheduler.worker.job;

/** The runner is closing or closed (the worker is shutting down): it starts no new job. */
public final class RunnerClosedException extends Exception {
    public RunnerClosedException() {
        super("worker is shutting down");
    }
}
