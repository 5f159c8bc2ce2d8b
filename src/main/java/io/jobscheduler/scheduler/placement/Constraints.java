package io.jobscheduler.scheduler.placement;

import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Where a job may run: label name → value a worker's {@code [labels]} must have, or
 * {@code "!value"} for a value it must not have (a worker without the label satisfies that).
 */
public record Constraints(Map<String, String> byLabel) {
    public static final Constraints NONE = new Constraints(Map.of());

    public Constraints {
        byLabel = Map.copyOf(byLabel);
    }

    public boolean satisfiedBy(Map<String, String> labels) {
        return firstUnmet(labels).isEmpty();
    }

    /** The first constraint (in name order) these labels do not meet, as {@code name=value}. */
    public Optional<String> firstUnmet(Map<String, String> labels) {
        for (var c : new TreeMap<>(byLabel).entrySet()) {
            if (!met(c.getValue(), labels.get(c.getKey()))) {
                return Optional.of(c.getKey() + "=" + c.getValue());
            }
        }
        return Optional.empty();
    }

    /** One constraint ({@code name=value}) no worker among {@code all} meets, if any. */
    public Optional<String> unmetByAll(Iterable<Map<String, String>> all) {
        for (var c : new TreeMap<>(byLabel).entrySet()) {
            boolean someone = false;
            for (Map<String, String> labels : all) {
                someone |= met(c.getValue(), labels.get(c.getKey()));
            }
            if (!someone) {
                return Optional.of(c.getKey() + "=" + c.getValue());
            }
        }
        return Optional.empty();
    }

    private static boolean met(String wanted, String actual) {
        return wanted.startsWith("!") ? !wanted.substring(1).equals(actual) : wanted.equals(actual);
    }
}
