package io.jobscheduler.scheduler.http;

/**
 * Recognises Helidon 4.5.0's failure to parse a request line it reads itself (a request after
 * the first on a kept-alive connection, which {@link io.jobscheduler.http.RequestGuard} does not see): a method such
 * as {@code G@T} fails {@code HttpToken.validate} with an {@link IllegalArgumentException}, which
 * Helidon reports as an internal error (500, with a logged stack trace) although the client sent
 * a malformed request. Helidon gives a direct handler only the message, so the answer stays a
 * 500; the log record carries the cause, which {@code ConsoleLogFilter} uses to keep it off the
 * console (docs/helidon-notes.md, "HTTP/1 request heads").
 */
public final class MalformedPrologue {
    private MalformedPrologue() {
    }

    /** Whether {@code thrown} (or a cause) is Helidon rejecting a token of the request line. */
    public static boolean is(Throwable thrown) {
        for (Throwable cause = thrown; cause != null; cause = cause.getCause()) {
            if (cause instanceof IllegalArgumentException) {
                for (StackTraceElement frame : cause.getStackTrace()) {
                    if (frame.getClassName().equals("io.helidon.webserver.http1.Http1Prologue")) {
                        return true;
                    }
                }
            }
        }
        return false;
    }
}
