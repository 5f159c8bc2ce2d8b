package io.jobscheduler;

import java.io.UncheckedIOException;
import java.net.BindException;
import java.util.concurrent.ExecutionException;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StartFailureLogFilterTest {
    private final StartFailureLogFilter filter = new StartFailureLogFilter();

    private static LogRecord record(String logger, String message, Throwable thrown) {
        LogRecord record = new LogRecord(Level.SEVERE, message);
        record.setLoggerName(logger);
        record.setThrown(thrown);
        return record;
    }

    @Test
    void helidonsReportOfAListenerThatCannotBindIsKeptOff() {
        // As Helidon 4.5.0's LoomServer logs it: the bind error three causes deep.
        var thrown = new ExecutionException(new UncheckedIOException("Failed to start server",
                new BindException("Address already in use")));
        assertFalse(filter.isLoggable(record(StartFailureLogFilter.HELIDON_SERVER_LOGGER,
                "Failed to start listener: /127.0.0.1:30000", thrown)));
        assertFalse(filter.isLoggable(record(StartFailureLogFilter.HELIDON_SERVER_LOGGER,
                "Helidon WebServer failed to start, shutting down", null)));
    }

    @Test
    void everyOtherRecordPasses() {
        var tlsFailure = new ExecutionException(new IllegalStateException("bad key"));
        assertTrue(filter.isLoggable(record(StartFailureLogFilter.HELIDON_SERVER_LOGGER,
                "Failed to start listener: /127.0.0.1:30000", tlsFailure)));
        assertTrue(filter.isLoggable(record(StartFailureLogFilter.HELIDON_SERVER_LOGGER, "Started all channels", null)));
        assertTrue(filter.isLoggable(record("io.jobscheduler.worker.WorkerServer", "Failed to start",
                new BindException("Address already in use"))));
    }
}
