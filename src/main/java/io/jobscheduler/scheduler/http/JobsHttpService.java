package io.jobscheduler.scheduler.http;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.jobscheduler.config.Durations;
import io.jobscheduler.rpc.JobIds;
import io.jobscheduler.scheduler.Job;
import io.jobscheduler.scheduler.JobGateway;
import io.jobscheduler.scheduler.JobStart;
import io.jobscheduler.scheduler.JobOutput;
import io.jobscheduler.scheduler.JobState;
import io.jobscheduler.scheduler.JobTable;
import io.jobscheduler.scheduler.JobsCursor;
import io.jobscheduler.scheduler.SchedulerException;
import io.jobscheduler.scheduler.WorkerRegistry;
import io.jobscheduler.scheduler.placement.Constraints;
import io.jobscheduler.security.ApiRole;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The job routes: start, stop, query, list, and stream output. Handlers are thin: decode,
 * call the {@link JobGateway}, encode. Errors are thrown and mapped once by {@link SchedulerHttp}.
 */
final class JobsHttpService {
    static final int DEFAULT_LIMIT = 100;
    static final int MAX_LIMIT = 1000;
    private static final HeaderName LAST_EVENT_ID = HeaderNames.create("Last-Event-ID");
    private static final Pattern VARIABLE_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final Pattern LABEL_NAME = Pattern.compile("[A-Za-z0-9_-]{1,63}");
    private static final int MAX_CONSTRAINTS = 64;

    private final JobGateway gateway;
    private final JobEventStream events;

    JobsHttpService(JobGateway gateway, Duration eventsKeepalive) {
        this.gateway = Objects.requireNonNull(gateway, "gateway");
        this.events = new JobEventStream(gateway, eventsKeepalive);
    }

    /** The job routes, for {@link ApiRoutes}. */
    List<ApiRoute> routes() {
        return List.of(
                ApiRoute.post("/start", ApiRole.OPERATOR, this::start),
                ApiRoute.post("/stop", ApiRole.OPERATOR, this::stop),
                ApiRoute.post("/query", ApiRole.VIEWER, this::query),
                ApiRoute.get("/jobs", ApiRole.VIEWER, this::list),
                ApiRoute.get("/jobs/{job_id}", ApiRole.VIEWER, this::one),
                ApiRoute.get("/jobs/{job_id}/output", ApiRole.VIEWER, this::output),
                ApiRoute.get("/jobs/{job_id}/events", ApiRole.VIEWER, this::events));
    }

