package io.jobscheduler.worker.job;

import com.sun.management.UnixOperatingSystemMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.util.function.LongSupplier;

/**
 * The file descriptors the worker keeps for itself: a start that would leave fewer free than the reserve
 * is refused as the worker's exhaustion (RESOURCE_EXHAUSTED, HTTP 503 with Retry-After), so that being
 * near the limit never fails the worker's own sockets, records and output files. Each running job holds
 * three (its pidfd, its output pipe and its output file).
 */
final class DescriptorReserve {
    /** Kept free: a twentieth of the limit, at least 64 and at most 1024. */
    static long reserveFor(long limit) {
        return Math.min(1024, Math.max(64, limit / 20));
    }

    private final LongSupplier open;
    private final LongSupplier limit;

    DescriptorReserve(LongSupplier open, LongSupplier limit) {
        this.open = open;
        this.limit = limit;
    }

    /** This process's descriptors, as the JVM counts them; a JVM that cannot count them keeps no reserve. */
    static DescriptorReserve ofThisProcess() {
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        if (os instanceof UnixOperatingSystemMXBean unix) {
            return new DescriptorReserve(unix::getOpenFileDescriptorCount, unix::getMaxFileDescriptorCount);
        }
        return new DescriptorReserve(() -> 0, () -> Long.MAX_VALUE);
    }

    /** @throws SpawnException (the worker's exhaustion) when too few descriptors are free for one more job */
    void check() throws SpawnException {
        long max = limit.getAsLong();
        long used = open.getAsLong();
        long reserve = reserveFor(max);
        if (max - used < reserve) {
            throw SpawnException.exhausted("file descriptors", used + " of " + max + " are open and "
                    + reserve + " are kept for the worker itself; try again when jobs have ended");
        }
    }
}
