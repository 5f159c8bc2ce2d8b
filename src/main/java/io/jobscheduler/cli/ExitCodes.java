package io.jobscheduler.cli;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The exit status of {@code run} and {@code logs -f}: how the job ended, from its {@code /query}
 * answer. The table is in the README ("Command line"); the values follow the shell's and
 * sysexits.h's conventions (timeout(1)'s 124, the shell's 126 and 128+N, EX_UNAVAILABLE, EX_TEMPFAIL).
 */
final class ExitCodes {
    /** A usage error: picocli's own value for invalid input, and ours. */
    static final int USAGE = 2;
    /** A signal N ended the job: 128 + N, as a shell reports it. */
    static final int SIGNAL_BASE = 128;
    static final int TIMED_OUT = 124;
    static final int CLI_ERROR = 125;
    static final int CANNOT_START = 126;
    static final int LOST = 69;
    static final int STOPPED = 75;

    /** How the API's error_text starts for a job its timeout ended (issue 12). */
    private static final String TIMED_OUT_TEXT = "timed out";

    private ExitCodes() {
    }

    /**
     * The exit status for a job that is done, or {@link #CLI_ERROR} with the reason when the answer
     * does not tell how it ended (still running, or neither an exit code nor a signal).
     */
    static int of(JsonNode job) {
        String state = job.path("state").asText("");
        String errorText = job.path("error_text").asText("");
        switch (state) {
            case "LOST" -> {
                return LOST;
            }
            case "STOPPED" -> {
                return STOPPED;
            }
            case "SUCCEEDED", "FAILED" -> {
                // A timeout ends the job with a signal too: the timeout is what the user needs to know.
                if (errorText.startsWith(TIMED_OUT_TEXT)) {
                    return TIMED_OUT;
                }
                if (job.path("exit_code").isInt()) {
                    return job.get("exit_code").asInt();
                }
                if (job.path("signal").isInt()) {
                    return SIGNAL_BASE + job.get("signal").asInt();
                }
                throw new CliException("job " + job.path("job_id").asText() + " is " + state
                        + " with neither an exit code nor a signal" + (errorText.isEmpty() ? "" : ": " + errorText));
            }
            default -> throw new CliException("job " + job.path("job_id").asText() + " has not ended (state "
                    + (state.isEmpty() ? "missing" : state) + ")");
        }
    }
}
