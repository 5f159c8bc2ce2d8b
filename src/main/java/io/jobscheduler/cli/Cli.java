package io.jobscheduler.cli;

import java.io.Console;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The command-line client of the scheduler's HTTP API: {@code workers}, {@code jobs}, {@code status},
 * {@code stop}, {@code start}, {@code logs}, {@code run}, {@code completion}, options after the
 * command name. Exit status: 0, a job's outcome for {@code run} and {@code logs -f}
 * ({@link ExitCodes}), 125 for an error of the client, the API or the connection (one line on
 * stderr), 2 for a usage error (with the command's usage).
 */
@Command(name = "jobscheduler", synopsisSubcommandLabel = "COMMAND",
        description = "The command-line client of a jobscheduler cluster's HTTP API.")
public final class Cli {
    private static final Set<String> COMMANDS = Set.of("workers", "jobs", "status", "stop", "start", "logs", "run", "completion");

    private Cli() {
    }

    /** Whether {@code command} (the first argument) is a client command. */
    public static boolean handles(String command) {
        return COMMANDS.contains(command);
    }

    /** Runs {@code args} (starting with a client command) and answers the exit status. */
    public static int run(String[] args, PrintStream out, PrintStream err, Map<String, String> env) {
        Console console = System.console();
        return commandLine(new Context(env, out, err, console != null && console.isTerminal())).execute(args);
    }

    static CommandLine commandLine(Context context) {
        CommandLine cli = new CommandLine(new Cli())
                .addSubcommand(new InfoCommands.Workers(context))
                .addSubcommand(new InfoCommands.Jobs(context))
                .addSubcommand(new InfoCommands.Status(context))
                .addSubcommand(new InfoCommands.Stop(context))
                .addSubcommand(new JobCommands.Start(context))
                .addSubcommand(new JobCommands.Logs(context))
                .addSubcommand(new JobCommands.Run(context))
                .addSubcommand(new Completion(context));
        cli.setOut(new PrintWriter(context.out(), true));
        cli.setErr(new PrintWriter(context.err(), true));
        // A usage error names the command it is about, then shows that command's usage; status 2.
        cli.setParameterExceptionHandler((e, arguments) -> {
            CommandLine line = e.getCommandLine();
            line.getErr().println("jobscheduler " + line.getCommandName() + ": " + e.getMessage());
            line.usage(line.getErr());
            line.getErr().flush();
            return ExitCodes.USAGE;
        });
        cli.setExecutionExceptionHandler((e, line, parsed) -> {
            String message = e instanceof CliException known ? known.getMessage() : "internal error: " + e;
            line.getErr().println("jobscheduler: " + message);
            line.getErr().flush();
            return e instanceof CliException known ? known.exitCode() : ExitCodes.CLI_ERROR;
        });
        return cli;
    }

    @Command(name = "completion", description = {"Print a bash completion script for these commands, e.g.",
            "  source <(bin/jobscheduler completion)"})
    static final class Completion implements Callable<Integer> {
        private final Context context;
        @Spec
        private CommandSpec spec;
        @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
        private boolean help;

        Completion(Context context) {
            this.context = context;
        }

        @Override
        public Integer call() {
            context.out().print(AutoComplete.bash("jobscheduler", spec.parent().commandLine()));
            return 0;
        }
    }
}
