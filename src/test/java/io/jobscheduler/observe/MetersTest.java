package io.jobscheduler.observe;

import io.helidon.metrics.api.Gauge;
import java.util.Optional;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Gauges in the process's one registry: the newest server's reads, and a closed server removes only its own. */
class MetersTest {
    private final Meters meters = Meters.ofProcess();

    @Test
    void aLaterGaugeReplacesAnEarlierOneAndRemovingTheEarlierLeavesIt() {
        Gauge<Double> older = meters.gauge("jobscheduler_test_gauge", "A test's gauge", () -> 1, "side", "a");
        Gauge<Double> newer = meters.gauge("jobscheduler_test_gauge", "A test's gauge", () -> 2, "side", "a");
        assertEquals(Optional.of(2.0), meters.gaugeValue("jobscheduler_test_gauge", "side", "a"));

        meters.remove(older);
        assertEquals(Optional.of(2.0), meters.gaugeValue("jobscheduler_test_gauge", "side", "a"));

        meters.remove(newer);
        assertEquals(Optional.empty(), meters.gaugeValue("jobscheduler_test_gauge", "side", "a"));
    }
}
