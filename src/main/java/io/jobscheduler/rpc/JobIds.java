package io.jobscheduler.rpc;

/**
 * What a job id may be on the wire and in the HTTP API: ids are made by workers (UUIDs), and an id
 * that cannot be one of them is refused before any lookup, by the scheduler and the worker alike.
 */
public final class JobIds {
    /** The longest job id either side accepts. */
    public static final int MAX_LENGTH = 128;

    private JobIds() {
    }

    /** True for an id of 1 to {@link #MAX_LENGTH} characters. */
    public static boolean plausible(String id) {
        return id != null && !id.isEmpty() && id.length() <= MAX_LENGTH;
    }
}
