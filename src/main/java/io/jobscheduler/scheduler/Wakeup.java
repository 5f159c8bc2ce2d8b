package io.jobscheduler.scheduler;

import io.jobscheduler.concurrent.Conditions;
import java.time.Duration;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * "Something placement depends on changed": a job ended, a worker joined, came back, resumed or
 * told its capacity. Whoever changes such a thing calls {@link #wake} after releasing its own
 * locks; the {@link Dispatcher} waits on it. Wake-ups coalesce: many changes, one pass.
 */
final class Wakeup {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private boolean pending;   // guarded by lock

    void wake() {
        lock.lock();
        try {
            pending = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Waits until woken or {@code timeout} passed; clears the wake-up. */
    void await(Duration timeout) throws InterruptedException {
        lock.lock();
        try {
            Conditions.await(changed, () -> pending, timeout);
            pending = false;
        } finally {
            lock.unlock();
        }
    }
}
