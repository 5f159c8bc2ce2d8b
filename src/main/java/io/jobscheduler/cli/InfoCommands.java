package io.jobscheduler.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The commands that read the cluster or stop a job: {@code workers}, {@code jobs}, {@code status}, {@code stop}. */
final class InfoCommands {
    private InfoCommands() {
    }

    /** {@code --json}: print the API's JSON instead of a table. */
    static final class JsonOption {
        @Option(names = "--json", description = "Print the API's JSON answer instead of a table.")
        boolean json;
    }

    @Command(name = "workers", description = "List the workers: ID, ADDRESS, STATE, RUNNING (jobs), LAST SEEN.")
    static final class Workers implements Callable<Integer> {
        private final Context context;
        @Mixin
        private ServerOptions server;
        @Mixin
        private JsonOption output;

        Workers(Context context) {
            this.context = context;
        }

        @Override
        public Integer call() {
            Api.Answer answer = server.connect(context.env()).get("/workers");
            context.out().print(output.json ? answer.text() : Formats.workers(answer.json().path("workers")));
            return 0;
        }
    }

    @Command(name = "jobs", description = "List the jobs, newest first: ID, WORKER, STATE, EXIT, STARTED, COMMAND.")
    static final class Jobs implements Callable<Integer> {
        private final Context context;
        @Mixin
        private ServerOptions server;
        @Mixin
        private JsonOption output;
        @Option(names = "--limit", paramLabel = "N", description = "Jobs per page, 1 to 1000 (the scheduler's default: 100).")
        private Integer limit;
        @Option(names = "--all", description = "Every job: follow the pages to the last.")
        private boolean all;
        @Option(names = "--state", paramLabel = "S",
                description = "Only jobs in this state: RUNNING, SUCCEEDED, FAILED, STOPPED, LOST (repeatable).")
        private List<String> states = new ArrayList<>();
        @Option(names = "--worker", paramLabel = "ID", description = "Only the jobs of this worker.")
        private String worker;

        Jobs(Context context) {
            this.context = context;
        }

        /** The query of every page: the filters and the page size (a cursor is valid with the same filters). */
        private String filters() {
            List<String> parameters = new ArrayList<>();
            states.forEach(state -> parameters.add("state=" + PercentEncoding.segment(state)));
            if (worker != null) {
                parameters.add("worker_id=" + PercentEncoding.segment(worker));
            }
            if (limit != null) {
                parameters.add("limit=" + limit);
            }
            return String.join("&", parameters);
        }

        @Override
        public Integer call() {
            Api api = server.connect(context.env());
            String query = filters();
            JsonNode page = api.get("/jobs" + (query.isEmpty() ? "" : "?" + query)).json();
            ArrayNode jobs = Api.JSON.createArrayNode().addAll(jobsOf(page));
            while (all && page.path("next").isTextual()) {
                String cursor = page.get("next").asText();
                String next = "next=" + PercentEncoding.segment(cursor);
                page = api.get("/jobs?" + (query.isEmpty() ? next : query + "&" + next)).json();
                if (cursor.equals(page.path("next").asText(null))) {
                    throw new CliException("the scheduler answered the page after '" + cursor + "' with the same cursor");
                }
                jobs.addAll(jobsOf(page));
            }
            ObjectNode result = Api.JSON.createObjectNode();
            result.set("jobs", jobs);
            result.set("next", page.path("next").isTextual() ? page.get("next") : Api.JSON.nullNode());
            if (output.json) {
                context.out().println(result);
            } else {
                context.out().print(Formats.jobs(jobs));
                if (page.path("next").isTextual()) {
                    context.err().println("jobscheduler: more jobs on later pages: add --all to list them");
                }
            }
            return 0;
        }
    }

    private static ArrayNode jobsOf(JsonNode page) {
        if (!(page.path("jobs") instanceof ArrayNode jobs)) {
            throw new CliException("the scheduler's answer to GET /jobs has no \"jobs\" list");
        }
        return jobs;
    }

    @Command(name = "status", description = "Show a job: its state, exit code or signal, error and times.")
    static final class Status implements Callable<Integer> {
        private final Context context;
        @Mixin
        private ServerOptions server;
        @Mixin
        private JsonOption output;
        @Parameters(paramLabel = "JOB", description = "The job's id.")
        private String job;

        Status(Context context) {
            this.context = context;
        }

        @Override
        public Integer call() {
            Api.Answer answer = server.connect(context.env()).post("/query", Api.JSON.createObjectNode().put("job_id", job));
            context.out().print(output.json ? answer.text() : Formats.status(answer.json()));
            return 0;
        }
    }

    @Command(name = "stop", description = "Stop a job (SIGTERM, then SIGKILL after the worker's grace period); "
            + "returns once it has ended.")
    static final class Stop implements Callable<Integer> {
        private final Context context;
        @Mixin
        private ServerOptions server;
        @Mixin
        private JsonOption output;
        @Parameters(paramLabel = "JOB", description = "The job's id.")
        private String job;

        Stop(Context context) {
            this.context = context;
        }

        @Override
        public Integer call() {
            Api.Answer answer = server.connect(context.env()).post("/stop", Api.JSON.createObjectNode().put("job_id", job));
            context.out().print(output.json ? answer.text() : "stopped " + job + "\n");
            return 0;
        }
    }
}
