package io.jobscheduler.scheduler.http;

import io.jobscheduler.config.Limits;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.OptionalLong;

/**
 * {@code POST /start}'s {@code limits}: {@code memory} and {@code output} as sizes ({@code "256M"}, K, M, G
 * powers of 1024, or a number of bytes), {@code cpu} in cores ({@code 0.5}), {@code pids} a count. Each is
 * optional; a value of the wrong form is 400 naming the field (the worker judges it against its maximums).
 */
public record LimitsBody(Object memory, Object cpu, Object pids, Object output) {
    public LimitsBody {
        limits(memory, cpu, pids, output);
    }

    /** The limits asked for; none when the body has no {@code limits}. */
    static Limits of(LimitsBody body) {
        return body == null ? Limits.NONE : limits(body.memory, body.cpu, body.pids, body.output);
    }

    private static Limits limits(Object memory, Object cpu, Object pids, Object output) {
        return new Limits(size("memory", memory), cores(cpu), count(pids), size("output", output));
    }

    private static OptionalLong size(String name, Object value) {
        return switch (value) {
            case null -> OptionalLong.empty();
            case String text -> OptionalLong.of(parsed(name, () -> Limits.parseBytes(text)));
            case Integer n -> positive(name, n.longValue());
            case Long n -> positive(name, n);
            default -> throw new IllegalArgumentException(field(name) + " must be a size like \"256M\" or a number"
                    + " of bytes");
        };
    }

    private static OptionalLong cores(Object value) {
        return switch (value) {
            case null -> OptionalLong.empty();
            case Integer n -> OptionalLong.of(parsed("cpu", () -> Limits.cpuMillis(n)));
            case Long n -> OptionalLong.of(parsed("cpu", () -> Limits.cpuMillis(n)));
            case Double n -> OptionalLong.of(parsed("cpu", () -> Limits.cpuMillis(n)));
            case BigDecimal n -> OptionalLong.of(parsed("cpu", () -> Limits.cpuMillis(n.doubleValue())));
            case BigInteger n -> throw new IllegalArgumentException(field("cpu") + " is too large");
            default -> throw new IllegalArgumentException(field("cpu") + " must be a number of cores like 0.5");
        };
    }

    private static OptionalLong count(Object value) {
        return switch (value) {
            case null -> OptionalLong.empty();
            case Integer n -> positive("pids", n.longValue());
            case Long n -> positive("pids", n);
            default -> throw new IllegalArgumentException(field("pids") + " must be a whole number of processes");
        };
    }

    private static OptionalLong positive(String name, long value) {
        if (value <= 0) {
            throw new IllegalArgumentException(field(name) + " must be more than 0, not " + value);
        }
        return OptionalLong.of(value);
    }

    private static long parsed(String name, java.util.function.LongSupplier parse) {
        try {
            return parse.getAsLong();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(field(name) + ": " + e.getMessage(), e);
        }
    }

    private static String field(String name) {
        return "field 'limits." + name + "'";
    }
}
