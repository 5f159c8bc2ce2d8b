package io.jobscheduler.scheduler;

import io.jobscheduler.concurrent.Conditions;
import java.time.Duration;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Calls in progress, for a drain that lets them finish. Helidon 4.5.0's stop closes an HTTP/2
 * connection whose reader is waiting for frames as idle, even while a call on it is being
 * handled (its client then sees GOAWAY "Idle timeout"), so the scheduler drains its gRPC calls
 * itself before stopping the server.
 */
final class InFlight {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition idle = lock.newCondition();
    private int calls;          // guarded by lock
    private boolean draining;   // guarded by lock

    /** Counts a call in; false once draining (the call is to be refused). */
    boolean enter() {
        lock.lock();
        try {
            if (draining) {
                return false;
            }
            calls++;
            return true;
        } finally {
            lock.unlock();
        }
    }

    void exit() {
        lock.lock();
        try {
            if (--calls == 0) {
                idle.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Refuses new calls and waits up to {@code timeout} for those in progress; true if none is left. */
    boolean drain(Duration timeout) throws InterruptedException {
        lock.lock();
        try {
            draining = true;
            return Conditions.await(idle, () -> calls == 0, timeout);
        } finally {
            lock.unlock();
        }
    }
}
