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
import io.jobscheduler.security.HostSan;
import io.jobscheduler.security.Identity;
import io.jobscheduler.security.PeerIdentityInterceptor;
import io.jobscheduler.security.WorkerIdentities;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * The scheduler's gRPC edge: workers join and leave the {@link WorkerRegistry} here. With mutual
 * TLS ({@link WorkerIdentities}), a worker's id is the one its certificate owns, it may register
 * only an address its certificate names, and it may deregister only itself: nothing a caller
 * sends can take another worker's id (docs/architecture.md, "Identity-bound worker ids").
 */
public final class SchedulerGrpcService implements SchedulerGrpc.AsyncService, BindableService {
    private static final int MAX_LABELS = 64;
    private final WorkerRegistry registry;
    private final Consumer<UUID> departing;
    private final InFlight inFlight = new InFlight();
    private final long ttlMillis;
    private final GrpcAudit audit;
    private final Optional<WorkerIdentities> identities;

    /**
     * @param workerTtl how long a worker may go without a watch open before it registers again
     *                  ({@code ttl_millis}); heartbeats are asked for as {@link WorkerRegistry#heartbeat} says
     * @param departing told of a registered worker that deregisters, before it is removed (it may
     *                  still call the worker, within a deadline: no lock is held)
     * @param audit where each registration and deregistration is recorded
     */
    public SchedulerGrpcService(WorkerRegistry registry, Duration workerTtl, Consumer<UUID> departing,
                                GrpcAudit audit) {
        this(registry, workerTtl, departing, audit, Optional.empty());
    }

    /**
     * @param identities with mutual TLS, what each worker certificate entitles its holder to; the
     *                   socket must then admit only the worker role ({@code PeerIdentityInterceptor})
     */
    public SchedulerGrpcService(WorkerRegistry registry, Duration workerTtl, Consumer<UUID> departing,
                                GrpcAudit audit, Optional<WorkerIdentities> identities) {
        this.audit = Objects.requireNonNull(audit, "audit");
        this.identities = Objects.requireNonNull(identities, "identities");
        this.registry = Objects.requireNonNull(registry, "registry");
        this.departing = Objects.requireNonNull(departing, "departing");
        this.ttlMillis = workerTtl.toMillis();
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
        // Labels are kept and shown: a peer's are bounded like a worker.toml's.
        if (request.getLabelsCount() > MAX_LABELS || request.getLabelsMap().entrySet().stream()
                .anyMatch(l -> l.getKey().isEmpty() || l.getKey().length() > 63 || l.getValue().length() > 256)) {
            responses.onError(Status.INVALID_ARGUMENT.withDescription("labels: at most " + MAX_LABELS
                    + ", names of 1-63 characters, values of at most 256").asRuntimeException());
            return;
        }
        if (request.getMaxRunning() < 0) {
            responses.onError(Status.INVALID_ARGUMENT.withDescription("max_running: must not be negative, was "
                    + request.getMaxRunning()).asRuntimeException());
            return;
        }
        WorkerRegistry.Advertised advertised = new WorkerRegistry.Advertised(request.getFeaturesList(),
                request.getEnforcedLimitsList(), request.getLabelsMap(), request.getMaxRunning());
        WorkerRecord worker;
        if (identities.isPresent()) {
            Optional<Caller> owner = owner(identities.get(), address, request.getWorkerID(), responses);
            if (owner.isEmpty()) {
                return;
            }
            worker = registry.registerOwned(owner.get().ownedId(), owner.get().identity(), address, advertised);
        } else {
            worker = registry.register(address, request.getWorkerID(), advertised);
        }
        responses.onNext(RegisterRes.newBuilder()
                .setSuccess(true)
                .setWorkerID(worker.id().toString())
                .setTtlMillis(ttlMillis)
                .setHeartbeatMillis(registry.heartbeat().toMillis())
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
        Optional<UUID> asked = WorkerRegistry.parseId(request.getWorkerID());
        if (identities.isPresent() && asked.isPresent()) {
            Optional<Caller> caller = caller(identities.get(), responses);
            if (caller.isEmpty()) {
                return;
            }
            if (!caller.get().ownedId().equals(asked.get())) {
                responses.onError(Status.PERMISSION_DENIED.withDescription(caller.get().identity() + " owns worker id "
                        + caller.get().ownedId() + " and may not deregister " + asked.get()).asRuntimeException());
                return;
            }
        }
        // The original contract answers success=false (not an error status) for an id it does not know.
        Optional<UUID> id = asked.filter(known -> registry.find(known).isPresent());
        id.ifPresent(departing);
        boolean removed = id.map(registry::deregister).orElse(false);
        responses.onNext(DeregisterRes.newBuilder().setSuccess(removed).build());
        responses.onCompleted();
    }

    /** A verified worker certificate, its identity and the worker id that identity owns. */
    private record Caller(Identity identity, X509Certificate certificate, UUID ownedId) {
    }

    /** The caller of this call (the interceptor admitted it), or empty once refused. */
    private static Optional<Caller> caller(WorkerIdentities identities, StreamObserver<?> responses) {
        Optional<Identity> identity = PeerIdentityInterceptor.current();
        Optional<X509Certificate> certificate = PeerIdentityInterceptor.currentCertificate();
        if (identity.isEmpty() || certificate.isEmpty()) {
            responses.onError(Status.PERMISSION_DENIED
                    .withDescription("a worker certificate is required to register or deregister").asRuntimeException());
            return Optional.empty();
        }
        return Optional.of(new Caller(identity.get(), certificate.get(),
                identities.workerId(identity.get(), certificate.get())));
    }

    /**
     * The caller, whose certificate owns an id, when it may register {@code address}: an address among
     * its IP/DNS SANs, and no request for an id another worker holds elsewhere (the hijack of
     * docs/architecture.md). An id it held before mutual TLS, now unknown, is simply replaced.
     */
    private Optional<Caller> owner(WorkerIdentities identities, Address address, String requestedId,
                                   StreamObserver<RegisterRes> responses) {
        Optional<Caller> caller = caller(identities, responses);
        if (caller.isEmpty()) {
            return Optional.empty();
        }
        Caller who = caller.get();
        if (!WorkerIdentities.names(who.certificate(), address.host())) {
            responses.onError(Status.PERMISSION_DENIED.withDescription("address: " + address.host()
                    + " is not among the IP/DNS names of the certificate of " + who.identity() + " "
                    + WorkerIdentities.hostSans(who.certificate()).stream().map(HostSan::text).toList())
                    .asRuntimeException());
            return Optional.empty();
        }
        Optional<UUID> requested = WorkerRegistry.parseId(requestedId).filter(id -> !id.equals(who.ownedId()));
        Optional<WorkerRecord> holder = requested.flatMap(registry::find).filter(r -> !r.address().equals(address));
        if (holder.isPresent()) {
            responses.onError(Status.PERMISSION_DENIED.withDescription("worker_id: " + holder.get().id()
                    + " is another worker's (at " + holder.get().address() + "); " + who.identity()
                    + " owns worker id " + who.ownedId()).asRuntimeException());
            return Optional.empty();
        }
        return Optional.of(who);
    }
}
