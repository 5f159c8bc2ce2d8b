package io.jobscheduler.concurrent;

import java.time.Duration;
import java.util.concurrent.locks.Condition;
import java.util.function.BooleanSupplier;

/**
 * Waiting on a {@link Condition} until what it guards holds or a deadline passes: the one copy of
 * the {@code awaitNanos} loop (spurious wake-ups, the time left after each wake-up). Shared by the
 * scheduler and the worker, which never import each other's code.
 */
public final class Conditions {
    private Conditions() {
    }

    /**
     * Waits until {@code done} holds or {@code timeout} has passed. The caller holds the lock the
     * condition belongs to, and whoever changes what {@code done} reads signals the condition under
     * that lock. A zero or negative timeout checks once without waiting.
     *
     * @return {@code done}'s value when the wait ended: false means the deadline passed first
     */
    public static boolean await(Condition condition, BooleanSupplier done, Duration timeout)
            throws InterruptedException {
        long nanos = timeout.toNanos();
        while (!done.getAsBoolean()) {
            if (nanos <= 0) {
                return false;
            }
            nanos = condition.awaitNanos(nanos);
        }
        return true;
    }
}
