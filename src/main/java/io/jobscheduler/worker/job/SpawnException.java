package io.jobscheduler.worker.job;

/** A job's command could not be started; the message says why ("command not found: foo"). */
public final class SpawnException extends Exception {
    public SpawnException(String message) {
        super(message);
    }
}
