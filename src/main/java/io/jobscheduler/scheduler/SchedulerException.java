package io.jobscheduler.scheduler;

import io.grpc.Status;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.UUID;

/**
 * Why the scheduler could not do what was asked, in domain terms: each kind knows its message
 * (in the user's words) and nothing of HTTP. The HTTP layer maps each kind to a status in one
 * place ({@code scheduler.http.ErrorStatus}).
 */
public abstract sealed class SchedulerException extends RuntimeException {
    private SchedulerException(String message) {
        super(message, null, false, false);
    }

    /** No worker of this id is registered. */
    public static final class UnknownWorker extends SchedulerException {
        public UnknownWorker(UUID workerId) {
            super("worker '" + workerId + "' is not registered");
        }
    }

    /**
     * The job is not known: to the scheduler (no worker named), or to its worker. One wording on
     * every route (api.md): once the worker is known to be registered, a 404 can only mean the job.
     */
    public static final class UnknownJob extends SchedulerException {
        public UnknownJob(String jobId) {
            super("unknown job '" + jobId + "'");
        }
    }

    /** The worker is registered but has missed its heartbeats or lost its watch. */
    public static final class WorkerDown extends SchedulerException {
        public WorkerDown(UUID workerId, Instant lastSeen) {
            super("worker '" + workerId + "' is down (last seen " + lastSeen + ")");
        }
    }

    /** The worker is alive, so it may not be forgotten (a worker is removed only once it is down). */
    public static final class WorkerAlive extends SchedulerException {
        public WorkerAlive(UUID workerId) {
            super("worker '" + workerId + "' is alive; only a worker that is down can be removed"
                    + " (stop the worker, or wait until it is marked down)");
        }
    }

    /** The worker has left the cluster: what it held is out of reach until it registers again. */
    public static final class WorkerLeft extends SchedulerException {
        public WorkerLeft(UUID workerId) {
            super("worker '" + workerId + "' has left the cluster; what it held"
                    + " (a job's output, stops) is out of reach until it registers again");
        }
    }

    /** The worker does not advertise a feature the request needs (a worker of the original contract, or older). */
    public static final class WorkerLacksFeature extends SchedulerException {
        public WorkerLacksFeature(UUID workerId, String feature) {
            super("worker '" + workerId + "' does not support '" + feature + "' (it does not advertise the feature)");
        }
    }

    /** The worker refused the request, with the gRPC status it answered. */
    public static final class WorkerRefused extends SchedulerException {
        private final Status.Code code;

        WorkerRefused(Status.Code code, String message) {
            super(message);
            this.code = Objects.requireNonNull(code, "code");
        }

        public Status.Code code() {
            return code;
        }
    }

    /** The worker could not be reached, or is going away. */
    public static final class WorkerUnavailable extends SchedulerException {
        WorkerUnavailable(String message) {
            super(message);
        }
    }

    /** The worker did not answer within the call's deadline. */
    public static final class WorkerTooSlow extends SchedulerException {
        WorkerTooSlow(String message) {
            super(message);
        }
    }

    /** The worker is out of resources (full, or out of descriptors, memory or disk): retry later. */
    public static final class WorkerOutOfResources extends SchedulerException {
        /** How long a client should wait before retrying. */
        public static final Duration RETRY_AFTER = Duration.ofSeconds(5);
        private final boolean full;

        /** @param full the worker said it is at its max_running ({@code rpc/CapacityRefusal}), not out of a resource */
        WorkerOutOfResources(String message, boolean full) {
            super(message);
            this.full = full;
        }

        /** Whether the worker only had no room (a job may wait for it) rather than running out of a resource. */
        public boolean full() {
            return full;
        }

        public Duration retryAfter() {
            return RETRY_AFTER;
        }
    }

    /** The worker answered something that breaks the contract (output out of order). */
    public static final class WorkerBroke extends SchedulerException {
        WorkerBroke(String message) {
            super(message);
        }
    }

    /** No registered worker could ever run the job: it names the first constraint (or feature) none meets. */
    public static final class Unplaceable extends SchedulerException {
        public Unplaceable(String what) {
            super(what);
        }
    }

    /** The queue holds {@code [queue] max_size} jobs: retry later. */
    public static final class QueueFull extends SchedulerException {
        /** How long a client should wait before retrying. */
        public static final Duration RETRY_AFTER = Duration.ofSeconds(1);

        QueueFull(int maxSize) {
            super("the queue is full (" + maxSize + " jobs, [queue] max_size); retry later");
        }

        public Duration retryAfter() {
            return RETRY_AFTER;
        }
    }

    /**
     * An {@code Idempotency-Key} that cannot be answered: it named another request (422), or its
     * first request is still being made (409).
     */
    public static final class IdempotencyConflict extends SchedulerException {
        private final boolean inFlight;

        IdempotencyConflict(boolean inFlight, String message) {
            super(message);
            this.inFlight = inFlight;
        }

        public boolean inFlight() {
            return inFlight;
        }
    }

    /** The scheduler's journal could not be written: the request was not accepted. */
    public static final class StoreFailed extends SchedulerException {
        StoreFailed(String message) {
            super(message);
        }
    }

    /** The scheduler is shutting down and takes no new work. */
    public static final class ShuttingDown extends SchedulerException {
        public ShuttingDown() {
            super("the scheduler is shutting down");
        }
    }
}
