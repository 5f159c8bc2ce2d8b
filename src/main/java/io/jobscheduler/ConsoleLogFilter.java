package io.jobscheduler;

import io.jobscheduler.scheduler.http.MalformedPrologue;
import java.net.BindException;
import java.util.logging.Filter;
import java.util.logging.LogRecord;

/**
 * Keeps two of Helidon's reports out of the console; every other record passes.
 *
 * <p>A malformed request line on a kept-alive connection: Helidon logs it as an internal server
 * error with a stack trace ({@link MalformedPrologue}); a hostile client could otherwise fill the
 * log with them.
 *
 * <p>A listener that could not bind: Helidon's
 * {@code LoomServer} logs it at SEVERE with some 30 lines of stack trace, then "failed to start,
 * shutting down", while the server's start reports the same failure as one line naming the
 * setting, which {@link Main} prints. Every other record passes, including a listener failing
 * for any other reason. Installed on the console handler by {@code logging.properties}.
 */
public final class ConsoleLogFilter implements Filter {
    static final String HELIDON_SERVER_LOGGER = "io.helidon.webserver.LoomServer";
    static final String HELIDON_HTTP1_LOGGER = "io.helidon.webserver.http1.Http1Connection";

    @Override
    public boolean isLoggable(LogRecord record) {
        if (HELIDON_HTTP1_LOGGER.equals(record.getLoggerName())) {
            return !MalformedPrologue.is(record.getThrown());
        }
        if (!HELIDON_SERVER_LOGGER.equals(record.getLoggerName())) {
            return true;
        }
        String message = record.getMessage() == null ? "" : record.getMessage();
        if (message.startsWith("Helidon WebServer failed to start")) {
            return false;  // the summary of a failure already reported, by Helidon or by us
        }
        for (Throwable cause = record.getThrown(); cause != null; cause = cause.getCause()) {
            if (cause instanceof BindException) {
                return false;
            }
        }
        return true;
    }
}
