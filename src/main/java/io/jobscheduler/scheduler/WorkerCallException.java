package io.jobscheduler.scheduler;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;

/**
 * A call to a worker that failed, carrying the HTTP status its gRPC status maps to (worker
 * refusals keep their meaning, see api.md), a message in the user's terms (what happened to the
 * request, never grpc-java's internal wording) and the response headers the status needs.
 */
public final class WorkerCallException extends RuntimeException {
    /** How long a client should wait before retrying a worker that is out of resources. */
    static final Duration RETRY_AFTER = Duration.ofSeconds(5);

    private final int httpStatus;
    private final Map<String, String> headers;

    public WorkerCallException(int httpStatus, String message) {
        this(httpStatus, message, Map.of());
    }

    private WorkerCallException(int httpStatus, String message, Map<String, String> headers) {
        super(message, null, false, false);
        this.httpStatus = httpStatus;
        this.headers = Map.copyOf(headers);
    }

    public int httpStatus() {
        return httpStatus;
    }

    /** Headers the answer must carry, such as {@code Retry-After} on a 503 for an exhausted worker. */
    public Map<String, String> headers() {
        return headers;
    }

    /** A failed call on worker {@code workerId} about no job in particular, without a deadline. */
    public static WorkerCallException of(UUID workerId, StatusRuntimeException e) {
        return of(workerId, null, null, e);
    }

    /**
     * Translates a failed call on worker {@code workerId} about job {@code jobId} (null for none)
     * made with {@code deadline} (null for none); the worker's own description is kept.
     */
    public static WorkerCallException of(UUID workerId, String jobId, Duration deadline, StatusRuntimeException e) {
        Status status = e.getStatus();
        String worker = "worker " + workerId;
        String description = status.getDescription() == null || status.getDescription().isEmpty()
                ? "" : ": " + status.getDescription();
        return switch (status.getCode()) {
            case INVALID_ARGUMENT -> new WorkerCallException(400, worker + " refused the request" + description);
            case NOT_FOUND -> new WorkerCallException(404, jobId != null
                    ? "job '" + jobId + "' is not known to " + worker : worker + " does not know" + description);
            case FAILED_PRECONDITION -> new WorkerCallException(422, worker + " cannot start the command" + description);
            case RESOURCE_EXHAUSTED -> new WorkerCallException(503, worker + " cannot take the request now, retry later"
                    + description, Map.of("Retry-After", Long.toString(RETRY_AFTER.toSeconds())));
            case UNIMPLEMENTED -> new WorkerCallException(501, worker + " does not implement this call" + description);
            case UNAVAILABLE -> new WorkerCallException(503, unavailable(worker, status));
            case DEADLINE_EXCEEDED -> new WorkerCallException(504, worker + " did not answer"
                    + (deadline == null ? " in time" : " within " + words(deadline)));
            case CANCELLED -> new WorkerCallException(502, "the call to " + worker + " was cancelled" + description);
            default -> new WorkerCallException(502, worker + " failed the request" + description);
        };
    }

    /**
     * UNAVAILABLE is either the worker's own answer (it is shutting down) or grpc-java's report
     * of a transport failure, whose wording ("io exception", "Channel shutdownNow invoked")
     * means nothing to a user: those say what happened to the connection instead.
     */
    private static String unavailable(String worker, Status status) {
        Throwable cause = status.getCause();
        while (cause != null && cause.getCause() != null && !(cause instanceof ConnectException)) {
            cause = cause.getCause();
        }
        if (cause instanceof ConnectException) {
            return worker + " could not be reached: connection refused";
        }
        if (cause instanceof IOException io) {
            return worker + " could not be reached: " + (io.getMessage() == null ? "connection failed"
                    : io.getMessage().toLowerCase(java.util.Locale.ROOT));
        }
        String description = status.getDescription() == null ? "" : status.getDescription();
        if (description.startsWith("Channel shutdown")) {
            return worker + " left the cluster or went down while the request was in flight";
        }
        if (cause != null || description.isEmpty() || description.equals("io exception")
                || description.startsWith("Connection closed") || description.startsWith("Network closed")) {
            return worker + " could not be reached: the connection was lost";
        }
        return worker + " is unavailable: " + description;
    }

    /** "10s", "250ms", "2m". */
    static String words(Duration d) {
        long millis = d.toMillis();
        if (millis % 60_000 == 0 && millis > 0) {
            return millis / 60_000 + "m";
        }
        return millis % 1000 == 0 ? millis / 1000 + "s" : millis + "ms";
    }
}
