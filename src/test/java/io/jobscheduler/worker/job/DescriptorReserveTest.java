package io.jobscheduler.worker.job;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The worker's descriptor reserve: a start that would eat into it is the worker's exhaustion (503). */
class DescriptorReserveTest {
    @Test
    void theReserveIsATwentiethBetween64And1024() {
        assertEquals(64, DescriptorReserve.reserveFor(1024));
        assertEquals(200, DescriptorReserve.reserveFor(4000));
        assertEquals(1024, DescriptorReserve.reserveFor(1 << 20));
    }

    @Test
    void nearTheLimitAStartIsRefusedAsTheWorkersExhaustion() {
        assertDoesNotThrow(() -> new DescriptorReserve(() -> 900, () -> 1024, () -> 0).check());
        SpawnException near = assertThrows(SpawnException.class,
                () -> new DescriptorReserve(() -> 961, () -> 1024, () -> 0).check());
        assertTrue(near.workerExhausted(), "RESOURCE_EXHAUSTED: 503 with Retry-After");
        assertEquals("the worker is out of file descriptors: 961 of 1024 are open and 64 are kept for the worker"
                + " itself; try again when jobs have ended", near.getMessage());
    }

    @Test
    void aCountIsTrustedBrieflyFarFromTheReserveAndNeverNearIt() throws Exception {
        java.util.concurrent.atomic.AtomicLong open = new java.util.concurrent.atomic.AtomicLong(100);
        java.util.concurrent.atomic.AtomicLong now = new java.util.concurrent.atomic.AtomicLong(0);
        java.util.concurrent.atomic.AtomicInteger counts = new java.util.concurrent.atomic.AtomicInteger();
        DescriptorReserve reserve = new DescriptorReserve(() -> {
            counts.incrementAndGet();
            return open.get();
        }, () -> 1024, now::get);
        for (int i = 0; i < 10; i++) {
            reserve.check();
        }
        assertEquals(1, counts.get(), "far from the reserve (64 of 1024), one count serves the starts that follow");
        now.addAndGet(DescriptorReserve.RECOUNT_AFTER.toNanos());
        reserve.check();
        assertEquals(2, counts.get(), "a count is trusted only for a while");

        // Descriptors opened by something else meanwhile: near the reserve every start counts, and is refused.
        open.set(900);
        now.addAndGet(DescriptorReserve.RECOUNT_AFTER.toNanos());
        reserve.check();
        int before = counts.get();
        reserve.check();
        reserve.check();
        assertEquals(before + 2, counts.get(), "within twice the reserve of the limit, every start counts");
        open.set(961);
        assertThrows(SpawnException.class, reserve::check, "the very next start sees the new count");
    }

    @Test
    void thisProcessCountsItsOwn() {
        assertDoesNotThrow(() -> DescriptorReserve.ofThisProcess().check());
    }
}
