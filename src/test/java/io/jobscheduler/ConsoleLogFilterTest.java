package io.jobscheduler;

import java.io.UncheckedIOException;
import java.net.BindException;
import java.util.concurrent.ExecutionException;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConsoleLogFilterTest {
    private final ConsoleLogFilter filter = new ConsoleLogFilter();

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
        assertFalse(filter.isLoggable(record(ConsoleLogFilter.HELIDON_SERVER_LOGGER,
                "Failed to start listener: /127.0.0.1:30000", thrown)));
        assertFalse(filter.isLoggable(record(ConsoleLogFilter.HELIDON_SERVER_LOGGER,
                "Helidon WebServer failed to start, shutting down", null)));
    }

    @Test
    void helidonsReportOfAMalformedLaterRequestLineIsKeptOff() {
        // As Helidon 4.5.0's Http1Connection logs it: Method.create's refusal, thrown from its prologue.
        var refusal = new IllegalArgumentException("Token contains illegal character at position 1");
        refusal.setStackTrace(new StackTraceElement[] {
                new StackTraceElement("io.helidon.http.HttpToken", "validate", "HttpToken.java", 52),
                new StackTraceElement("io.helidon.webserver.http1.Http1Prologue", "readMethod", "Http1Prologue.java", 136)});
        assertFalse(filter.isLoggable(record(ConsoleLogFilter.HELIDON_HTTP1_LOGGER, "Internal server error",
                new RuntimeException("Internal error", refusal))));
        assertTrue(filter.isLoggable(record(ConsoleLogFilter.HELIDON_HTTP1_LOGGER, "Internal server error",
                new IllegalArgumentException("from a handler"))));
    }

    @Test
    void everyOtherRecordPasses() {
        var tlsFailure = new ExecutionException(new IllegalStateException("bad key"));
        assertTrue(filter.isLoggable(record(ConsoleLogFilter.HELIDON_SERVER_LOGGER,
                "Failed to start listener: /127.0.0.1:30000", tlsFailure)));
        assertTrue(filter.isLoggable(record(ConsoleLogFilter.HELIDON_SERVER_LOGGER, "Started all channels", null)));
        assertTrue(filter.isLoggable(record("io.jobscheduler.worker.WorkerServer", "Failed to start",
                new BindException("Address already in use"))));
    }
}
