package io.jobscheduler.cli;

import java.io.PrintStream;
import java.util.Map;

/**
 * What a command runs with: the environment, stdout (bytes of job output and results), stderr
 * (errors, and progress only when {@code terminal}).
 */
record Context(Map<String, String> env, PrintStream out, PrintStream err, boolean terminal) {
    /** A progress line for a person watching; nothing when stderr goes to a file or a pipe. */
    void progress(String line) {
        if (terminal) {
            err.println("jobscheduler: " + line);
        }
    }
}
