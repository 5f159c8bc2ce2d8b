package io.jobscheduler.worker.job;

import com.sun.management.UnixOperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.time.Duration;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;

/**
 * The file descriptors the worker keeps for itself: a start that would leave fewer free than the reserve
 * is refused as the worker's exhaustion (RESOURCE_EXHAUSTED, HTTP 503 with Retry-After), so that being
 * near the limit never fails the worker's own sockets, records and output files. Each running job holds
 * three (its pidfd, its output pipe and its output file).
 *
 * <p>Counting is a listing of {@code /proc/self/fd} (one entry per open descriptor: thousands with many
 * jobs running), so it is not done for every start: a count is trusted for {@link #RECOUNT_AFTER}, with
 * {@link #PER_JOB} descriptors added for each start since, while that estimate stays well clear of the
 * reserve (twice it); near the reserve every start counts again.
 */
final class DescriptorReserve {
    /** How long a count is trusted while the estimate is far from the reserve. */
    static final Duration RECOUNT_AFTER = Duration.ofMillis(100);
    /** What one start may add: its pidfd, its output pipe's end and its output file. */
    static final int PER_JOB = 3;

    /** Kept free: a twentieth of the limit, at least 64 and at most 1024. */
    static long reserveFor(long limit) {
        return Math.min(1024, Math.max(64, limit / 20));
    }

    private final LongSupplier open;
    private final LongSupplier limit;
    private final LongSupplier nanoTime;

    private final ReentrantLock lock = new ReentrantLock();
    private boolean counted;        // guarded by lock
    private long countedAt;         // guarded by lock: nanoTime of the last count
    private long estimate;          // guarded by lock: the last count plus PER_JOB per start since

    DescriptorReserve(LongSupplier open, LongSupplier limit, LongSupplier nanoTime) {
        this.open = open;
        this.limit = limit;
        this.nanoTime = nanoTime;
    }

    /** This process's descriptors, as the JVM counts them; a JVM that cannot count them keeps no reserve. */
    static DescriptorReserve ofThisProcess() {
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof UnixOperatingSystemMXBean unix) {
            return new DescriptorReserve(unix::getOpenFileDescriptorCount, unix::getMaxFileDescriptorCount, System::nanoTime);
        }
        return new DescriptorReserve(() -> 0, () -> Long.MAX_VALUE, System::nanoTime);
    }

    /** @throws SpawnException (the worker's exhaustion) when too few descriptors are free for one more job */
    void check() throws SpawnException {
        long max = limit.getAsLong();
        long reserve = reserveFor(max);
        long now = nanoTime.getAsLong();
        long used;
        lock.lock();
        try {
            boolean fresh = counted && now - countedAt < RECOUNT_AFTER.toNanos()
                    && max - (estimate + PER_JOB) >= 2 * reserve;
            if (fresh) {
                estimate += PER_JOB;
                return;
            }
            // Counted under the lock: concurrent starts near the limit must not all pass on one count.
            used = open.getAsLong();
            counted = true;
            countedAt = now;
            estimate = used + PER_JOB;
        } finally {
            lock.unlock();
        }
        if (max - used < reserve) {
            throw SpawnException.exhausted("file descriptors", used + " of " + max + " are open and "
                    + reserve + " are kept for the worker itself; try again when jobs have ended");
        }
    }
}
