package io.jobscheduler.config;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Sizes as configuration writes them: {@code "100MB"}, {@code "512KB"}, {@code "1GB"},
 * {@code "4096B"}; {@code KB}, {@code MB}, {@code GB} are powers of 1000 and {@code KiB},
 * {@code MiB}, {@code GiB} powers of 1024.
 */
public final class Sizes {
    private static final Pattern FORM = Pattern.compile("(\\d{1,15})(B|KB|MB|GB|KiB|MiB|GiB)");

    private Sizes() {
    }

    /** The number of bytes {@code text} says. */
    public static long parse(String text) {
        Matcher m = FORM.matcher(text == null ? "" : text.trim());
        if (!m.matches()) {
            throw new IllegalArgumentException("'" + text + "' is not a size like \"100MB\", \"512KB\" or \"1GiB\"");
        }
        long amount = Long.parseLong(m.group(1));
        long unit = switch (m.group(2)) {
            case "B" -> 1;
            case "KB" -> 1000;
            case "MB" -> 1000_000;
            case "GB" -> 1000_000_000;
            case "KiB" -> 1L << 10;
            case "MiB" -> 1L << 20;
            default -> 1L << 30;
        };
        return Math.multiplyExact(amount, unit);
    }
}
