package io.jobscheduler.worker.job;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The timeouts of running jobs: one timer thread that only hands each due timeout to a virtual
 * thread of its own (stopping a job waits out its grace period). A timeout is disarmed when its
 * job ends, so a long one holds nothing of a finished job.
 */
final class JobTimeouts implements AutoCloseable {
    private final ScheduledThreadPoolExecutor timer;
    private final ReentrantLock lock = new ReentrantLock();
    private final Map<String, ScheduledFuture<?>> armed = new HashMap<>();   // guarded by lock

    JobTimeouts() {
        timer = new ScheduledThreadPoolExecutor(1, Thread.ofPlatform().name("job-timeouts").daemon(true).factory());
        timer.setRemoveOnCancelPolicy(true);
    }

    /** Runs {@code onTimeout} on a virtual thread once {@code timeout} has passed, unless disarmed first. */
    void arm(String jobId, Duration timeout, Runnable onTimeout) {
        ScheduledFuture<?> future = timer.schedule(() -> {
            disarm(jobId);
            Thread.ofVirtual().name("job-timeout " + jobId).start(onTimeout);
        }, timeout.toNanos(), TimeUnit.NANOSECONDS);
        lock.lock();
        try {
            armed.put(jobId, future);
        } finally {
            lock.unlock();
        }
    }

    void disarm(String jobId) {
        ScheduledFuture<?> future;
        lock.lock();
        try {
            future = armed.remove(jobId);
        } finally {
            lock.unlock();
        }
        if (future != null) {
            future.cancel(false);
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
