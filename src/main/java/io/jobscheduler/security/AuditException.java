package io.jobscheduler.security;

/** The audit log could not record a line (a full disk, a folder made read-only, a failed rotation). */
public final class AuditException extends RuntimeException {
    public AuditException(String message, Throwable cause) {
        super(message, cause);
    }
}
