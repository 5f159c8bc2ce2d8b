package io.jobscheduler.scheduler;

/** The scheduler could not start serving; the message is one line naming the setting and the cause. */
public final class ServerStartException extends RuntimeException {
    public ServerStartException(String message, Throwable cause) {
        super(message, cause);
    }
}
