package io.jobscheduler.cli;

import com.fasterxml.jackson.databind.JsonNode;

/** The API's answers as text for people (the {@code --json} option prints the answers themselves). */
final class Formats {
    private Formats() {
    }

    /** {@code GET /workers}'s {@code workers} array as a table. */
    static String workers(JsonNode workers) {
        Table table = new Table("ID", "ADDRESS", "STATE", "RUNNING", "LAST SEEN");
        for (JsonNode worker : workers) {
            table.row(text(worker, "id"), text(worker, "address"), text(worker, "state"),
                    text(worker, "running_jobs"), text(worker, "last_seen"));
        }
        return table.render();
    }

    /** {@code GET /jobs}'s {@code jobs} array as a table; a field the entry does not carry (yet) shows as "-". */
    static String jobs(JsonNode jobs) {
        Table table = new Table("ID", "WORKER", "STATE", "EXIT", "STARTED", "COMMAND");
        for (JsonNode job : jobs) {
            String command = (text(job, "command") + " " + text(job, "path")).strip();
            table.row(text(job, "job_id"), text(job, "worker_id"), text(job, "state"), exit(job),
                    text(job, "started_at"), command);
        }
        return table.render();
    }

    /** {@code POST /query}'s answer, one field a line. */
    static String status(JsonNode job) {
        Table table = new Table("JOB", text(job, "job_id"));
        table.row("WORKER", text(job, "worker_id"));
        table.row("STATE", text(job, "state"));
        table.row("EXIT", exit(job));
        table.row("ERROR", text(job, "error_text"));
        table.row("STARTED", text(job, "started_at"));
        table.row("FINISHED", text(job, "finished_at"));
        return table.render();
    }

    /** How the job ended: its exit code, "signal N", or "" while that is not known. */
    static String exit(JsonNode job) {
        if (job.path("exit_code").isInt()) {
            return job.get("exit_code").asText();
        }
        if (job.path("signal").isInt()) {
            return "signal " + job.get("signal").asText();
        }
        return "";
    }

    /** A field as text; "" when it is absent or null. */
    private static String text(JsonNode node, String field) {
        JsonNode value = node.path(field);
        return value.isMissingNode() || value.isNull() ? "" : value.asText();
    }
}
