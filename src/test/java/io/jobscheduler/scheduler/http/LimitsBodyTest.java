package io.jobscheduler.scheduler.http;

import io.jobscheduler.config.Limits;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@code POST /start}'s {@code limits}: each value's forms, and a refusal naming the field. */
class LimitsBodyTest {
    @Test
    void sizesCoresAndCountsAreRead() {
        assertEquals(new Limits(OptionalLong.of(256L << 20), OptionalLong.of(500), OptionalLong.of(10),
                OptionalLong.of(4096)), LimitsBody.of(new LimitsBody("256M", 0.5, 10, 4096)));
        assertEquals(OptionalLong.of(2000), LimitsBody.of(new LimitsBody(null, 2, null, null)).cpuMillis());
        assertEquals(Limits.NONE, LimitsBody.of(null));
        assertEquals(Limits.NONE, LimitsBody.of(new LimitsBody(null, null, null, null)));
    }

    @Test
    void aBadValueIsRefusedNamingItsField() {
        assertEquals("field 'limits.memory': '256X' is not a size like \"256M\" (K, M, G: powers of 1024) or a number"
                + " of bytes", refusal("256X", null, null, null));
        assertEquals("field 'limits.memory' must be more than 0, not 0", refusal(0, null, null, null));
        assertEquals("field 'limits.cpu' must be a number of cores like 0.5", refusal(null, "0.5", null, null));
        assertEquals("field 'limits.cpu': '0.0' must be more than 0 cores", refusal(null, 0.0, null, null));
        assertEquals("field 'limits.cpu': '5000.0' is more than 4096 cores", refusal(null, 5000, null, null));
        assertEquals("field 'limits.pids' must be a whole number of processes", refusal(null, null, 1.5, null));
        assertEquals("field 'limits.pids' must be more than 0, not -1", refusal(null, null, -1, null));
        assertEquals("field 'limits.output' must be a size like \"256M\" or a number of bytes",
                refusal(null, null, null, true));
    }

    private static String refusal(Object memory, Object cpu, Object pids, Object output) {
        return assertThrows(IllegalArgumentException.class, () -> new LimitsBody(memory, cpu, pids, output))
                .getMessage();
    }
}
