package io.jobscheduler;

import java.net.BindException;
import java.util.logging.Filter;
import java.util.logging.LogRecord;

/**
 * Keeps Helidon's report of a listener that could not bind out of the console: Helidon's
 * {@code LoomServer} logs it at SEVERE with some 30 lines of stack trace, then "failed to start,
 * shutting down", while the server's start reports the same failure as one line naming the
 * setting, which {@link Main} prints. Every other record passes, including a listener failing
 * for any other reason. Installed on the console handler by {@code logging.properties}.
 */
public final class StartFailureLogFilter implements Filter {
    static final String HELIDON_SERVER_LOGGER = "io.helidon.webserver.LoomServer";

    @Override
    public boolean isLoggable(LogRecord record) {
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
