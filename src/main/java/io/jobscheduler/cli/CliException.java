package io.jobscheduler.cli;

/**
 * An error of the client, the API or the connection: one line on stderr ("jobscheduler: " and the
 * message) and the exit status {@link #exitCode()} (125, or 126 when the job could not start).
 */
final class CliException extends RuntimeException {
    private final int exitCode;
    private final int httpStatus;

    CliException(int exitCode, int httpStatus, String message) {
        super(message, null, false, false);
        this.exitCode = exitCode;
        this.httpStatus = httpStatus;
    }

    CliException(String message) {
        this(ExitCodes.CLI_ERROR, 0, message);
    }

    int exitCode() {
        return exitCode;
    }

    /** The status of the API's answer this error reports; 0 when there was no answer. */
    int httpStatus() {
        return httpStatus;
    }
}
