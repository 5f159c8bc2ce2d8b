package io.jobscheduler.scheduler;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;

/**
 * Counts every call the scheduler makes to a worker by method and status, on every channel
 * {@link WorkerConnections} makes (unary calls, the watch, output streams alike).
 */
final class WorkerCallMeter implements ClientInterceptor {
    private final SchedulerMeters meters;

    WorkerCallMeter(SchedulerMeters meters) {
        this.meters = meters;
    }

    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        String name = method.getBareMethodName();
        return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
            @Override
            public void start(Listener<R> listener, Metadata headers) {
                super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                    @Override
                    public void onClose(Status status, Metadata trailers) {
                        meters.workerCall(name, status.getCode());
                        super.onClose(status, trailers);
                    }
                }, headers);
            }
        };
    }
}
