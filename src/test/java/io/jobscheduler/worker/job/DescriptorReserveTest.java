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
        assertDoesNotThrow(() -> new DescriptorReserve(() -> 900, () -> 1024).check());
        SpawnException near = assertThrows(SpawnException.class,
                () -> new DescriptorReserve(() -> 961, () -> 1024).check());
        assertTrue(near.workerExhausted(), "RESOURCE_EXHAUSTED: 503 with Retry-After");
        assertEquals("the worker is out of file descriptors: 961 of 1024 are open and 64 are kept for the worker"
                + " itself; try again when jobs have ended", near.getMessage());
    }

    @Test
    void thisProcessCountsItsOwn() {
        assertDoesNotThrow(() -> DescriptorReserve.ofThisProcess().check());
    }
}
