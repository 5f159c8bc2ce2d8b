package io.jobscheduler.config;

import io.helidon.config.Config;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * What a worker tells the scheduler about itself for placement: how many jobs it runs at once
 * ({@code [jobs] max_running}, 0 = unlimited) and its {@code [labels]} (name → value), which
 * jobs' constraints match against.
 */
public record WorkerCapacity(int maxRunning, Map<String, String> labels) {
    /** A label's name: no dots (the configuration's path separator), so it reads back as written. */
    static final Pattern LABEL_NAME = Pattern.compile("[A-Za-z0-9_-]{1,63}");
    static final int MAX_LABEL_VALUE = 256;

    public static final WorkerCapacity UNLIMITED = new WorkerCapacity(0, Map.of());

    public WorkerCapacity {
        if (maxRunning < 0) {
            throw new IllegalArgumentException("max_running must not be negative");
        }
        labels = Map.copyOf(labels);
    }

    static WorkerCapacity from(Config root, Settings jobs) {
        long maxRunning = jobs.integer("max_running");
        if (maxRunning > Integer.MAX_VALUE) {
            throw new ConfigException("jobs.max_running: at most " + Integer.MAX_VALUE + ", was " + maxRunning);
        }
        Map<String, String> labels = new TreeMap<>();
        for (Config label : root.get("labels").asNodeList().orElse(java.util.List.of())) {
            String name = label.name();
            String value = label.asString().orElse("");
            if (!LABEL_NAME.matcher(name).matches()) {
                throw new ConfigException("labels." + name + ": a label name is 1-63 of A-Z a-z 0-9 _ -");
            }
            if (value.isEmpty() || value.length() > MAX_LABEL_VALUE || value.startsWith("!")) {
                throw new ConfigException("labels." + name + ": a value is 1-" + MAX_LABEL_VALUE
                        + " characters and does not start with '!' (that means \"not\" in a constraint)");
            }
            labels.put(name, value);
        }
        return new WorkerCapacity((int) maxRunning, labels);
    }
}
