package io.jobscheduler.security;

import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.helidon.webserver.grpc.GrpcConnectionContext;
import io.helidon.webserver.grpc.ServerContextKeys;
import java.util.Objects;
import java.util.function.Function;

/**
 * Audit lines of the scheduler's gRPC calls that change the cluster (a worker registering or
 * deregistering): who ({@link PeerIdentityInterceptor#current()} when the caller showed a
 * certificate, else {@code anonymous}), from where, and the outcome, written when the call
 * answers. These are not refused when the log cannot be written (a worker's membership is no
 * job run): a failure is logged.
 */
public final class GrpcAudit {
    private final AuditLog log;

    public GrpcAudit(AuditLog log) {
        this.log = Objects.requireNonNull(log, "log");
    }

    /**
     * {@code responses}, recording the call's line when it answers: {@code entry} as known from
     * the request, completed by {@code outcome} from the answer (its worker id, its status).
     * Call on the call's own thread: the caller is read from its gRPC context.
     */
    public <R> StreamObserver<R> observing(String event, String method, StreamObserver<R> responses,
                                           Function<AuditEntry, AuditEntry> request,
                                           Function<R, Outcome> outcome) {
        if (!log.enabled()) {
            return responses;
        }
        AuditEntry entry = request.apply(AuditEntry.of(event, who(), from(), "gRPC", method));
        return new StreamObserver<>() {
            @Override
            public void onNext(R value) {
                Outcome o = outcome.apply(value);
                log.record(o.workerId() == null ? entry : entry.worker(o.workerId()), o.status());
                responses.onNext(value);
            }

            @Override
            public void onError(Throwable t) {
                log.record(entry, Status.fromThrowable(t).getCode().name());
                responses.onError(t);
            }

            @Override
            public void onCompleted() {
                responses.onCompleted();
            }
        };
    }

    /** What an answer says: the worker it is about (null when it does not say) and its status word. */
    public record Outcome(String workerId, String status) {
    }

    private static String who() {
        return PeerIdentityInterceptor.current().map(Identity::toString).orElse("anonymous");
    }

    private static String from() {
        GrpcConnectionContext connection = ServerContextKeys.CONNECTION_CONTEXT.get();
        if (connection == null) {
            return null;
        }
        String host = connection.remotePeer().host();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + connection.remotePeer().port();
    }
}
