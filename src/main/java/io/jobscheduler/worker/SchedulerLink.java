package io.jobscheduler.worker;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.helidon.common.tls.Tls;
import io.helidon.common.configurable.Resource;
import io.helidon.webclient.grpc.GrpcClient;
import io.jobscheduler.concurrent.Conditions;
import io.jobscheduler.config.Address;
import io.jobscheduler.config.WorkerSettings;
import io.jobscheduler.grpc.DeregisterReq;
import io.jobscheduler.grpc.RegisterReq;
import io.jobscheduler.grpc.RegisterRes;
import io.jobscheduler.grpc.SchedulerGrpc;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * The worker's membership in the cluster: registers with the scheduler (retrying with backoff
 * while it cannot be reached, so start order does not matter), keeps the id it was given in
 * {@code data_dir}, and deregisters on shutdown.
 *
 * <p>Calls use Helidon's gRPC client, which connects per call and ignores deadlines
 * (docs/helidon-notes.md, "gRPC clients"), so every call runs on its own virtual thread and is
 * bounded by our own timeout. The registration advertises {@link #FEATURES}.
 */
final class SchedulerLink implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(SchedulerLink.class.getName());
    private static final Duration FIRST_BACKOFF = Duration.ofMillis(100);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(2);
    /**
     * What this worker supports beyond the original contract: "events" (docs/architecture.md, "Job
     * events"), and StartJobReq's "args", "env", "timeout", "user" and "limits" (README, "Jobs").
     */
    static final List<String> FEATURES = List.of("events", "args", "env", "timeout", "user", "limits");
    private static final Set<Status.Code> REFUSALS = EnumSet.of(Status.Code.PERMISSION_DENIED,
            Status.Code.UNAUTHENTICATED, Status.Code.INVALID_ARGUMENT);

    private final WorkerSettings settings;
    private final SchedulerContact contact;
    private final List<String> enforcedLimits;
    private final GrpcClient client;
    private final Path idFile;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private String workerId;        // guarded by lock; null until registered
    private boolean registered;     // guarded by lock
    private boolean registering;    // guarded by lock: a RegisterWorker call is in flight
    private boolean closed;         // guarded by lock
    private Thread registrar;
    private volatile Address advertised;
    private String lastRefusal;     // the registrar thread's own

    SchedulerLink(WorkerSettings settings, SchedulerContact contact) {
        this(settings, contact, List.of());
    }

    /** @param enforcedLimits what the worker enforces, sent at registration (RegisterReq.enforced_limits) */
    SchedulerLink(WorkerSettings settings, SchedulerContact contact, List<String> enforcedLimits) {
        this.enforcedLimits = List.copyOf(enforcedLimits);
        this.settings = settings;
        this.contact = contact;
        this.idFile = settings.dataDir().resolve("worker-id");
        this.client = GrpcClient.builder()
                .baseUri((settings.schedulerTls().isPresent() ? "https://" : "http://") + settings.schedulerAddress())
                .tls(tls(settings))
                .socketOptions(o -> o.tcpNoDelay(true).connectTimeout(settings.callTimeout()))
                .readTimeout(settings.callTimeout())
                .build();
        this.workerId = readSavedId().orElse(null);
    }

    private static Tls tls(WorkerSettings settings) {
        return settings.schedulerTls()
                .map(ca -> Tls.builder()
                        .trust(t -> t.pem(p -> p.certificates(Resource.create(ca.caFile()))))
                        // With scheduler.crt_file: mutual TLS, the worker presents its certificate.
                        .update(b -> ca.certificate().ifPresent(own -> b
                                .privateKey(key -> key.pem(pem -> pem.key(Resource.create(own.keyFile()))))
                                .privateKeyCertChain(chain -> chain.pem(pem -> pem.certChain(
                                        Resource.create(own.certificateFile()))))))
                        .build())
                .orElseGet(() -> Tls.builder().enabled(false).build());
    }

    /** Registers in the background as reachable at {@code advertised}, and stays registered until closed. */
    void start(Address advertised) {
        this.advertised = advertised;
        registrar = Thread.ofVirtual().name("register").start(this::run);
    }

    /** The id the scheduler knows this worker by, once registered. */
    Optional<String> workerId() {
        lock.lock();
        try {
            return Optional.ofNullable(workerId);
        } finally {
            lock.unlock();
        }
    }

    private void setRegistering(boolean value) {
        lock.lock();
        try {
            registering = value;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * The worker's id once no registration is in flight (waiting up to the call timeout). The
     * scheduler opens its watch while it answers a registration, so the watch can arrive before
     * the answer that tells this worker its id.
     */
    Optional<String> settledWorkerId() throws InterruptedException {
        lock.lock();
        try {
            Conditions.await(changed, () -> !registering, settings.callTimeout());
            return Optional.ofNullable(workerId);
        } finally {
            lock.unlock();
        }
    }

    /** Waits until registered; true when registered within the timeout. */
    boolean awaitRegistered(Duration timeout) throws InterruptedException {
        lock.lock();
        try {
            return Conditions.await(changed, () -> registered, timeout);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Registers, then stays registered: whenever the scheduler loses touch for its time-to-live
     * (it restarted, or dropped this worker), registers again asking to keep the same id.
     */
    private void run() {
        try {
            Optional<Duration> ttl;
            while ((ttl = registerUntilDone()).isPresent()) {
                if (!contact.awaitLost(ttl.get())) {
                    return;
                }
                LOG.log(System.Logger.Level.INFO, "no word from scheduler " + settings.schedulerAddress() + " for "
                        + ttl.get().toMillis() + " ms; registering again as " + workerId().orElse("a new worker"));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Registers with backoff until it succeeds or the link closes. Answers the scheduler's
     * time-to-live, or empty when closed. A scheduler that sets no time-to-live (the original
     * contract) never watches its workers, so the wait for lost touch is unbounded.
     */
    private Optional<Duration> registerUntilDone() {
        Duration backoff = FIRST_BACKOFF;
        while (true) {
            String requested = workerId().orElse("");
            setRegistering(true);
            try {
                RegisterRes answer = call(() -> stub().registerWorker(RegisterReq.newBuilder()
                        .setAddress(advertised.toString())
                        .setWorkerID(requested)
                        .addAllFeatures(FEATURES)
                        .addAllEnforcedLimits(enforcedLimits)
                        .build()));
                // Schedulers exist that never set success: an id is what counts.
                if (!answer.getWorkerID().isEmpty()) {
                    saveId(answer.getWorkerID());
                    contact.registered();
                    lock.lock();
                    try {
                        workerId = answer.getWorkerID();
                        registered = true;
                        changed.signalAll();
                    } finally {
                        lock.unlock();
                    }
                    LOG.log(System.Logger.Level.INFO, "registered with scheduler " + settings.schedulerAddress()
                            + " as worker " + answer.getWorkerID());
                    // Ten years stands for "never": such a scheduler never watches, so never loses touch.
                    return Optional.of(answer.getTtlMillis() > 0 ? Duration.ofMillis(answer.getTtlMillis())
                            : Duration.ofDays(3650));
                }
                LOG.log(System.Logger.Level.WARNING, "scheduler refused registration; retrying");
            } catch (CallFailedException e) {
                if (e.refused) {
                    // Said once per reason, not on every retry; the id file is left as it is.
                    if (!e.getMessage().equals(lastRefusal)) {
                        lastRefusal = e.getMessage();
                        LOG.log(System.Logger.Level.WARNING, "scheduler " + settings.schedulerAddress()
                                + " refused the registration of " + advertised + " (worker id "
                                + (requested.isEmpty() ? "none yet" : requested + " kept in " + idFile) + "), retrying: "
                                + e.getMessage());
                    } else {
                        LOG.log(System.Logger.Level.DEBUG, "registration refused again: " + e.getMessage());
                    }
                } else {
                    LOG.log(System.Logger.Level.DEBUG, "scheduler not reachable: " + e.getMessage());
                }
            } finally {
                setRegistering(false);
            }
            if (!awaitClosed(jittered(backoff))) {
                return Optional.empty();
            }
            backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
        }
    }

    /** Waits for the backoff; false when the link closed meanwhile. */
    private boolean awaitClosed(Duration wait) {
        lock.lock();
        try {
            return !Conditions.await(changed, () -> closed, wait);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        } finally {
            lock.unlock();
        }
    }

    private static Duration jittered(Duration backoff) {
        long millis = backoff.toMillis();
        return Duration.ofMillis(millis / 2 + ThreadLocalRandom.current().nextLong(millis / 2 + 1));
    }

    /** Stops registering and, when registered, deregisters within the call timeout. */
    @Override
    public void close() {
        String id;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            changed.signalAll();
            id = registered ? workerId : null;
        } finally {
            lock.unlock();
        }
        contact.close();
        if (registrar != null) {
            registrar.interrupt();
        }
        if (id != null) {
            try {
                boolean removed = call(() -> stub().deregisterWorker(DeregisterReq.newBuilder().setWorkerID(id).build()))
                        .getSuccess();
                LOG.log(System.Logger.Level.INFO, "deregistered worker " + id + (removed ? "" : " (scheduler did not know it)"));
            } catch (CallFailedException e) {
                LOG.log(System.Logger.Level.WARNING, "could not deregister worker " + id + ": " + e.getMessage());
            }
        }
    }

    private SchedulerGrpc.SchedulerBlockingStub stub() {
        return SchedulerGrpc.newBlockingStub(client.channel());
    }

    /** Runs one call on its own virtual thread, bounded by the call timeout. */
    private <T> T call(Supplier<T> body) throws CallFailedException {
        CompletableFuture<T> result = new CompletableFuture<>();
        Thread thread = Thread.ofVirtual().start(() -> {
            try {
                result.complete(body.get());
            } catch (RuntimeException e) {
                result.completeExceptionally(e);
            }
        });
        try {
            return result.get(settings.callTimeout().toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            thread.interrupt();
            throw new CallFailedException("no answer within " + settings.callTimeout().toMillis() + " ms");
        } catch (ExecutionException e) {
            // A status the scheduler answered (not a transport failure) is a refusal of this request.
            boolean refused = e.getCause() instanceof StatusRuntimeException status
                    && REFUSALS.contains(status.getStatus().getCode());
            // Helidon's client leaves the description out of the exception's message.
            String why = e.getCause() instanceof StatusRuntimeException status && status.getStatus().getDescription() != null
                    ? status.getStatus().getCode() + ": " + status.getStatus().getDescription()
                    : String.valueOf(e.getCause().getMessage());
            throw new CallFailedException(why, refused);
        } catch (InterruptedException e) {
            thread.interrupt();
            Thread.currentThread().interrupt();
            throw new CallFailedException("interrupted");
        }
    }

    private Optional<String> readSavedId() {
        try {
            return Files.isRegularFile(idFile)
                    ? Optional.of(Files.readString(idFile, StandardCharsets.UTF_8).strip()).filter(s -> !s.isEmpty())
                    : Optional.empty();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot read " + idFile + ": " + e.getMessage());
            return Optional.empty();
        }
    }

    private void saveId(String id) {
        try {
            Files.createDirectories(idFile.getParent());
            Path temp = Files.writeString(idFile.resolveSibling("worker-id.tmp"), id + "\n");
            Files.move(temp, idFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot save worker id to " + idFile + ": " + e.getMessage());
        }
    }

    /** A call to the scheduler that did not answer: unreachable, refused, or too slow. */
    static final class CallFailedException extends Exception {
        /** The scheduler answered, refusing the request (not unreachable, not too slow). */
        final boolean refused;

        CallFailedException(String message) {
            this(message, false);
        }

        CallFailedException(String message, boolean refused) {
            super(message);
            this.refused = refused;
        }
    }
}
