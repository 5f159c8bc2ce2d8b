package io.jobscheduler.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * What {@code start} and {@code run} start: the options of a job and {@code -- COMMAND [ARGS…]},
 * turned into the body of {@code POST /start} (api.md): {@code command}, {@code args}, {@code env},
 * {@code timeout}; {@code path} stays empty. A new request field is an {@code @Option} here and
 * one line in {@link #startBody}.
 */
final class JobSpec {
    @Spec(Spec.Target.MIXEE)
    private CommandSpec spec;

    @Option(names = "--worker", paramLabel = "ID",
            description = "The worker to run on; without it, the one alive worker (an error when there are several).")
    private String worker;

    @Option(names = "--env", paramLabel = "K=V", description = "An environment variable of the job (repeatable).")
    private Map<String, String> env = new LinkedHashMap<>();

    @Option(names = "--timeout", paramLabel = "D",
            description = "End the job after this long, e.g. 30s, 5m (the scheduler checks the duration).")
    private String timeout;

    // Arrives with the server side of issue 14, a field here and a line in startBody():
    //   @Option(names = "--constraint", paramLabel = "K=V") Map<String, String> constraints;

    @Parameters(index = "0", paramLabel = "COMMAND", description = "The program to run (no shell).")
    private String command;

    @Parameters(index = "1..*", arity = "0..*", paramLabel = "[ARGS...]", hideParamSyntax = true,
            description = "Its arguments, passed as they are.")
    private List<String> arguments = new ArrayList<>();

    /** {@code COMMAND ARGS…} as typed, for messages. */
    String commandLine() {
        return arguments.isEmpty() ? command : command + " " + String.join(" ", arguments);
    }

    /** The body of {@code POST /start} for {@code workerId}. */
    ObjectNode startBody(String workerId) {
        ObjectNode body = Api.JSON.createObjectNode().put("worker_id", workerId).put("command", command);
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
