package io.jobscheduler.cli;

/**
 * An error of the client, the API or the connection: one line on stderr ("jobscheduler: " and the
 * message) and the exit status {@link #exitCode()} (125, or 126 when the job could not start).
 */
final class CliException extends RuntimeException {
    private final int exitCode;

    CliException(int exitCode, String message) {
        super(message, null, false, false);
        this.exitCode = exitCode;
    }

    CliException(String message) {
        this(ExitCodes.CLI_ERROR, message);
    }

    int exitCode() {
        return exitCode;
    }
}
