package io.jobscheduler.worker.job;

/**
 * A start the worker will not make, before anything was created or spawned; the message names
 * the field or entry refused. Each {@link Reason} is one status on the wire (one mapping, in
 * {@code GrpcErrors}).
 */
public final class StartRefusedException extends Exception {
    /** Why a start is refused. */
    public enum Reason {
        /** The request itself is malformed: a bad variable name, a NUL, a value too large. */
        INVALID,
        /** The worker's policy forbids it: a command, path or user it does not allow. */
        FORBIDDEN,
        /** Well-formed and allowed, but beyond what this worker accepts (a timeout over max_timeout). */
        UNACCEPTABLE
    }

    private final Reason reason;

    StartRefusedException(Reason reason, String message) {
        super(message);
        this.reason = reason;
    }

    public Reason reason() {
        return reason;
    }
}
