package io.jobscheduler.security;

import java.io.PrintStream;
import java.util.Arrays;
import java.util.List;

/**
 * The command-line entry of {@code certs …} and {@code token …}. Exit status 0 on success, 2 for
 * a command line that cannot be run (with the usage), 1 when it ran and failed (a file that
 * exists, cannot be read or written, a duplicate token name); every error is one line.
 */
public final class SecurityCommands {
    private SecurityCommands() {
    }

    /** Whether {@code command} (the first argument) is one of these. */
    public static boolean handles(String command) {
        return command.equals("certs") || command.equals("token");
    }

    /** Runs {@code args} (starting with "certs" or "token") and returns the exit status. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        String command = args[0];
        List<String> rest = Arrays.asList(args).subList(1, args.length);
        String usage = command.equals("certs") ? CertsCommand.USAGE : TokenCommand.USAGE;
        if (rest.contains("--help") || rest.contains("-h")) {
            out.print(usage);
            return 0;
        }
        try {
            if (command.equals("certs")) {
                CertsCommand.run(rest, out, err);
            } else {
                TokenCommand.run(rest, out, err);
            }
            return 0;
        } catch (UsageException e) {
            err.println("jobscheduler " + command + ": " + e.getMessage());
            err.print(usage);
            return 2;
        } catch (RuntimeException e) {
            // Every failure of ours carries a one-line message naming the file or value; anything
            // else (an unexpected JDK failure) is still one line, not a stack trace.
            err.println("jobscheduler " + command + ": " + (e.getMessage() != null ? e.getMessage() : e));
            return 1;
        }
    }
}
