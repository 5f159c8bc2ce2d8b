package io.jobscheduler.concurrent;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConditionsTest {
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private boolean flag;   // guarded by lock

    @Test
    void answersAtOnceWhenAlreadyTrue() throws InterruptedException {
        lock.lock();
        try {
            flag = true;
            assertTrue(Conditions.await(changed, () -> flag, Duration.ZERO));
        } finally {
            lock.unlock();
        }
    }

    @Test
    void answersFalseOnceTheDeadlinePassed() throws InterruptedException {
        lock.lock();
        try {
            assertFalse(Conditions.await(changed, () -> flag, Duration.ofMillis(20)));
            assertFalse(Conditions.await(changed, () -> flag, Duration.ofMillis(-1)));
        } finally {
            lock.unlock();
        }
    }

    @Test
    void wakesWhenSignalled() throws InterruptedException {
        CountDownLatch waiting = new CountDownLatch(1);
        Thread setter = Thread.ofVirtual().start(() -> {
            try {
                waiting.await();
            } catch (InterruptedException e) {
                return;
            }
            lock.lock();
            try {
                flag = true;
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        });
        lock.lock();
        try {
            waiting.countDown();
            // A minute: the test would hang visibly, not pass by timing, if no signal came.
            assertTrue(Conditions.await(changed, () -> flag, Duration.ofMinutes(1)));
        } finally {
            lock.unlock();
        }
        setter.join();
    }
}
