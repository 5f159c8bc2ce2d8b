package io.jobscheduler.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * What {@code start} and {@code run} start: the options of a job and {@code -- COMMAND [PATH]},
 * turned into the body of {@code POST /start}. Only what today's API honours is here (api.md):
 * a command and one path. A new request field is an {@code @Option} here and one line in
 * {@link #startBody} — where they go is marked below.
 */
final class JobSpec {
    @Spec(Spec.Target.MIXEE)
    private CommandSpec spec;

    @Option(names = "--worker", paramLabel = "ID",
            description = "The worker to run on; without it, the one alive worker (an error when there are several).")
    private String worker;

    // Options that arrive with the server side of other issues, each a field here and a line in startBody():
    //   @Option(names = "--env", paramLabel = "K=V") Map<String, String> env;        -> body "env" (jobs issue)
    //   @Option(names = "--timeout", paramLabel = "D") String timeout;               -> body "timeout" (issue 12)
    //   @Option(names = "--constraint", paramLabel = "K=V") Map<String, String> constraints; (issue 14)
    // picocli parses K=V options into a Map by itself.

    @Parameters(index = "0", paramLabel = "COMMAND", description = "The program to run (no shell).")
    private String command;

    // With the jobs issue's "args", this list becomes the arguments and the one-PATH check goes.
    @Parameters(index = "1..*", arity = "0..*", paramLabel = "[PATH]", hideParamSyntax = true,
            description = "Its one argument, e.g. a script, relative to the worker's work dir.")
    private List<String> arguments = new ArrayList<>();

    /** {@code COMMAND PATH} as typed, for messages. */
    String commandLine() {
        return arguments.isEmpty() ? command : command + " " + String.join(" ", arguments);
    }

    /** The body of {@code POST /start} for {@code workerId}. */
    ObjectNode startBody(String workerId) {
        if (arguments.size() > 1) {
            throw usage("the scheduler runs a COMMAND with at most one PATH today; got " + arguments.size()
                    + " arguments after " + command + " (put them in a script)");
        }
        ObjectNode body = Api.JSON.createObjectNode().put("worker_id", workerId).put("command", command);
        if (!arguments.isEmpty()) {
            body.put("path", arguments.getFirst());
        }
        return body;
    }

    /**
     * {@code --worker}, or the only worker that is alive. Several or none is a usage error that
     * lists them (automatic placement arrives with issue 14).
     */
    String workerId(Api api) {
        if (worker != null) {
            return worker;
        }
        JsonNode workers = api.get("/workers").json().path("workers");
        List<String> alive = new ArrayList<>();
        workers.forEach(w -> {
            if ("alive".equals(w.path("state").asText())) {
                alive.add(w.path("id").asText());
            }
        });
        if (alive.size() == 1) {
            return alive.getFirst();
        }
        String why = alive.isEmpty() ? "no worker is alive" : alive.size() + " workers are alive: choose one with --worker ID";
        throw usage(why + (workers.isEmpty() ? "" : "\n" + Formats.workers(workers).stripTrailing()));
    }

    private CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }
}
