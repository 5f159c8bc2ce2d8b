package io.jobscheduler.scheduler.http;

import io.helidon.http.HttpException;
import io.helidon.http.Status;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.ServerRequest;
import io.jobscheduler.scheduler.SchedulerException;
import io.jobscheduler.security.AuditEntry;
import io.jobscheduler.security.AuditException;
import io.jobscheduler.security.AuditLog;
import java.util.Map;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * The audit lines of HTTP requests: one per start, stop, output read and worker removal, and one
 * per refused request (401, 403; rate-limited by the {@link AuditLog}).
 *
 * <p>An audited route's handler says what the request is about once it has read it, before it
 * acts: {@link #before} writes the line (status {@code null}) and, when it cannot, refuses the
 * request with 503 so nothing is done unrecorded. Once the handler is over, its status is written
 * into that line. A request refused before {@link #before} (a malformed body) gets its line then,
 * with what is known of it.
 */
final class HttpAudit {
    /** The audited routes ({@code "METHOD path"} of {@link ApiRoutes}' table) and their event names. */
    static final Map<String, String> EVENTS = Map.of(
            "POST /start", "start",
            "POST /stop", "stop",
            "GET /jobs/{job_id}/output", "output",
            "GET /jobs/{job_id}/events", "output",   // the events carry the output too
            "DELETE /workers/{id}", "worker_remove");

    private final AuditLog log;

    HttpAudit(AuditLog log) {
        this.log = log;
    }

    /** One audited request: its entry so far, and its line once written. */
    private static final class Audited {
        final AuditLog log;
        AuditEntry entry;
        AuditLog.Pending pending;
        String madeJobId;
        boolean refused;
        boolean finished;

        Audited(AuditLog log, AuditEntry entry) {
            this.log = log;
            this.entry = entry;
        }
    }

    /**
     * Writes the audited request's line before its action is done, with the details
     * {@code details} adds (job, worker, command). Does nothing on a route that is not audited.
     *
     * @throws ApiException 503 when the line cannot be written: the handler must not act
     */
    static void before(ServerRequest request, UnaryOperator<AuditEntry> details) {
        Optional<Audited> audited = request.context().get(Audited.class);
        if (audited.isEmpty()) {
            return;
        }
        Audited a = audited.get();
        a.entry = details.apply(a.entry);
        try {
            a.pending = a.log.begin(a.entry, a.entry.event().equals("start"));
        } catch (AuditException e) {
            a.refused = true;
            throw new ApiException(Status.SERVICE_UNAVAILABLE_503, e.getMessage() + "; nothing was done");
        }
    }

    /** The job an audited start made, for its line. */
    static void made(ServerRequest request, String jobId) {
        request.context().get(Audited.class).ifPresent(a -> a.madeJobId = jobId);
    }

    /** {@code route}'s handler with its audit line, when the route is audited; else the handler. */
    Handler around(ApiRoute route) {
        String event = EVENTS.get(route.method().text() + " " + route.path());
        if (event == null || !log.enabled()) {
            return route.handler();
        }
        return (request, response) -> {
            Caller caller = request.context().get(Caller.class).orElse(Caller.UNCHECKED);
            Audited audited = new Audited(log, AuditEntry.of(event, caller.who(), from(request),
                    route.method().text(), route.path()));
            request.context().register(audited);
            // Completed before the answer goes out, so a client that has its answer finds its line whole.
            response.beforeSend(() -> finish(audited, response.status().code()));
            try {
                route.handler().handle(request, response);
            } catch (RuntimeException e) {
                if (!response.isSent()) {
                    finish(audited, statusOf(e));
                }
                throw e;
            }
        };
    }

    /** A refused request's line (401, 403), rate-limited. */
    void refused(ServerRequest request, String who, String route, Status status) {
        log.refused(AuditEntry.of("refused", who, from(request), request.prologue().method().text(), route),
                status.code());
    }

    /** Writes the request's outcome once: the first call wins (an error's status, then its JSON answer being sent). */
    private static void finish(Audited audited, int status) {
        if (audited.finished) {
            return;
        }
        audited.finished = true;
        if (audited.pending != null) {
            audited.pending.complete(status, audited.madeJobId);
        } else if (!audited.refused) {
            // Refused before it said what it was about: nothing was done, so a failure is only logged.
            audited.log.record(audited.entry, status);
        }
    }

    private static int statusOf(RuntimeException e) {
        return switch (e) {
            case ApiException a -> a.status().code();
            case SchedulerException s -> ErrorStatus.of(s).code();
            case HttpException h -> h.status().code();
            default -> 500;
        };
    }

    /** The peer's {@code host:port}. */
    static String from(ServerRequest request) {
        String host = request.remotePeer().host();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + request.remotePeer().port();
    }
}