    /** {@code POST /start}. An explicit null is refused like a wrong type; a missing field is named as missing. */
    public record StartRequest(String workerId,
                               @JsonProperty(required = true) String command,
                               String path, List<String> args, Map<String, String> env, String timeout, String user,
                               LimitsBody limits, Map<String, String> constraints, Integer priority) {
        public StartRequest {
            command = StringField.COMMAND.required(command);
            constraints = checkedConstraints(constraints);
            path = StringField.PATH.check(path);
            args = checkedArgs(args);
            env = checkedEnv(env);
            timeout = StringField.TIMEOUT.check(timeout);
            user = StringField.USER.check(user);
        }

        private static List<String> checkedArgs(List<String> args) {
            if (args == null) {
                return List.of();
            }
            for (int i = 0; i < args.size(); i++) {
                new StringField("args[" + i + "]", StringField.ARG_BYTES).required(args.get(i));
            }
            return List.copyOf(args);
        }

        /** Label names and values as a worker's {@code [labels]} may have them; a value may start with '!' (not equal). */
        private static Map<String, String> checkedConstraints(Map<String, String> constraints) {
            if (constraints == null) {
                return Map.of();
            }
            if (constraints.size() > MAX_CONSTRAINTS) {
                throw new IllegalArgumentException("field 'constraints': at most " + MAX_CONSTRAINTS + " labels, was "
                        + constraints.size());
            }
            for (Map.Entry<String, String> c : constraints.entrySet()) {
                if (!LABEL_NAME.matcher(c.getKey()).matches()) {
                    throw new IllegalArgumentException("field 'constraints': '" + c.getKey()
                            + "' is not a label name (1-63 of A-Z a-z 0-9 _ -)");
                }
                String value = c.getValue();
                String bare = value == null ? null : value.startsWith("!") ? value.substring(1) : value;
                if (bare == null || bare.isEmpty() || bare.length() > 256) {
                    throw new IllegalArgumentException("field 'constraints." + c.getKey()
                            + "' must be a string of 1-256 characters (\"!value\" for not equal)");
                }
            }
            return Map.copyOf(constraints);
        }

        private static Map<String, String> checkedEnv(Map<String, String> env) {
            if (env == null) {
                return Map.of();
            }
            for (Map.Entry<String, String> variable : env.entrySet()) {
                StringField.ENV_NAME.check(variable.getKey());
                if (!VARIABLE_NAME.matcher(variable.getKey()).matches()) {
                    throw new IllegalArgumentException("field 'env': '" + variable.getKey()
                            + "' is not a variable name ([A-Za-z_][A-Za-z0-9_]*)");
                }
                new StringField("env." + variable.getKey(), StringField.ARG_BYTES).required(variable.getValue());
            }
            return Map.copyOf(env);
        }

        /** The job's start as the gateway sends it; a timeout that is no duration is 400. */
        JobStart start() {
            return new JobStart(command, path == null ? "" : path, args, env, timeoutDuration(),
                    Optional.ofNullable(user).filter(u -> !u.isEmpty()), LimitsBody.of(limits));
        }

        private Optional<Duration> timeoutDuration() {
            if (timeout == null) {
                return Optional.empty();
            }
            Duration parsed;
            try {
                parsed = Durations.parse(timeout);
            } catch (IllegalArgumentException e) {
                throw ApiException.badRequest("field 'timeout': " + e.getMessage());
            }
            if (parsed.isZero()) {
                throw ApiException.badRequest("field 'timeout' must be more than 0");
            }
            return Optional.of(parsed);
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

    /** {@code 202}: the job waits for room; {@code worker_id} is the worker it is pinned to, else null. */
    public record QueuedBody(String jobId, String workerId, String state) {
    }

    public record SuccessBody(boolean success) {
    }

    /** A job's status; unknown values are null, never omitted. */
    public record JobBody(String jobId, String workerId, boolean done, boolean error, String errorText, String state,
                          Integer exitCode, Integer signal, String startedAt, String finishedAt) {
        static JobBody of(Job job) {
            return new JobBody(job.jobId(), workerText(job), job.done(), job.error(), job.errorText(),
                    job.state().name(), job.exitCode().isPresent() ? job.exitCode().getAsInt() : null,
                    job.signal().isPresent() ? job.signal().getAsInt() : null,
                    job.startedAt().map(JsonBody::time).orElse(null),
                    job.finishedAt().map(JsonBody::time).orElse(null));
        }
    }

    /**
     * A job in a list: where it runs, what it runs and by which constraints it was placed (in label
     * order; {@code {}} when none are known), its state and times; unknown values are null.
     */
    public record JobSummary(String jobId, String workerId, String command, String path, List<String> args,
                             SortedMap<String, String> constraints, String state, String startedAt, String finishedAt,
                             Integer exitCode) {
        static JobSummary of(Job job) {
            return new JobSummary(job.jobId(), workerText(job), job.command(), job.path(), job.args(),
                    new TreeMap<>(job.constraints()), job.state().name(),
                    job.startedAt().map(JsonBody::time).orElse(null), job.finishedAt().map(JsonBody::time).orElse(null),
                    job.exitCode().isPresent() ? job.exitCode().getAsInt() : null);
        }
    }

    public record JobsBody(List<JobSummary> jobs, String next) {
    }

    /** A job no worker has (queued, or stopped while queued) has no worker id yet. */
    private static String workerText(Job job) {
        return job.workerId() == null ? null : job.workerId().toString();
    }

    private void start(ServerRequest request, ServerResponse response) {
        QueryParameters.only(request);
        StartRequest body = JsonBody.read(request, StartRequest.class);
        Optional<UUID> workerId = optionalWorkerId(body.workerId());
        if (body.command().isEmpty()) {
            throw ApiException.badRequest("field 'command' must not be empty");
        }
        HttpAudit.before(request, entry -> {
            var audited = entry.command(body.command(), body.path(), body.args(), body.env().keySet());
            return workerId.map(id -> audited.worker(id.toString())).orElse(audited);
        });
        Optional<JobGateway.Idempotency> idempotency = IdempotencyKey.of(request)
                .map(key -> new JobGateway.Idempotency(IdempotencyKey.scope(request), key,
                        IdempotencyKey.sha256(body, workerId)));
        JobGateway.Placed placed = gateway.submit(body.start(), new Constraints(body.constraints()), workerId,
                body.priority() == null ? 0 : body.priority(), idempotency);
        Job job = placed.job();
        HttpAudit.made(request, job.jobId());
        if (placed.repeat()) {
            // The same request made before: the job it made, as it is now.
            JsonBody.send(response, Status.OK_200, JobBody.of(job));
        } else if (placed.queued()) {
            JsonBody.send(response, Status.ACCEPTED_202, new QueuedBody(job.jobId(), workerText(job), job.state().name()));
        } else {
            JsonBody.send(response, Status.CREATED_201, new StartedBody(job.jobId(), job.workerId().toString()));
        }
    }

    private void stop(ServerRequest request, ServerResponse response) {
        QueryParameters.only(request);
        JobRequest body = JsonBody.read(request, JobRequest.class);
        String jobId = jobId(body.jobId());
        Optional<UUID> workerId = optionalWorkerId(body.workerId());
        HttpAudit.before(request, entry -> entry.job(jobId).worker(body.workerId()));
        gateway.stop(jobId, workerId);
        JsonBody.send(response, Status.OK_200, new SuccessBody(true));
    }

    private void query(ServerRequest request, ServerResponse response) {
        QueryParameters.only(request);
        JobRequest body = JsonBody.read(request, JobRequest.class);
        String jobId = jobId(body.jobId());
        Optional<UUID> workerId = optionalWorkerId(body.workerId());
        JsonBody.send(response, Status.OK_200, JobBody.of(gateway.query(jobId, workerId)));
    }

    private void one(ServerRequest request, ServerResponse response) {
        QueryParameters query = QueryParameters.only(request, "worker_id");
        String jobId = jobId(request.path().pathParameters().get("job_id"));
        Optional<UUID> workerId = optionalWorkerId(query.get("worker_id").orElse(null));
        JsonBody.send(response, Status.OK_200, JobBody.of(gateway.query(jobId, workerId)));
    }

    private void list(ServerRequest request, ServerResponse response) {
        QueryParameters query = QueryParameters.only(request, List.of("state"),
                "limit", "next", "state", "worker_id", "since", "until");
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
        Optional<JobsCursor> after = query.get("next").map(text -> JobsCursor.parse(text).orElseThrow(
                () -> ApiException.badRequest("query parameter next: '" + text + "' is not a cursor from GET /jobs")));
        JobTable.Filter filter = new JobTable.Filter(states(query.all("state")),
                optionalWorkerId(query.get("worker_id").orElse(null)), time(query, "since"), time(query, "until"));
        JobGateway.Page page = gateway.list(limit, after, filter);
        List<JobSummary> jobs = page.entries().stream().map(e -> JobSummary.of(e.job())).toList();
        JsonBody.send(response, Status.OK_200, new JobsBody(jobs, page.next().map(JobsCursor::text).orElse(null)));
    }

    private static Set<JobState> states(List<String> names) {
        Set<JobState> states = EnumSet.noneOf(JobState.class);
        for (String name : names) {
            try {
                states.add(JobState.valueOf(name));
            } catch (IllegalArgumentException e) {
                throw ApiException.badRequest("query parameter 'state' must be one of "
                        + Arrays.toString(JobState.values()) + ", was '" + name + "'");
            }
        }
        return states;
    }

    /** An RFC 3339 time parameter ({@code 2026-12-01T10:00:00Z}, any offset). */
    private static Optional<Instant> time(QueryParameters query, String name) {
        return query.get(name).map(text -> {
            try {
                return OffsetDateTime.parse(text).toInstant();
            } catch (DateTimeParseException e) {
                throw ApiException.badRequest("query parameter '" + name
                        + "' must be an RFC 3339 time such as 2026-12-01T10:00:00Z, was '" + text + "'");
            }
        });
    }

    private void output(ServerRequest request, ServerResponse response) {
        QueryParameters query = QueryParameters.only(request, "follow", "offset", "worker_id");
        String jobId = jobId(request.path().pathParameters().get("job_id"));
        boolean follow = query.get("follow").map(text -> switch (text) {
            case "true", "1" -> true;
            case "false", "0" -> false;
            default -> throw ApiException.badRequest("query parameter 'follow' must be true or false, was '" + text + "'");
        }).orElse(true);
        long offset = query.get("offset").map(text -> offset("query parameter 'offset'", text)).orElse(0L);
        Optional<UUID> workerId = optionalWorkerId(query.get("worker_id").orElse(null));
        HttpAudit.before(request, entry -> entry.job(jobId).worker(workerId.map(UUID::toString).orElse(null)));

        boolean onWorker;
        try {
            onWorker = gateway.awaitOutput(jobId, workerId, follow);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SchedulerException.ShuttingDown();
        }
        if (!onWorker) {
            // Queued (without follow), or stopped before it started: no output, and none to come.
            response.header(HeaderNames.CONTENT_TYPE, "application/octet-stream");
            response.send(new byte[0]);
            return;
        }
        try (JobOutput.Call call = gateway.output(jobId, workerId, offset, follow)) {
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
     * {@code GET /jobs/{job_id}/events}: from {@code Last-Event-ID} (a reconnecting
     * {@code EventSource} sends the last {@code id} it saw), else {@code offset}, else byte 0.
     */
    private void events(ServerRequest request, ServerResponse response) {
        QueryParameters query = QueryParameters.only(request, "offset", "worker_id");
        String jobId = jobId(request.path().pathParameters().get("job_id"));
        // An empty one is an EventSource with no last id: the same as none (the HTML standard).
        Optional<String> lastEventId = request.headers().first(LAST_EVENT_ID).filter(id -> !id.isBlank());
        long offset = lastEventId.map(text -> offset("header Last-Event-ID", text))
                .or(() -> query.get("offset").map(text -> offset("query parameter 'offset'", text)))
                .orElse(0L);
        Optional<UUID> workerId = optionalWorkerId(query.get("worker_id").orElse(null));
        HttpAudit.before(request, entry -> entry.job(jobId).worker(workerId.map(UUID::toString).orElse(null)));
        events.serve(jobId, offset, workerId, response);
    }

    private static long offset(String what, String text) {
        try {
            long value = Long.parseLong(text.strip());
            if (value >= 0) {
                return value;
            }
        } catch (NumberFormatException e) {
            // Falls through to the refusal below.
        }
        throw ApiException.badRequest(what + " must be a non-negative integer, was '" + text + "'");
    }

    private static String jobId(String id) {
        if (!JobIds.plausible(id)) {
            throw ApiException.badRequest("job_id must be 1 to " + JobIds.MAX_LENGTH + " characters"
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
