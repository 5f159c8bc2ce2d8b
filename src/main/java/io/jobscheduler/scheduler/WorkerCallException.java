package io.jobscheduler.scheduler;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.UUID;

/**
 * A call to a worker that failed, carrying the HTTP status its gRPC status maps to
 * (DESIGN.md: worker refusals keep their meaning).
 */
public final class WorkerCallException extends RuntimeException {
    private final int httpStatus;

    public WorkerCallException(int httpStatus, String message) {
        super(message);
        this.httpStatus = httpStatus;
    }

    public int httpStatus() {
        return httpStatus;
    }

    /** Translates a failed call on worker {@code workerId}; the worker's own description is kept. */
    public static WorkerCallException of(UUID workerId, StatusRuntimeException e) {
        Status status = e.getStatus();
        String description = status.getDescription() == null ? "" : ": " + status.getDescription();
        return switch (status.getCode()) {
            case INVALID_ARGUMENT -> new WorkerCallException(400, "worker " + workerId + " refused the request" + description);
            case NOT_FOUND -> new WorkerCallException(404, stripped(status, "not found on worker " + workerId));
            case FAILED_PRECONDITION -> new WorkerCallException(422, "worker " + workerId + " cannot start the command" + description);
            case UNIMPLEMENTED -> new WorkerCallException(501, "worker " + workerId + " does not implement this call" + description);
            case UNAVAILABLE -> new WorkerCallException(503, "worker " + workerId + " is unavailable" + description);
            case DEADLINE_EXCEEDED -> new WorkerCallException(504, "worker " + workerId + " did not answer in time");
            default -> new WorkerCallException(502, "worker " + workerId + " failed: " + status.getCode() + description);
        };
    }

    private static String stripped(Status status, String fallback) {
        return status.getDescription() == null || status.getDescription().isEmpty() ? fallback : status.getDescription();
    }
}
