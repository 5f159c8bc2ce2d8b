package io.jobscheduler.security;

import java.util.regex.Pattern;

/**
 * The names of certificate holders and tokens: each becomes a file name ({@code NAME.pem}) or a
 * segment of the URI SAN, so only letters, digits, '.', '_' and '-' are allowed, starting with
 * a letter or digit (no "..", no hidden files, nothing to escape in a URI or in TOML).
 */
final class Names {
    private static final Pattern SAFE = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,63}");

    private Names() {
    }

    static boolean isSafe(String name) {
        return SAFE.matcher(name).matches();
    }

    /** {@code name} itself, or an error saying what a name may contain. */
    static String requireSafe(String name) {
        if (!isSafe(name)) {
            throw new IllegalArgumentException(unsafe(name));
        }
        return name;
    }

    /** What is wrong with an unsafe {@code name}. */
    static String unsafe(String name) {
        return "name \"" + printable(name) + "\": use 1 to 64 letters, digits, '.', '_' or '-',"
                + " starting with a letter or digit";
    }

    /** {@code text} with control characters shown as '?', so an error stays on one line. */
    static String printable(String text) {
        return text.codePoints().map(c -> Character.isISOControl(c) ? '?' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append).toString();
    }
}
