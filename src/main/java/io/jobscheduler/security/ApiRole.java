package io.jobscheduler.security;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * What an API token may do, weakest first: a viewer reads, an operator also starts and stops
 * jobs, an admin also manages workers. Each role includes every weaker one.
 */
public enum ApiRole {
    VIEWER,
    OPERATOR,
    ADMIN;

    /** Whether a holder of this role may do what {@code needed} may do. */
    public boolean includes(ApiRole needed) {
        return compareTo(needed) >= 0;
    }

    /** The lower-case word used on the command line and in the tokens file. */
    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The role named by {@code word} (exact, lower case). */
    public static ApiRole parse(String word) {
        for (ApiRole role : values()) {
            if (role.word().equals(word)) {
                return role;
            }
        }
        throw new IllegalArgumentException("role must be " + words() + ", not \"" + word + "\"");
    }

    static String words() {
        return Arrays.stream(values()).map(ApiRole::word).collect(Collectors.joining("|"));
    }
}
