package io.jobscheduler.scheduler.placement;

import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * A job accepted before it runs anywhere: the id the scheduler gave it, what it needs of a worker
 * (constraints, features, a pinned worker), its priority (higher first) and arrival (earlier first).
 * {@code start} is the start itself, opaque here.
 *
 * @param resendTo the worker a dispatch of this job may already have reached: the same start (same
 *                 id) is sent there again, to no other
 */
public record QueuedJob<S>(String jobId, S start, Constraints constraints, List<String> features,
                           Optional<UUID> pinned, int priority, long arrival, Instant submittedAt,
                           Optional<UUID> resendTo) {
    public QueuedJob {
        Objects.requireNonNull(jobId, "jobId");
        Objects.requireNonNull(start, "start");
        Objects.requireNonNull(constraints, "constraints");
        features = List.copyOf(features);
        Objects.requireNonNull(pinned, "pinned");
        Objects.requireNonNull(submittedAt, "submittedAt");
        Objects.requireNonNull(resendTo, "resendTo");
    }

    /** The worker this job must go to, if any: the one it may already be on, else the one named. */
    public Optional<UUID> target() {
        return resendTo.or(() -> pinned);
    }

    public QueuedJob<S> resendingTo(UUID workerId) {
        return new QueuedJob<>(jobId, start, constraints, features, pinned, priority, arrival, submittedAt,
                Optional.of(workerId));
    }

    /** Where the job stands in dispatch order: priority (higher first), then arrival (earlier first). */
    public record Position(int priority, long arrival) implements Comparable<Position> {
        @Override
        public int compareTo(Position o) {
            int byPriority = Integer.compare(o.priority, priority);
            return byPriority != 0 ? byPriority : Long.compare(arrival, o.arrival);
        }
    }

    public Position position() {
        return new Position(priority, arrival);
    }

    public Collection<String> needs() {
        return features;
    }
}
