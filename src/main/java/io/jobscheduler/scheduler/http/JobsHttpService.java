package io.jobscheduler.scheduler.http;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import io.helidon.webserver.http.HttpService;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.jobscheduler.scheduler.JobGateway;
import io.jobscheduler.scheduler.JobIndex;
import io.jobscheduler.scheduler.JobView;
import io.jobscheduler.scheduler.WorkerCallException;
import io.jobscheduler.scheduler.WorkerRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * The job routes: start, stop, query, list, and stream output. Handlers are thin: decode,
 * call the {@link JobGateway}, encode. Errors are thrown and mapped once by {@link SchedulerHttp}.
 */
public final class JobsHttpService implements HttpService {
    static final int MAX_JOB_ID = 128;
    static final int DEFAULT_LIMIT = 100;
    static final int MAX_LIMIT = 1000;

    private final JobGateway gateway;

    public JobsHttpService(JobGateway gateway) {
        this.gateway = Objects.requireNonNull(gateway, "gateway");
    }

    @Override
    public void routing(HttpRules rules) {
        rules.post("/start", this::start)
                .any("/start", SchedulerHttp.methodNotAllowed(Method.POST))
                .post("/stop", this::stop)
                .any("/stop", SchedulerHttp.methodNotAllowed(Method.POST))
                .post("/query", this::query)
                .any("/query", SchedulerHttp.methodNotAllowed(Method.POST))
                .get("/jobs", this::list)
                .any("/jobs", SchedulerHttp.methodNotAllowed(Method.GET))
                .get("/jobs/{job_id}", this::one)
                .any("/jobs/{job_id}", SchedulerHttp.methodNotAllowed(Method.GET))
                .get("/jobs/{job_id}/output", this::output)
                .any("/jobs/{job_id}/output", SchedulerHttp.methodNotAllowed(Method.GET));
    }

    /** {@code POST /start}. An explicit null is refused like a wrong type; a missing field is named as missing. */
    public record StartRequest(@JsonProperty(required = true) String workerId,
                               @JsonProperty(required = true) String command,
                               String path) {
        public StartRequest {
            if (workerId == null) {
                throw new IllegalArgumentException("field 'worker_id' must be a string, not null");
            }
            command = StringField.COMMAND.required(command);
            path = StringField.PATH.check(path);
        }
    }

    /** {@code POST /stop} and {@code POST /query}; a null {@code worker_id} is the same as none. */
    public record JobRequest(@JsonProperty(required = true) String jobId, String workerId) {
        public JobRequest {
            if (jobId == null) {
                throw new IllegalArgumentException("field 'job_id' must be a string, not null");
            }
        }
    }

    public record StartedBody(String jobId, String workerId) {
    }

    public record SuccessBody(boolean success) {
    }

    /** A job's status; unknown values are null, never omitted. */
    public record JobBody(String jobId, String workerId, boolean done, boolean error, String errorText, String state,
                          Integer exitCode, Integer signal, String startedAt, String finishedAt) {
        static JobBody of(JobView job) {
            return new JobBody(job.jobId(), job.workerId().toString(), job.done(), job.error(), job.errorText(),
                    job.state(), job.exitCode().isPresent() ? job.exitCode().getAsInt() : null,
                    job.signal().isPresent() ? job.signal().getAsInt() : null,
                    job.startedAt().map(JsonBody::time).orElse(null),
                    job.finishedAt().map(JsonBody::time).orElse(null));
        }
    }

    public record JobSummary(String jobId, String workerId, String command, String path, String state) {
    }

    public record JobsBody(List<JobSummary> jobs, String next) {
    }

    private void start(ServerRequest request, ServerResponse response) {
        QueryParameters.only(request);
        StartRequest body = JsonBody.read(request, StartRequest.class);
        UUID workerId = workerId(body.workerId(), "worker_id");
        if (body.command().isEmpty()) {
            throw ApiException.badRequest("field 'command' must not be empty");
        }
        JobIndex.Entry job = gateway.start(workerId, body.command(), body.path() == null ? "" : body.path());
        JsonBody.send(response, Status.CREATED_201, new StartedBody(job.jobId(), job.workerId().toString()));
    }

    private void stop(ServerRequest request, ServerResponse response) {
        QueryParameters.only(request);
        JobRequest body = JsonBody.read(request, JobRequest.class);
        String jobId = jobId(body.jobId());
        Optional<UUID> workerId = optionalWorkerId(body.workerId());
        ofJob(jobId, workerId, () -> {
            gateway.stop(jobId, workerId);
            return null;
        });
        JsonBody.send(response, Status.OK_200, new SuccessBody(true));
    }

    private void query(ServerRequest request, ServerResponse response) {
        QueryParameters.only(request);
        JobRequest body = JsonBody.read(request, JobRequest.class);
        String jobId = jobId(body.jobId());
        Optional<UUID> workerId = optionalWorkerId(body.workerId());
        JsonBody.send(response, Status.OK_200, JobBody.of(ofJob(jobId, workerId, () -> gateway.query(jobId, workerId))));
    }

