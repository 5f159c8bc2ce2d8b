package io.jobscheduler.config;

import io.helidon.config.Config;
import java.time.Duration;

/** Typed reads of one already-validated section of a loaded {@link Config}. */
record Settings(Config section) {
    static Settings of(Config root, String name) {
        return new Settings(root.get(name));
    }

    /** A table inside this section, such as {@code jobs.max_limits}. */
    Settings table(String key) {
        return new Settings(section.get(key));
    }

    String string(String key) {
        return section.get(key).asString().orElse("");
    }

    boolean bool(String key) {
        return Boolean.parseBoolean(string(key));
    }

    long integer(String key) {
        return Long.parseLong(string(key));
    }

    Duration duration(String key) {
        return Durations.parse(string(key));
    }

    /** A {@link ConfigKey.Kind#STRING_LIST}'s elements; empty when unset. */
    java.util.List<String> list(String key) {
        String text = string(key);
        return text.isEmpty() ? java.util.List.of() : java.util.List.of(text.split(","));
    }

    Address address(String key) {
        return Address.parse(string(key), true);
    }
}
