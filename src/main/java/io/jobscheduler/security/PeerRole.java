package io.jobscheduler.security;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * What a certificate's holder is in the cluster, as written in its URI SAN
 * {@code spiffe://jobscheduler/<role>/<name>}. Scheduler and worker both serve and call gRPC;
 * a client only calls.
 */
public enum PeerRole {
    SCHEDULER(true),
    WORKER(true),
    CLIENT(false);

    private final boolean serves;

    PeerRole(boolean serves) {
        this.serves = serves;
    }

    /** Whether certificates of this role may authenticate a TLS server (extended key usage serverAuth). */
    public boolean serves() {
        return serves;
    }

    /** The lower-case word used on the command line and in the URI SAN. */
    public String word() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The role named by {@code word} (exact, lower case). */
    public static PeerRole parse(String word) {
        for (PeerRole role : values()) {
            if (role.word().equals(word)) {
                return role;
            }
        }
        throw new IllegalArgumentException("role must be " + words() + ", not \"" + word + "\"");
    }

    static String words() {
        return Arrays.stream(values()).map(PeerRole::word).collect(Collectors.joining("|"));
    }
}
