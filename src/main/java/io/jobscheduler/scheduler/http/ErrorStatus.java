package io.jobscheduler.scheduler.http;

import io.helidon.http.Header;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.Status;
import io.jobscheduler.scheduler.SchedulerException;
import java.util.List;

/**
 * The one mapping of the scheduler's domain failures to HTTP statuses (api.md; the gRPC codes a
 * worker answers with keep their meaning, docs/architecture.md "Wire contract").
 */
final class ErrorStatus {
    private ErrorStatus() {
    }

    static Status of(SchedulerException e) {
        return switch (e) {
            case SchedulerException.UnknownWorker u -> Status.NOT_FOUND_404;
            case SchedulerException.UnknownJob u -> Status.NOT_FOUND_404;
            case SchedulerException.WorkerDown d -> Status.SERVICE_UNAVAILABLE_503;
            case SchedulerException.WorkerLeft l -> Status.SERVICE_UNAVAILABLE_503;
            case SchedulerException.WorkerAlive a -> Status.CONFLICT_409;
            case SchedulerException.WorkerUnavailable u -> Status.SERVICE_UNAVAILABLE_503;
            case SchedulerException.WorkerOutOfResources r -> Status.SERVICE_UNAVAILABLE_503;
            case SchedulerException.ShuttingDown s -> Status.SERVICE_UNAVAILABLE_503;
            case SchedulerException.WorkerTooSlow t -> Status.GATEWAY_TIMEOUT_504;
            case SchedulerException.WorkerBroke b -> Status.BAD_GATEWAY_502;
            case SchedulerException.WorkerLacksFeature f -> Status.NOT_IMPLEMENTED_501;
            case SchedulerException.WorkerRefused r -> switch (r.code()) {
                case INVALID_ARGUMENT -> Status.BAD_REQUEST_400;
                case PERMISSION_DENIED -> Status.FORBIDDEN_403;
                case NOT_FOUND -> Status.NOT_FOUND_404;
                case FAILED_PRECONDITION -> Status.UNPROCESSABLE_CONTENT_422;
                case UNIMPLEMENTED -> Status.NOT_IMPLEMENTED_501;
                default -> Status.BAD_GATEWAY_502;
            };
        };
    }

    /** Headers the answer carries: {@code Retry-After} when the worker is out of resources. */
    static List<Header> headers(SchedulerException e) {
        return e instanceof SchedulerException.WorkerOutOfResources r
                ? List.of(HeaderValues.create(HeaderNames.RETRY_AFTER, Long.toString(r.retryAfter().toSeconds())))
                : List.of();
    }
}
