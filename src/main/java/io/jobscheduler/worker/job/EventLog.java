package io.jobscheduler.worker.job;

import io.jobscheduler.concurrent.Conditions;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The worker's job events (docs/architecture.md, "Job events"): a boot id new with every log (one
 * per worker process), a sequence number +1 per event, and a bounded buffer of the most recent
 * events for the streams that send them. Its lock orders the events: a job's state changes and
 * its event is numbered in one step under it ({@link #change}), and {@link #snapshot} reads under
 * it, so a snapshot reflects exactly the events up to its sequence number.
 *
 * <p>Lock order: this log's lock, then the job table's, then a job's own.
 */
public final class EventLog {
    /** Events kept for streams that fall behind; older ones are dropped and such a stream skips ahead. */
    public static final int DEFAULT_CAPACITY = 4096;

    /** One event: the job's status as it was made, numbered. */
    public record Event(long seq, JobStatus status) {
    }

    /**
     * What a stream sends next: the events after the sequence number it asked from, oldest first
     * and contiguous, up to {@code seq}. When the stream fell behind the buffer, {@code events}
     * starts beyond the number it asked from (a gap the scheduler sees and resyncs on).
     */
    public record Batch(String bootId, long seq, List<Event> events) {
    }

    /** A value read under the lock that orders events, and the sequence number it is consistent with. */
    public record Snapshot<T>(T value, long seq) {
    }

    private final String bootId = UUID.randomUUID().toString();
    private final int capacity;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition published = lock.newCondition();
    private final ArrayDeque<Event> recent;     // guarded by lock; oldest first, contiguous, ending at seq
    private long seq;                           // guarded by lock

    public EventLog() {
        this(DEFAULT_CAPACITY);
    }

    EventLog(int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be positive: " + capacity);
        }
        this.capacity = capacity;
        this.recent = new ArrayDeque<>(Math.min(capacity, 1024));
    }

    public String bootId() {
        return bootId;
    }

    /**
     * Runs a change of job state under the lock that orders events; when it answers a status (the
     * change happened), that status is the next event and every waiting stream is woken.
     *
     * @return whether the change happened
     */
    boolean change(Supplier<Optional<JobStatus>> change) {
        lock.lock();
        try {
            Optional<JobStatus> status = change.get();
            status.ifPresent(this::append);
            return status.isPresent();
        } finally {
            lock.unlock();
        }
    }

    private void append(JobStatus status) {
        seq++;
        if (recent.size() == capacity) {
            recent.removeFirst();
        }
        recent.addLast(new Event(seq, status));
        published.signalAll();
    }

    /** Reads {@code read} under the lock that orders events, with the sequence number it reflects. */
    <T> Snapshot<T> snapshot(Supplier<T> read) {
        lock.lock();
        try {
            return new Snapshot<>(read.get(), seq);
        } finally {
            lock.unlock();
        }
    }

    /** The current sequence number, no events: a stream's first message. */
    public Batch current() {
        lock.lock();
        try {
            return new Batch(bootId, seq, List.of());
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until there are events after {@code after}, {@code stop} holds (see {@link #wake}) or
     * the timeout passed, and answers what there is then: possibly no events (a heartbeat).
     */
    public Batch next(long after, Duration timeout, BooleanSupplier stop) throws InterruptedException {
        lock.lockInterruptibly();
        try {
            Conditions.await(published, () -> seq > after || stop.getAsBoolean(), timeout);
            return new Batch(bootId, seq, since(after));
        } finally {
            lock.unlock();
        }
    }

    private List<Event> since(long after) {
        if (seq <= after) {
            return List.of();
        }
        long firstKept = seq - recent.size() + 1;
        List<Event> events = new ArrayList<>((int) Math.min(seq - after, recent.size()));
        // A stream that fell behind gets what is kept, from the oldest: the gap shows in its first number.
        int skip = (int) Math.max(0, after + 1 - firstKept);
        var all = recent.iterator();
        for (int i = 0; i < skip; i++) {
            all.next();
        }
        all.forEachRemaining(events::add);
        return events;
    }

    /** Wakes every stream waiting in {@link #next}, so that it checks its stop condition. */
    public void wake() {
        lock.lock();
        try {
            published.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
