package io.jobscheduler.config;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.jobscheduler.config.ConfigKey.Kind.BYTES;
import static io.jobscheduler.config.ConfigKey.Kind.CORES;
import static io.jobscheduler.config.ConfigKey.Kind.INTEGER;

/**
 * The limits of a job, each optional, in the units of the wire ({@code JobLimits}): memory in bytes, CPU in
 * thousandths of a core, the number of processes (and threads) alive at once, and the bytes of output kept.
 * One form for {@code POST /start}'s {@code limits}, {@code [jobs] default_limits} and {@code max_limits}.
 */
public record Limits(OptionalLong memoryBytes, OptionalLong cpuMillis, OptionalLong pids, OptionalLong outputBytes) {
    public static final Limits NONE =
            new Limits(OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty(), OptionalLong.empty());
    /** The names of the limits, as requests, configuration and refusals write them. */
    public static final List<String> NAMES = List.of("memory", "cpu", "pids", "output");

    private static final Pattern SIZE = Pattern.compile("(\\d{1,19})([KMG]?)");
    private static final Pattern CORES_FORM = Pattern.compile("\\d{1,6}(\\.\\d+)?");

    public Limits {
        positive("memory", memoryBytes);
        positive("cpu", cpuMillis);
        positive("pids", pids);
        positive("output", outputBytes);
        if (cpuMillis.isPresent() && cpuMillis.getAsLong() > MAX_CPU_MILLIS) {
            throw new IllegalArgumentException("cpu limit must be at most " + MAX_CPU_MILLIS / 1000 + " cores, not "
                    + describe("cpu", cpuMillis.getAsLong()));
        }
    }

    /** The most cores a cgroup quota is written for. */
    private static final long MAX_CPU_MILLIS = 4096_000;

    private static void positive(String name, OptionalLong value) {
        if (value.isPresent() && value.getAsLong() <= 0) {
            throw new IllegalArgumentException(name + " limit must be more than 0, not " + value.getAsLong());
        }
    }

    public boolean isEmpty() {
        return equals(NONE);
    }

    /** Each limit of this one, else the one of {@code defaults}. */
    public Limits orElse(Limits defaults) {
        return new Limits(or(memoryBytes, defaults.memoryBytes), or(cpuMillis, defaults.cpuMillis),
                or(pids, defaults.pids), or(outputBytes, defaults.outputBytes));
    }

    private static OptionalLong or(OptionalLong value, OptionalLong fallback) {
        return value.isPresent() ? value : fallback;
    }

    /** The value of the limit named {@code name} (one of {@link #NAMES}). */
    public OptionalLong get(String name) {
        return switch (name) {
            case "memory" -> memoryBytes;
            case "cpu" -> cpuMillis;
            case "pids" -> pids;
            case "output" -> outputBytes;
            default -> throw new IllegalArgumentException("no limit is named " + name);
        };
    }

    /** The names of the limits set, in {@link #NAMES} order. */
    public List<String> names() {
        List<String> set = new ArrayList<>();
        for (String name : NAMES) {
            if (get(name).isPresent()) {
                set.add(name);
            }
        }
        return set;
    }

    /**
     * The first limit of this one above its maximum in {@code max}, as "memory: 512 MiB is more than the
     * maximum of 256 MiB"; a maximum is never a reason to lower a limit silently.
     */
    public Optional<String> firstAbove(Limits max) {
        for (String name : NAMES) {
            OptionalLong value = get(name);
            OptionalLong bound = max.get(name);
            if (value.isPresent() && bound.isPresent() && value.getAsLong() > bound.getAsLong()) {
                return Optional.of(name + ": " + describe(name, value.getAsLong()) + " is more than the maximum of "
                        + describe(name, bound.getAsLong()));
            }
        }
        return Optional.empty();
    }

    /** A limit's value in words: "256 MiB", "0.5 cores", "10". */
    public static String describe(String name, long value) {
        return switch (name) {
            case "memory", "output" -> describeBytes(value);
            case "cpu" -> BigDecimal.valueOf(value, 3).stripTrailingZeros().toPlainString() + " cores";
            default -> Long.toString(value);
        };
    }

