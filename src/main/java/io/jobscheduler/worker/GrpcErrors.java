package io.jobscheduler.worker;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.jobscheduler.worker.job.RunnerClosedException;
import io.jobscheduler.worker.job.SpawnException;
import io.jobscheduler.worker.job.StartRefusedException;
import io.jobscheduler.worker.job.UnknownJobException;

/**
 * The worker's one mapping from what went wrong to the gRPC status it answers, for unary and
 * streaming calls alike (the codes and what the HTTP API makes of them: docs/architecture.md,
 * "Wire contract"). Every status then passes through {@code StatusText}, which bounds it.
 */
final class GrpcErrors {
    private static final System.Logger LOG = System.getLogger(GrpcErrors.class.getName());

    private GrpcErrors() {
    }

    /** The status a failure answers; anything else (a job's files that
     * cannot be written, a signal the kernel refused, a failed system call) is INTERNAL, and logged. */
    static StatusRuntimeException toStatus(Throwable failure) {
        return switch (failure) {
            case StatusRuntimeException status -> status;
            case UnknownJobException e -> Status.NOT_FOUND
                    .withDescription("job '" + e.jobId() + "' is not known to this worker").asRuntimeException();
            // A timeout over max_timeout is FAILED_PRECONDITION, as a command that cannot start:
            // the request is well-formed, this worker does not take it (HTTP 422).
            case StartRefusedException e -> (switch (e.reason()) {
                case INVALID -> Status.INVALID_ARGUMENT;
                case FORBIDDEN -> Status.PERMISSION_DENIED;
                case UNACCEPTABLE -> Status.FAILED_PRECONDITION;
            }).withDescription(e.getMessage()).asRuntimeException();
            case SpawnException e when e.workerExhausted() -> {
                // Out of descriptors, memory or disk is the worker's condition, not the command's:
                // the operator needs to hear of it too.
                LOG.log(System.Logger.Level.WARNING, "refused a start: " + e.getMessage());
                yield Status.RESOURCE_EXHAUSTED.withDescription(e.getMessage()).asRuntimeException();
            }
            case SpawnException e -> Status.FAILED_PRECONDITION.withDescription(e.getMessage()).asRuntimeException();
            case RunnerClosedException e -> Status.UNAVAILABLE.withDescription(e.getMessage()).asRuntimeException();
            case InterruptedException e -> Status.CANCELLED.withDescription("interrupted").asRuntimeException();
            default -> internal(failure);
        };
    }

    private static StatusRuntimeException internal(Throwable failure) {
        LOG.log(System.Logger.Level.WARNING, "job call failed", failure);
        return Status.INTERNAL.withDescription(failure.getMessage()).withCause(failure).asRuntimeException();
    }

    static StatusRuntimeException invalid(String message) {
        return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
    }

    /** A unary call's body: answers a value, or throws what {@link #toStatus} maps. */
    interface Unary<T> {
        T call() throws Exception;
    }

    /** Runs a unary call: its value, or its failure as a status. */
    static <T> void unary(StreamObserver<T> response, Unary<T> body) {
        T value;
        try {
            value = body.call();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            response.onError(toStatus(e));
            return;
        } catch (Exception e) {
            response.onError(toStatus(e));
            return;
        }
        response.onNext(value);
        response.onCompleted();
    }
}
