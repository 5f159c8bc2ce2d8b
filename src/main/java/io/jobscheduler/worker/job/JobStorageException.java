package io.jobscheduler.worker.job;

import java.io.IOException;

/**
 * A job's files could not be written for a reason that is the worker's fault, not the command's
 * and not exhaustion (a full disk is a {@link SpawnException#workerExhausted()}): a data_dir
 * that is not writable, say. The job was not started (or, once started, killed).
 */
public final class JobStorageException extends Exception {
    JobStorageException(String message, IOException cause) {
        super(message, cause);
    }
}
