package io.jobscheduler.config;

/**
 * One setting a component accepts: {@code [section] name}, its kind, its built-in default
 * ({@code null}: no default, derived later from other settings) and the command-line flag that
 * overrides it ({@code null}: none).
 */
public record ConfigKey(String section, String name, Kind kind, String defaultValue, String flag) {

    public ConfigKey(String section, String name, Kind kind, String defaultValue) {
        this(section, name, kind, defaultValue, null);
    }

    /** The same setting overridden by another flag ({@code null}: none), as one command names it. */
    public ConfigKey withFlag(String otherFlag) {
        return new ConfigKey(section, name, kind, defaultValue, otherFlag);
    }

    /** How a value is written and checked. */
    public enum Kind {
        STRING, BOOLEAN, INTEGER, DURATION, LISTEN_ADDRESS, ADDRESS,
        /** A file or folder; a relative path in a file resolves against that file's folder. */
        PATH,
        /**
         * A list of names: an array of strings in a file, comma-separated text in the environment
         * and as a default; no element is empty or holds a comma.
         */
        STRING_LIST,
        /** A size in bytes: {@code "256M"} (K, M, G are powers of 1024) or a plain number of bytes. */
        BYTES,
        /** A number of CPU cores, such as {@code 0.5}. */
        CORES
    }

    /** The dotted key Helidon Config knows it by, e.g. {@code http_server.addr}. */
    public String path() {
        return section + "." + name;
    }

    /** The environment variable that overrides it, e.g. {@code JOBSCHEDULER_HTTP_SERVER_ADDR}. */
    public String envName() {
        return "JOBSCHEDULER_" + (section + "_" + name).replace('.', '_').toUpperCase(java.util.Locale.ROOT);
    }

    /** Checks a value written as text (environment, flags, defaults); throws with the reason. */
    void check(String value) {
        switch (kind) {
            case BOOLEAN -> {
                if (!value.equals("true") && !value.equals("false")) {
                    throw new IllegalArgumentException("'" + value + "' is not true or false");
                }
            }
            case INTEGER -> {
                try {
                    if (Long.parseLong(value) < 0) {
                        throw new IllegalArgumentException("'" + value + "' is negative");
                    }
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("'" + value + "' is not an integer");
                }
            }
            case DURATION -> Durations.parse(value);
            case LISTEN_ADDRESS -> Address.parse(value, true);
            case ADDRESS -> Address.parse(value, false);
            case STRING_LIST -> {
                if (!value.isEmpty() && java.util.Arrays.asList(value.split(",", -1)).contains("")) {
                    throw new IllegalArgumentException("'" + value + "' has an empty element");
                }
            }
            case BYTES -> Limits.parseBytes(value);
            case CORES -> Limits.parseCpuMillis(value);
            case STRING, PATH -> {
            }
        }
    }
}
