package io.jobscheduler.worker.job;

/**
 * A job could not be started; the message says why in the user's terms ("command not found:
 * foo (ENOENT)"). {@link #workerExhausted()} tells the worker's own condition (out of file
 * descriptors, memory or disk: try again later) from a command that cannot start at all.
 */
public final class SpawnException extends Exception {
    private final boolean workerExhausted;

    private SpawnException(String message, boolean workerExhausted) {
        super(message);
        this.workerExhausted = workerExhausted;
    }

    /** The command itself cannot start: not found, not executable, arguments too long. */
    static SpawnException command(String message) {
        return new SpawnException(message, false);
    }

    /**
     * A failure of {@code what} with {@code errno}: the worker's exhaustion when the error says so
     * ("the worker is out of file descriptors: cannot open ...: too many open files (EMFILE)"),
     * else the command's.
     */
    static SpawnException of(String what, int errno) {
        return Errno.of(errno).flatMap(Errno::exhausted)
                .map(resource -> exhausted(resource, what + ": " + Errno.describe(errno)))
                .orElseGet(() -> command(what + ": " + Errno.describe(errno)));
    }

    static SpawnException exhausted(String resource, String detail) {
        return new SpawnException("the worker is out of " + resource + ": " + detail, true);
    }

    public boolean workerExhausted() {
        return workerExhausted;
    }
}
