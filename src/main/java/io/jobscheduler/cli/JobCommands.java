package io.jobscheduler.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The commands that start a job or follow its output: {@code start}, {@code logs}, {@code run}. */
final class JobCommands {
    /** How long the job's state may take to be final (or LOST) after its event stream was cut. */
    private static final Duration SETTLE = Duration.ofSeconds(5);
    private static final Duration SETTLE_POLL = Duration.ofMillis(100);

    private JobCommands() {
    }

    @Command(name = "start", description = "Start a job and print its id.")
    static final class Start implements Callable<Integer> {
        private final Context context;
        @Mixin
        private ServerOptions server;
        @Mixin
        private InfoCommands.JsonOption output;
        @Mixin
        private JobSpec job;

        Start(Context context) {
            this.context = context;
        }

        @Override
        public Integer call() {
            Api api = server.connect(context.env());
            // 201 started, or 202 queued: either way the job exists under this id.
            Api.Answer answer = api.post("/start", job.startBody());
            context.out().print(output.json ? answer.text() : answer.json().path("job_id").asText() + "\n");
            return 0;
        }
    }

    @Command(name = "logs", description = {"Write a job's output (stdout and stderr as written) to stdout, byte for byte.",
            "With -f, follow it until the job ends and exit with the job's outcome (see the exit codes in the README)."})
    static final class Logs implements Callable<Integer> {
        private final Context context;
        @Mixin
        private ServerOptions server;
        @Option(names = {"-f", "--follow"}, description = "Keep writing new output until the job ends.")
        private boolean follow;
        @Option(names = "--worker", paramLabel = "ID", description = "The job's worker, when the scheduler does not know the job.")
        private String worker;
        @Parameters(paramLabel = "JOB", description = "The job's id.")
        private String job;

        Logs(Context context) {
            this.context = context;
        }

        @Override
        public Integer call() {
            Api api = server.connect(context.env());
            if (!follow) {
                try {
                    api.copyOutput(job, worker, context.out());
                    return 0;
                } catch (Api.OutputCut e) {
                    throw new CliException(e.getMessage());
                }
            }
            return followToTheEnd(context, api, job, worker);
        }
    }

    @Command(name = "run", description = {"Start a job, write its output to stdout as it runs, and exit with its outcome:",
            "its exit code, 128+N for signal N, 124 timed out, 126 could not start, 69 lost, 75 stopped, 125 error."})
    static final class Run implements Callable<Integer> {
        private final Context context;
        @Mixin
        private ServerOptions server;
        @Mixin
        private JobSpec job;

        Run(Context context) {
            this.context = context;
        }

        @Override
        public Integer call() {
            Api api = server.connect(context.env());
            context.progress("starting '" + job.commandLine() + "' …");
            Api.Answer answer = api.post("/start", job.startBody());
            JsonNode started = answer.json();
            String jobId = started.path("job_id").asText();
            // The scheduler's answer names the worker; a queued job (202) may have none yet, and
            // its event stream waits until it starts.
            String workerId = started.path("worker_id").isTextual() ? started.path("worker_id").asText() : null;
            if (answer.status() == 202) {
                context.progress("job " + jobId + " is queued: no eligible worker has room yet");
            }
            return followToTheEnd(context, api, jobId, workerId);
        }
    }

    /**
     * Follows the job's event stream, its output to stdout, until the job ends, then answers the
     * exit status its end event says; each state the job passes through is told on a terminal.
     * A cut stream is reported, the job's state is still asked for and told, and the status is 125
     * — unless the job is LOST, which is why its stream broke; an end event saying LOST (the
     * scheduler ended the stream as the worker went down) is told the same way. A stream refused
     * with 503 is 69 when the job is LOST (its worker is down), else the error it is.
     */
    static int followToTheEnd(Context context, Api api, String jobId, String workerId) {
        String[] told = {null};
        Api.Followed followed;
        try {
            followed = api.followEvents(jobId, workerId, context.out(), state -> {
                String name = state.path("state").asText();
                if (!name.equals(told[0])) {
                    told[0] = name;
                    context.progress("job " + jobId + " is " + name.toLowerCase(Locale.ROOT)
                            + (name.equals("RUNNING") ? " on worker " + state.path("worker_id").asText()
                            + "; its output follows" : ""));
                }
            });
        } catch (Api.OutputCut cut) {
            context.err().println("jobscheduler: " + cut.getMessage());
            JsonNode state = settledState(api, jobId);
            context.err().println("jobscheduler: job " + jobId + " is " + state.path("state").asText()
                    + (Formats.exit(state).isEmpty() ? "" : " (exit " + Formats.exit(state) + ")"));
            return isLost(state) ? ExitCodes.LOST : ExitCodes.CLI_ERROR;
        } catch (CliException refused) {
            if (refused.httpStatus() != 503 || !isLost(stateOrNull(api, jobId))) {
                throw refused;
            }
            context.err().println("jobscheduler: " + refused.getMessage());
            return ExitCodes.LOST;
        }
        if (isLost(followed.end())) {
            // The scheduler ended the stream because the job's worker is down: the output stopped short.
            context.err().println("jobscheduler: the output of job " + jobId + " was cut off after " + followed.bytes()
                    + " bytes (its worker is down)");
            context.err().println("jobscheduler: job " + jobId + " is LOST");
        }
        return ExitCodes.of(followed.end());
    }

    /**
     * The job's state after its event stream was cut: the worker may just have died, and the
     * scheduler says LOST once it has noticed (within a second or so); this bounds that wait.
     */
    private static JsonNode settledState(Api api, String jobId) {
        Instant deadline = Instant.now().plus(SETTLE);
        while (true) {
            try {
                JsonNode state = query(api, jobId);
                if (state.path("done").asBoolean() || Instant.now().isAfter(deadline)) {
                    return state;
                }
            } catch (CliException e) {
                if (e.httpStatus() != 503 || Instant.now().isAfter(deadline)) {
                    throw e;
                }
            }
            pause();
        }
    }

    private static JsonNode stateOrNull(Api api, String jobId) {
        try {
            return query(api, jobId);
        } catch (CliException e) {
            return null;
        }
    }

    private static boolean isLost(JsonNode state) {
        return state != null && "LOST".equals(state.path("state").asText());
    }

    private static JsonNode query(Api api, String jobId) {
        return api.post("/query", Api.JSON.createObjectNode().put("job_id", jobId)).json();
    }

    private static void pause() {
        try {
            Thread.sleep(SETTLE_POLL);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CliException("interrupted");
        }
    }
}
