package io.jobscheduler.worker;

import io.jobscheduler.concurrent.Conditions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Whether the scheduler is still in touch with this worker. The scheduler keeps a {@code Watch}
 * stream open to every worker it knows; while one is open the worker is known, and once none has
 * been open for the time-to-live (the scheduler restarted, or dropped this worker) the worker
 * registers again. A watch that names another id means the scheduler does not know this worker
 * by its id: that ends the wait at once.
 */
final class SchedulerContact {
    private final Clock clock;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private int openWatches;        // guarded by lock
    private Instant lastContact;    // guarded by lock
    private boolean toldUnknown;    // guarded by lock
    private boolean closed;         // guarded by lock

    SchedulerContact(Clock clock) {
        this.clock = clock;
        this.lastContact = clock.instant();
    }

    /** The scheduler answered a registration: it knows this worker as of now. */
    void registered() {
        lock.lock();
        try {
            lastContact = clock.instant();
            toldUnknown = false;
        } finally {
            lock.unlock();
        }
    }

    void watchOpened() {
        lock.lock();
        try {
            openWatches++;
            lastContact = clock.instant();
        } finally {
            lock.unlock();
        }
    }

    void watchClosed() {
        lock.lock();
        try {
            openWatches--;
            lastContact = clock.instant();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The scheduler asked about a worker id this worker does not hold. */
    void unknownId() {
        lock.lock();
        try {
            toldUnknown = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    void close() {
        lock.lock();
        try {
            closed = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until the scheduler has been out of touch for {@code ttl} (no watch open) or named an
     * id this worker does not hold: true then, false once closed.
     */
    boolean awaitLost(Duration ttl) throws InterruptedException {
        lock.lock();
        try {
            while (!closed) {
                if (toldUnknown) {
                    return true;
                }
                Duration wait = ttl;
                if (openWatches == 0) {
                    Duration silent = Duration.between(lastContact, clock.instant());
                    if (silent.compareTo(ttl) >= 0) {
                        return true;
                    }
                    wait = ttl.minus(silent);
                }
                int open = openWatches;
                Conditions.await(changed, () -> closed || toldUnknown || openWatches != open, wait);
            }
            return false;
        } finally {
            lock.unlock();
        }
    }
}
