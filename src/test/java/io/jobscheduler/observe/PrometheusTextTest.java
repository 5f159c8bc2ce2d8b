package io.jobscheduler.observe;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The test's Prometheus reader refuses what a strict scraper would. */
class PrometheusTextTest {
    private static final String GOOD = """
            # HELP x_total Things
            # TYPE x_total counter
            x_total{a="1",b="q\\"\\\\\\n",} 3.0
            # HELP h_seconds Durations
            # TYPE h_seconds histogram
            h_seconds_bucket{le="0.1"} 1
            h_seconds_bucket{le="+Inf"} 2
            h_seconds_count 2
            h_seconds_sum 0.5
            """;

    @Test
    void readsCountersHistogramsAndEscapedLabels() {
        PrometheusText text = PrometheusText.parse(GOOD);
        assertEquals(3.0, text.value("x_total", "x_total", Map.of("b", "q\"\\\n")));
        assertEquals(2.0, text.value("h_seconds", "h_seconds_count", Map.of()));
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "# TYPE x counter\n# HELP x Things\nx 1\n",                                      // a counter without _total
            "# TYPE x_total counter\nx_total 1\n",                                         // no HELP
            "# HELP x_total T\n# TYPE x_total counter\nx_total{a=1} 1\n",                   // unquoted value
            "# HELP x_total T\n# TYPE x_total counter\nx_total{1a=\"1\"} 1\n",              // bad label name
            "# HELP x_total T\n# TYPE x_total counter\ny_total 1\n",                        // outside its family
            "# HELP x_total T\n# TYPE x_total counter\nx_total 1\nx_total 2\n",             // a series twice
            "# HELP x_total T\n# TYPE x_total counter\nx_total one\n",                      // not a number
            "# HELP h T\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n", // not cumulative
            "# HELP h T\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_count 1\n",            // no +Inf
            "# HELP h T\n# TYPE h histogram\nh{quantile=\"0.5\"} 1\nh_count 1\n",           // a quantile in a histogram
            "# HELP x_total T\n# TYPE x_total counter\nx_total 1",                          // no final newline
    })
    void refusesWhatAStrictScraperWould(String text) {
        assertThrows(IllegalArgumentException.class, () -> PrometheusText.parse(text));
    }
}
