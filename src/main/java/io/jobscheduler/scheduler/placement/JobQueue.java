package io.jobscheduler.scheduler.placement;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The jobs waiting for room, in dispatch order: priority (higher first), then arrival (earlier
 * first), bounded by {@code [queue] max_size}. Not thread-safe: its owner calls it under its lock.
 */
public final class JobQueue<S> {
    private final int maxSize;
    private final TreeMap<QueuedJob.Position, QueuedJob<S>> ordered = new TreeMap<>();
    private final Map<String, QueuedJob<S>> byId = new HashMap<>();

    public JobQueue(int maxSize) {
        this.maxSize = maxSize;
    }

    /** False, adding nothing, when the queue holds {@code max_size} jobs. */
    public boolean offer(QueuedJob<S> job) {
        if (byId.size() >= maxSize) {
            return false;
        }
        put(job);
        return true;
    }

    /** Puts back a job that was taken for dispatch (the worker refused it, or may not have got it): over the bound if need be. */
    public void putBack(QueuedJob<S> job) {
        put(job);
    }

    private void put(QueuedJob<S> job) {
        QueuedJob<S> old = byId.put(job.jobId(), job);
        if (old != null) {
            ordered.remove(old.position());
        }
        ordered.put(job.position(), job);
    }

    public Optional<QueuedJob<S>> find(String jobId) {
        return Optional.ofNullable(byId.get(jobId));
    }

    public Optional<QueuedJob<S>> remove(String jobId) {
        QueuedJob<S> job = byId.remove(jobId);
        if (job != null) {
            ordered.remove(job.position());
        }
        return Optional.ofNullable(job);
    }

    /** Every queued job in dispatch order (a copy). */
    public List<QueuedJob<S>> inOrder() {
        return new ArrayList<>(ordered.values());
    }

    /** The queued jobs in dispatch order, live: for a pass that stops early. */
    public Iterable<QueuedJob<S>> view() {
        return ordered.values();
    }

    /** The queued jobs after {@code position} in dispatch order (every one when empty), live. */
    public Iterable<QueuedJob<S>> after(Optional<QueuedJob.Position> position) {
        return position.map(p -> ordered.tailMap(p, false).values()).orElse(ordered.values());
    }

    public int size() {
        return byId.size();
    }

    public boolean isEmpty() {
        return byId.isEmpty();
    }
}
