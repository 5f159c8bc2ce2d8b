package io.jobscheduler.scheduler;

import io.grpc.Status;
import java.time.Duration;

/**
 * What the scheduler's core tells its meters (the {@code scheduler.metrics} package counts it;
 * the core imports no metrics library). Each method is called on the path it measures, never
 * under a lock that a network call waits on, and must not block.
 */
public interface SchedulerMeters {
    /** Counts nothing: for the in-JVM tests that build the core's parts one by one. */
    SchedulerMeters NONE = new SchedulerMeters() {
    };

    /** A worker answered {@code StartJob} after {@code latency} (from the request to its answer). */
    default void jobStarted(Duration latency) {
    }

    /** The scheduler saw a job it knew as running end in {@code state}. */
    default void jobEnded(JobState state) {
    }

    /** {@code bytes} of job output were passed on to an HTTP client. */
    default void outputStreamed(long bytes) {
    }

    /** A worker sent no heartbeat for its time-to-live and was marked down. */
    default void heartbeatMissed() {
    }

    /** A call to a worker ended ({@code method} is the proto's bare method name). */
    default void workerCall(String method, Status.Code code) {
    }
}