    private void one(ServerRequest request, ServerResponse response) {
        QueryParameters query = QueryParameters.only(request, "worker_id");
        String jobId = jobId(request.path().pathParameters().get("job_id"));
        Optional<UUID> workerId = optionalWorkerId(query.get("worker_id").orElse(null));
        JsonBody.send(response, Status.OK_200, JobBody.of(ofJob(jobId, workerId, () -> gateway.query(jobId, workerId))));
    }

    private void list(ServerRequest request, ServerResponse response) {
        QueryParameters query = QueryParameters.only(request, "limit", "next");
        int limit = query.get("limit").map(text -> {
            try {
                int value = Integer.parseInt(text);
                if (value >= 1 && value <= MAX_LIMIT) {
                    return value;
                }
            } catch (NumberFormatException e) {
                // Falls through to the refusal below.
            }
            throw ApiException.badRequest("query parameter 'limit' must be an integer from 1 to " + MAX_LIMIT
                    + ", was '" + text + "'");
        }).orElse(DEFAULT_LIMIT);
        JobIndex.Page page;
        try {
            page = gateway.list(limit, query.get("next"));
        } catch (IllegalArgumentException e) {
            throw ApiException.badRequest("query parameter " + e.getMessage());
        }
        List<JobSummary> jobs = page.entries().stream().map(e -> new JobSummary(e.jobId(), e.workerId().toString(),
                e.command(), e.path(), e.state())).toList();
        JsonBody.send(response, Status.OK_200, new JobsBody(jobs, page.next().orElse(null)));
    }

    private void output(ServerRequest request, ServerResponse response) {
        QueryParameters query = QueryParameters.only(request, "follow", "offset", "worker_id");
        String jobId = jobId(request.path().pathParameters().get("job_id"));
        boolean follow = query.get("follow").map(text -> switch (text) {
            case "true", "1" -> true;
            case "false", "0" -> false;
            default -> throw ApiException.badRequest("query parameter 'follow' must be true or false, was '" + text + "'");
        }).orElse(true);
        long offset = query.get("offset").map(text -> {
            try {
                long value = Long.parseLong(text);
                if (value >= 0) {
                    return value;
                }
            } catch (NumberFormatException e) {
                // Falls through to the refusal below.
            }
            throw ApiException.badRequest("query parameter 'offset' must be a non-negative integer, was '" + text + "'");
        }).orElse(0L);
        Optional<UUID> workerId = optionalWorkerId(query.get("worker_id").orElse(null));

        try (JobGateway.OutputStreamCall call = ofJob(jobId, workerId, () -> gateway.output(jobId, workerId, offset, follow))) {
            response.header(HeaderNames.CONTENT_TYPE, "application/octet-stream");
            // Deliberately not closed on failure: closing would send the final chunk and make a
            // cut-off body look complete. An exception after the headers aborts the connection.
            OutputStream body = response.outputStream();
            while (call.sendNext(body)) {
                body.flush();
            }
            body.close();
        } catch (IOException | RuntimeException e) {
            if (e instanceof RuntimeException r && !SchedulerHttp.clientLeft(r)) {
                throw r;
            }
            // The client went away; closing the call above cancelled the worker's stream.
            throw SchedulerHttp.clientGone("GET output of job " + jobId, e);
        }
    }

    /**
     * Runs a gateway call about one job, so that an unknown job reads the same on every route:
     * a 404 from the gateway or the job's worker, once the given worker is known to be
     * registered, can only mean the job.
     */
    private <T> T ofJob(String jobId, Optional<UUID> workerId, Supplier<T> call) {
        workerId.ifPresent(id -> gateway.requireWorker(jobId, id));
        try {
            return call.get();
        } catch (WorkerCallException e) {
            if (e.httpStatus() == Status.NOT_FOUND_404.code()) {
                throw ApiException.notFound(unknownJob(jobId));
            }
            throw e;
        }
    }

    /** The one wording of an unknown job. */
    static String unknownJob(String jobId) {
        return "unknown job '" + jobId + "'";
    }

    private static String jobId(String id) {
        if (id == null || id.isEmpty() || id.length() > MAX_JOB_ID) {
            throw ApiException.badRequest("job_id must be 1 to " + MAX_JOB_ID + " characters"
                    + (id == null ? "" : ", was " + id.length()));
        }
        return id;
    }

    private static UUID workerId(String text, String field) {
        return WorkerRegistry.parseId(text)
                .orElseThrow(() -> ApiException.badRequest(field + " '" + text + "' is not a UUID"));
    }

    private static Optional<UUID> optionalWorkerId(String text) {
        return text == null ? Optional.empty() : Optional.of(workerId(text, "worker_id"));
    }
}
