package io.jobscheduler.scheduler;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.jobscheduler.rpc.CapacityRefusal;
import java.io.IOException;
import java.net.ConnectException;
import java.time.Duration;
import java.util.Locale;
import java.util.UUID;

/**
 * Turns a failed call to a worker into the {@link SchedulerException} it means, in the user's
 * terms (what happened to the request, never grpc-java's internal wording); the worker's own
 * description is kept.
 */
final class WorkerFailures {
    private WorkerFailures() {
    }

    /**
     * A failed call on worker {@code workerId} about job {@code jobId} (null for none) made with
     * {@code deadline} (null for none).
     */
    static SchedulerException of(UUID workerId, String jobId, Duration deadline, StatusRuntimeException e) {
        Status status = e.getStatus();
        String worker = "worker " + workerId;
        String description = status.getDescription() == null || status.getDescription().isEmpty()
                ? "" : ": " + status.getDescription();
        Status.Code code = status.getCode();
        return switch (code) {
            case INVALID_ARGUMENT -> new SchedulerException.WorkerRefused(code, worker + " refused the request" + description);
            case NOT_FOUND -> jobId != null ? new SchedulerException.UnknownJob(jobId)
                    : new SchedulerException.WorkerRefused(code, worker + " does not know" + description);
            case FAILED_PRECONDITION -> new SchedulerException.WorkerRefused(code, worker + " cannot start the command"
                    + description);
            case RESOURCE_EXHAUSTED -> new SchedulerException.WorkerOutOfResources(worker
                    + " cannot take the request now, retry later" + description, CapacityRefusal.isFull(e));
            case PERMISSION_DENIED -> new SchedulerException.WorkerRefused(code, worker + " does not allow the request"
                    + description);
            case UNIMPLEMENTED -> new SchedulerException.WorkerRefused(code, worker + " does not implement this call"
                    + description);
            case UNAVAILABLE -> new SchedulerException.WorkerUnavailable(unavailable(worker, status));
            case DEADLINE_EXCEEDED -> new SchedulerException.WorkerTooSlow(worker + " did not answer"
                    + (deadline == null ? " in time" : " within " + words(deadline)));
            case CANCELLED -> new SchedulerException.WorkerRefused(code, "the call to " + worker + " was cancelled"
                    + description);
            default -> new SchedulerException.WorkerRefused(code, worker + " failed the request" + description);
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
                    : io.getMessage().toLowerCase(Locale.ROOT));
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
