package io.jobscheduler.scheduler;

import io.grpc.BindableService;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.jobscheduler.config.Address;
import io.jobscheduler.grpc.DeregisterReq;
import io.jobscheduler.grpc.DeregisterRes;
import io.jobscheduler.grpc.RegisterReq;
import io.jobscheduler.grpc.RegisterRes;
import io.jobscheduler.grpc.SchedulerGrpc;
import io.jobscheduler.rpc.StatusText;
import io.jobscheduler.security.GrpcAudit;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Consumer;

/** The scheduler's gRPC edge: workers join and leave the {@link WorkerRegistry} here. */
public final class SchedulerGrpcService implements SchedulerGrpc.AsyncService, BindableService {
    private final WorkerRegistry registry;
    private final Consumer<UUID> departing;
    private final InFlight inFlight = new InFlight();
    private final long ttlMillis;
    private final long heartbeatMillis;
    private final GrpcAudit audit;

    /**
     * @param workerTtl how long a worker may stay silent; heartbeats are asked for as {@link WorkerWatch#heartbeat} says
     * @param departing told of a registered worker that deregisters, before it is removed (it may
     *                  still call the worker, within a deadline: no lock is held)
     * @param audit where each registration and deregistration is recorded
     */
    public SchedulerGrpcService(WorkerRegistry registry, Duration workerTtl, Consumer<UUID> departing,
                                GrpcAudit audit) {
        this.audit = Objects.requireNonNull(audit, "audit");
        this.registry = Objects.requireNonNull(registry, "registry");
        this.departing = Objects.requireNonNull(departing, "departing");
        this.ttlMillis = workerTtl.toMillis();
        this.heartbeatMillis = WorkerWatch.heartbeat(workerTtl).toMillis();
    }

    /** Refuses new calls and waits up to {@code timeout} for those in progress to finish. */
    boolean drain(Duration timeout) throws InterruptedException {
        return inFlight.drain(timeout);
    }

    /** Every status this service answers is bounded and encoded for the wire (docs/helidon-notes.md, "HPACK"). */
    @Override
    public ServerServiceDefinition bindService() {
        return StatusText.bound(SchedulerGrpc.bindService(this));
    }

    @Override
    public void registerWorker(RegisterReq request, StreamObserver<RegisterRes> answer) {
        StreamObserver<RegisterRes> responses = audit.observing("worker_register", "RegisterWorker", answer,
                entry -> entry.address(request.getAddress()).worker(request.getWorkerID()),
                res -> new GrpcAudit.Outcome(res.getWorkerID(), "OK"));
        if (!inFlight.enter()) {
            responses.onError(shuttingDown());
            return;
        }
        try {
            register(request, responses);
        } finally {
            inFlight.exit();
        }
    }

    private void register(RegisterReq request, StreamObserver<RegisterRes> responses) {
        Address address;
        try {
            address = Address.parse(request.getAddress(), false);
        } catch (IllegalArgumentException e) {
            responses.onError(Status.INVALID_ARGUMENT.withDescription("address: " + e.getMessage()).asRuntimeException());
            return;
        }
        if (address.isWildcard()) {
            responses.onError(Status.INVALID_ARGUMENT
                    .withDescription("address: '" + request.getAddress() + "' is a wildcard address the scheduler cannot dial")
                    .asRuntimeException());
            return;
        }
        WorkerRecord worker = registry.register(address, request.getWorkerID(), request.getFeaturesList(),
                request.getEnforcedLimitsList());
        responses.onNext(RegisterRes.newBuilder()
                .setSuccess(true)
                .setWorkerID(worker.id().toString())
                .setTtlMillis(ttlMillis)
                .setHeartbeatMillis(heartbeatMillis)
                .build());
        responses.onCompleted();
    }

    @Override
    public void deregisterWorker(DeregisterReq request, StreamObserver<DeregisterRes> answer) {
        StreamObserver<DeregisterRes> responses = audit.observing("worker_deregister", "DeregisterWorker", answer,
                entry -> entry.worker(request.getWorkerID()),
                res -> new GrpcAudit.Outcome(null, res.getSuccess() ? "OK" : "NOT_FOUND"));
        if (!inFlight.enter()) {
            responses.onError(shuttingDown());
            return;
        }
        try {
            deregister(request, responses);
        } finally {
            inFlight.exit();
        }
    }

    private static io.grpc.StatusRuntimeException shuttingDown() {
        return Status.UNAVAILABLE.withDescription("the scheduler is shutting down").asRuntimeException();
    }

    private void deregister(DeregisterReq request, StreamObserver<DeregisterRes> responses) {
        // The original contract answers success=false (not an error status) for an id it does not know.
        Optional<UUID> id = WorkerRegistry.parseId(request.getWorkerID()).filter(known -> registry.find(known).isPresent());
        id.ifPresent(departing);
        boolean removed = id.map(registry::deregister).orElse(false);
        responses.onNext(DeregisterRes.newBuilder().setSuccess(removed).build());
        responses.onCompleted();
    }
}