    /** Bytes in the largest binary unit that divides them exactly: "256 MiB", "1536 KiB", "1000 bytes". */
    public static String describeBytes(long bytes) {
        String[] units = {"GiB", "MiB", "KiB"};
        long[] sizes = {1L << 30, 1L << 20, 1L << 10};
        for (int i = 0; i < units.length; i++) {
            if (bytes % sizes[i] == 0) {
                return bytes / sizes[i] + " " + units[i];
            }
        }
        return bytes + " bytes";
    }

    /** {@code "256M"} as bytes: K, M and G are powers of 1024; a plain number is bytes. More than 0. */
    public static long parseBytes(String text) {
        Matcher m = SIZE.matcher(text == null ? "" : text);
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a size like \"256M\" (K, M, G: powers of 1024)"
                    + " or a number of bytes");
        }
        int shift = switch (m.group(2)) {
            case "K" -> 10;
            case "M" -> 20;
            case "G" -> 30;
            default -> 0;
        };
        long amount;
        try {
            amount = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            amount = Long.MAX_VALUE;
        }
        if (amount > (Long.MAX_VALUE >> shift)) {
            throw new IllegalArgumentException("'" + text + "' is too large");
        }
        if (amount == 0) {
            throw new IllegalArgumentException("'" + text + "' must be more than 0");
        }
        return amount << shift;
    }

    /** {@code "0.5"} cores as thousandths of a core (500); at least 0.001, at most 4096 cores. */
    public static long parseCpuMillis(String text) {
        if (text == null || !CORES_FORM.matcher(text).matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a number of cores like 0.5");
        }
        return cpuMillis(new BigDecimal(text), text);
    }

    /** A JSON number of cores as thousandths of a core. */
    public static long cpuMillis(double cores) {
        if (!Double.isFinite(cores)) {
            throw new IllegalArgumentException("'" + cores + "' is not a number of cores like 0.5");
        }
        return cpuMillis(BigDecimal.valueOf(cores), Double.toString(cores));
    }

    private static long cpuMillis(BigDecimal cores, String text) {
        if (cores.signum() <= 0) {
            throw new IllegalArgumentException("'" + text + "' must be more than 0 cores");
        }
        if (cores.compareTo(BigDecimal.valueOf(MAX_CPU_MILLIS / 1000)) > 0) {
            throw new IllegalArgumentException("'" + text + "' is more than " + MAX_CPU_MILLIS / 1000 + " cores");
        }
        BigDecimal millis = cores.movePointRight(3);
        if (millis.compareTo(BigDecimal.ONE) < 0) {
            throw new IllegalArgumentException("'" + text + "' is less than 0.001 cores");
        }
        return millis.setScale(0, RoundingMode.HALF_UP).longValueExact();
    }

    /** The keys of a limits table, such as {@code [jobs.max_limits]}. */
    static List<ConfigKey> keys(String section) {
        return List.of(
                new ConfigKey(section, "memory", BYTES, null),
                new ConfigKey(section, "cpu", CORES, null),
                new ConfigKey(section, "pids", INTEGER, null),
                new ConfigKey(section, "output", BYTES, null));
    }

    /** The limits a loaded table sets; {@code where} names it in errors ("jobs.max_limits"). */
    static Limits from(Settings table, String where) {
        OptionalLong pids = optional(table, "pids", Long::parseLong);
        if (pids.isPresent() && pids.getAsLong() == 0) {
            throw new ConfigException(where + ".pids: must be more than 0");
        }
        return new Limits(optional(table, "memory", Limits::parseBytes), optional(table, "cpu", Limits::parseCpuMillis),
                pids, optional(table, "output", Limits::parseBytes));
    }

    private static OptionalLong optional(Settings table, String key, java.util.function.ToLongFunction<String> parse) {
        String text = table.string(key);
        return text.isEmpty() ? OptionalLong.empty() : OptionalLong.of(parse.applyAsLong(text));
    }
}
