package io.jobscheduler.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * What {@code start} and {@code run} start: the options of a job and {@code -- COMMAND [ARGS…]},
 * turned into the body of {@code POST /start} (api.md): {@code worker_id} (only with {@code --worker}),
 * {@code command}, {@code args}, {@code env}, {@code timeout}, {@code constraints}; {@code path}
 * stays empty. A new request field is an {@code @Option} here and a few lines in {@link #startBody}.
 */
final class JobSpec {
    @Option(names = "--worker", paramLabel = "ID",
            description = "The worker to run on; without it, the scheduler places the job (or queues it).")
    private String worker;

    @Option(names = "--env", paramLabel = "K=V", description = "An environment variable of the job (repeatable).")
    private Map<String, String> env = new LinkedHashMap<>();

    @Option(names = "--timeout", paramLabel = "D",
            description = "End the job after this long, e.g. 30s, 5m (the scheduler checks the duration).")
    private String timeout;

    @Option(names = "--constraint", paramLabel = "K=V",
            description = {"Run only on a worker whose label K is V; K=!V: whose label K is not V (repeatable).",
                    "The scheduler checks names and values."})
    private Map<String, String> constraints = new LinkedHashMap<>();

    @Parameters(index = "0", paramLabel = "COMMAND", description = "The program to run (no shell).")
    private String command;

    @Parameters(index = "1..*", arity = "0..*", paramLabel = "[ARGS...]", hideParamSyntax = true,
            description = "Its arguments, passed as they are.")
    private List<String> arguments = new ArrayList<>();

    /** {@code COMMAND ARGS…} as typed, for messages. */
    String commandLine() {
        return arguments.isEmpty() ? command : command + " " + String.join(" ", arguments);
    }

    /** The body of {@code POST /start}; without {@code --worker} it names none, and the scheduler places the job. */
    ObjectNode startBody() {
        ObjectNode body = Api.JSON.createObjectNode();
        if (worker != null) {
            body.put("worker_id", worker);
        }
        body.put("command", command);
        if (!arguments.isEmpty()) {
            arguments.forEach(body.putArray("args")::add);
        }
        if (!env.isEmpty()) {
            ObjectNode variables = body.putObject("env");
            env.forEach(variables::put);
        }
        if (timeout != null) {
            body.put("timeout", timeout);
        }
        if (!constraints.isEmpty()) {
            ObjectNode byLabel = body.putObject("constraints");
            constraints.forEach(byLabel::put);
        }
        return body;
    }
}
