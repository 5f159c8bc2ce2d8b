package io.jobscheduler.observe;

import io.helidon.metrics.api.Counter;
import io.helidon.metrics.api.Gauge;
import io.helidon.metrics.api.Meter;
import io.helidon.metrics.api.MeterRegistry;
import io.helidon.metrics.api.MetricsConfig;
import io.helidon.metrics.api.MetricsFactory;
import io.helidon.metrics.api.Tag;
import io.helidon.metrics.api.Timer;
import io.helidon.service.registry.Services;
import io.helidon.webserver.observe.metrics.MetricsObserver;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The meters of one process, as Prometheus will name them: a counter {@code x} is served as
 * {@code x_total}, a timer {@code x} as the histogram {@code x_seconds} with {@link #SECONDS}
 * buckets, a meter with base unit {@code bytes} ends in {@code _bytes}. Every meter has a help
 * text (the {@code # HELP} line).
 *
 * <p>Helidon 4.5.0's Micrometer provider keeps every meter in Micrometer's one static
 * {@code Metrics.globalRegistry}, whatever registry object it hands out
 * (docs/helidon-notes.md, "Metrics"): there is one registry per JVM, which {@link #ofProcess()}
 * takes, and nothing else here reaches for it. The classes that count receive their meters
 * through their constructors.
 */
public final class Meters {
    /**
     * Histogram buckets for durations, in seconds: from a millisecond (a start or a request on
     * loopback) to ten seconds (a start that waited for a slow disk or a full worker).
     */
    public static final List<Duration> SECONDS = List.of(
            Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10),
            Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
            Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5),
            Duration.ofSeconds(10));

    private final MeterRegistry registry;
    private final MetricsConfig config;

    private Meters(MeterRegistry registry, MetricsConfig config) {
        this.registry = registry;
        this.config = config;
    }

    /**
     * The process's meters, with the JVM meters Helidon adds ({@code memory_*}, {@code thread_*},
     * {@code gc_*}, {@code cpu_*}, {@code classloader_*}, {@code jvm_uptime_seconds}) and the
     * process meters Micrometer (which Helidon brings) has and Helidon does not add:
     * {@code process_cpu_usage}, {@code system_cpu_usage}, {@code process_files_open_files},
     * {@code process_files_max_files}, {@code process_start_time_seconds}. Every call answers the
     * same registry.
     */
    public static Meters ofProcess() {
        MetricsConfig config = MetricsConfig.create();
        MeterRegistry registry = Services.get(MetricsFactory.class).globalRegistry(config);
        io.micrometer.core.instrument.MeterRegistry micrometer =
                registry.unwrap(io.micrometer.core.instrument.MeterRegistry.class);
        // Once per JVM (dev runs two servers): Micrometer warns of a gauge bound twice.
        if (micrometer.find("process.cpu.usage").gauge() == null) {
            new ProcessorMetrics().bindTo(micrometer);
            new FileDescriptorMetrics().bindTo(micrometer);
            new UptimeMetrics().bindTo(micrometer);
        }
        return new Meters(registry, config);
    }

    /** A counter; {@code tags} are name, value pairs. */
    public Counter counter(String name, String help, String... tags) {
        return registry.getOrCreate(Counter.builder(name).description(help).tags(tags(tags)));
    }

    /** A counter of bytes ({@code name} ends in {@code _bytes}). */
    public Counter byteCounter(String name, String help, String... tags) {
        return registry.getOrCreate(Counter.builder(name).description(help).baseUnit("bytes").tags(tags(tags)));
    }

    /** A histogram of durations in seconds ({@code name} without the {@code _seconds}, which Prometheus adds). */
    public Timer timer(String name, String help, String... tags) {
        return registry.getOrCreate(Timer.builder(name).description(help).tags(tags(tags))
                // Helidon adds six quantiles by default, which a Prometheus histogram must not carry.
                .percentiles(new double[0])
                .buckets(SECONDS.toArray(Duration[]::new)));
    }

    /**
     * A gauge read at every scrape; {@code value} must be cheap and must not block. The registry
     * is the process's, and a gauge reads one server's state: this one replaces a gauge of the
     * same name and tags registered before (by a server closed, or older in this JVM), and whoever
     * registers it {@link #remove}s it when its server closes.
     */
    public Gauge<Double> gauge(String name, String help, Supplier<? extends Number> value, String... tags) {
        return replace(Gauge.builder(name, () -> value.get().doubleValue()).description(help).tags(tags(tags)));
    }

    /** A gauge of bytes ({@code name} ends in {@code _bytes}), as {@link #gauge}. */
    public Gauge<Double> byteGauge(String name, String help, Supplier<? extends Number> value) {
        return replace(Gauge.builder(name, () -> value.get().doubleValue()).description(help).baseUnit("bytes"));
    }

    private Gauge<Double> replace(Gauge.Builder<Double> gauge) {
        registry.meter(Gauge.class, gauge.name(), tagsOf(gauge)).ifPresent(registry::remove);
        return registry.getOrCreate(gauge);
    }

    /** Removes {@code gauge} if it is still the one registered under its name and tags (not a later server's). */
    public void remove(Gauge<Double> gauge) {
        registry.meter(Gauge.class, gauge.id().name(), gauge.id().tags())
                .filter(current -> current == gauge)
                .ifPresent(registry::remove);
    }

    /** The value of the gauge registered under {@code name} and {@code tags}, if any (for tests). */
    public java.util.Optional<Double> gaugeValue(String name, String... tags) {
        return registry.meter(Gauge.class, name, tags(tags)).map(g -> g.value().doubleValue());
    }

    private static List<Tag> tagsOf(Gauge.Builder<Double> gauge) {
        return gauge.tags().entrySet().stream().map(e -> Tag.create(e.getKey(), e.getValue())).toList();
    }

    /** Serves these meters on {@code /observe/metrics} (Prometheus text unless JSON is asked for). */
    public MetricsObserver observer() {
        return MetricsObserver.builder().meterRegistry(registry).metricsConfig(config).build();
    }

    private static List<Tag> tags(String... pairs) {
        if (pairs.length % 2 != 0) {
            throw new IllegalArgumentException("tags are name, value pairs: " + Arrays.toString(pairs));
        }
        Tag[] tags = new Tag[pairs.length / 2];
        for (int i = 0; i < tags.length; i++) {
            tags[i] = Tag.create(pairs[2 * i], Objects.requireNonNull(pairs[2 * i + 1], pairs[2 * i]));
        }
        return List.of(tags);
    }
}
