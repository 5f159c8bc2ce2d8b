package io.jobscheduler.scheduler;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import io.jobscheduler.grpc.Heartbeat;
import io.jobscheduler.grpc.WatchReq;
import io.jobscheduler.grpc.WorkerGrpc;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

import static java.lang.System.Logger.Level.INFO;

/**
 * Which workers are alive. Each registered worker gets a held-open {@code Watch} stream on a
 * long-lived channel of its own and sends a heartbeat three times per time-to-live: a stream that breaks (the
 * worker's process died, its connection dropped) makes the worker {@code DOWN} at once; silence
 * for the time-to-live (hung, paused, cut off) makes it {@code DOWN} at the next sweep; a
 * heartbeat makes it {@code ALIVE} again. A worker that speaks only the original contract
 * answers {@code UNIMPLEMENTED}, which is an answer: it is polled and alive while it answers.
 * A worker down for longer than the expiry is removed from the registry.
 *
 * <p>Heartbeats arrive on grpc-java's threads and sweeps run on one scheduled thread, so HTTP
 * load on the gateway's virtual threads cannot starve them into a false {@code DOWN}.
 */
public final class WorkerLiveness implements WorkerRegistry.Listener, AutoCloseable {
    private static final System.Logger LOG = System.getLogger(WorkerLiveness.class.getName());

    public enum State { ALIVE, DOWN }

    /** What the scheduler knows of a worker's liveness. */
    public record Health(State state, Instant lastSeen, int runningJobs) {
    }

    /** One worker's watch; replaced, never reused, when the stream is reopened. */
    private static final class Watch {
        final WorkerRecord worker;
        final ManagedChannel channel;
        State state = State.ALIVE;
        Instant lastSeen;
        Instant downSince;
        Instant openedAt;
        int runningJobs;
        ClientCallStreamObserver<WatchReq> call;   // the open stream, to cancel
        long generation;                             // callbacks of an older stream are ignored

        Watch(WorkerRecord worker, ManagedChannel channel, Instant now) {
            this.worker = worker;
            this.channel = channel;
            this.lastSeen = now;
            this.openedAt = now;
        }
    }

    private final WorkerChannels channels;
    private final Duration ttl;
    private final Duration heartbeat;
    private final Duration expiry;
    private final Clock clock;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("liveness").daemon().factory());
    private final ReentrantLock lock = new ReentrantLock();
    private final Map<UUID, Watch> watches = new HashMap<>();   // guarded by lock
    private volatile Consumer<UUID> expire = id -> { };

    public WorkerLiveness(WorkerChannels channels, Duration ttl, Duration expiry, Clock clock) {
        this.channels = channels;
        this.ttl = ttl;
        // Three beats per time-to-live: one late or lost beat never makes a worker down by itself.
        this.heartbeat = Duration.ofMillis(Math.max(50, ttl.toMillis() / 3));
        this.expiry = expiry;
        this.clock = clock;
    }

    /** Begins sweeping; {@code expire} removes a worker that has been down beyond the expiry. */
    public void start(Consumer<UUID> expire) {
        this.expire = expire;
        long period = Math.max(20, Math.min(heartbeat.toMillis(), ttl.toMillis() / 10));
        timer.scheduleWithFixedDelay(this::sweep, period, period, TimeUnit.MILLISECONDS);
    }

    public Optional<Health> health(UUID workerId) {
        lock.lock();
        try {
            Watch watch = watches.get(workerId);
            return watch == null ? Optional.empty()
                    : Optional.of(new Health(watch.state, watch.lastSeen, watch.runningJobs));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void added(WorkerRecord worker) {
        Optional<ManagedChannel> channel = channels.watchChannel(worker.id());
        if (channel.isEmpty()) {
            return;
        }
        Watch watch = new Watch(worker, channel.get(), clock.instant());
        Watch previous;
        lock.lock();
        try {
            previous = watches.put(worker.id(), watch);
        } finally {
            lock.unlock();
        }
        cancel(previous);
        open(watch);
    }

    @Override
    public void removed(WorkerRecord worker) {
        Watch watch;
        lock.lock();
        try {
            watch = watches.remove(worker.id());
        } finally {
            lock.unlock();
        }
        cancel(watch);
    }

    private void open(Watch watch) {
        long generation;
        lock.lock();
        try {
            if (watches.get(watch.worker.id()) != watch) {
                return;
            }
            generation = ++watch.generation;
            watch.openedAt = clock.instant();
        } finally {
            lock.unlock();
        }
        WatchReq request = WatchReq.newBuilder().setWorkerID(watch.worker.id().toString())
                .setHeartbeatMillis(heartbeat.toMillis()).build();
        WorkerGrpc.newStub(watch.channel).watch(request, new ClientResponseObserver<WatchReq, Heartbeat>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<WatchReq> call) {
                lock.lock();
                try {
                    watch.call = call;
                } finally {
                    lock.unlock();
                }
            }

            @Override
            public void onNext(Heartbeat beat) {
                seen(watch, generation, beat.getRunningJobs());
            }

            @Override
            public void onError(Throwable t) {
                ended(watch, generation, Status.fromThrowable(t));
            }

            @Override
            public void onCompleted() {
                ended(watch, generation, Status.UNAVAILABLE.withDescription("worker ended its watch"));
            }
        });
    }

    private void seen(Watch watch, long generation, int runningJobs) {
        boolean revived;
        lock.lock();
        try {
            if (watch.generation != generation) {
                return;
            }
            revived = watch.state == State.DOWN;
            watch.state = State.ALIVE;
            watch.lastSeen = clock.instant();
            watch.downSince = null;
            watch.runningJobs = runningJobs;
        } finally {
            lock.unlock();
        }
        if (revived) {
            LOG.log(INFO, "worker " + watch.worker.id() + " at " + watch.worker.address() + " is alive again");
        }
    }

    private void ended(Watch watch, long generation, Status status) {
        lock.lock();
        try {
            if (watches.get(watch.worker.id()) != watch || watch.generation != generation) {
                return;     // a stream this class cancelled or replaced
            }
        } finally {
            lock.unlock();
        }
        if (status.getCode() == Status.Code.UNIMPLEMENTED) {
            // An original-contract worker: its answer is the sign of life; ask again next beat.
            seen(watch, generation, 0);
        } else {
            markDown(watch, generation, status.getCode() + (status.getDescription() == null ? ""
                    : ": " + status.getDescription()));
        }
        timer.schedule(() -> open(watch), heartbeat.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void markDown(Watch watch, long generation, String why) {
        lock.lock();
        try {
            if (watch.generation != generation || watch.state == State.DOWN) {
                return;
            }
            watch.state = State.DOWN;
            watch.downSince = clock.instant();
        } finally {
            lock.unlock();
        }
        LOG.log(INFO, "worker " + watch.worker.id() + " at " + watch.worker.address() + " is down: " + why);
    }

    /** Marks silent workers down and hands expired ones to the registry for removal. */
    private void sweep() {
        Instant now = clock.instant();
        List<Watch> silent = new ArrayList<>();
        List<Watch> stale = new ArrayList<>();
        List<UUID> expired = new ArrayList<>();
        lock.lock();
        try {
            for (Watch watch : watches.values()) {
                Duration quiet = Duration.between(watch.lastSeen, now);
                if (watch.state == State.ALIVE && quiet.compareTo(ttl) > 0) {
                    silent.add(watch);
                } else if (watch.state == State.DOWN && Duration.between(watch.downSince, now).compareTo(expiry) > 0) {
                    expired.add(watch.worker.id());
                } else if (watch.state == State.DOWN && quiet.compareTo(ttl.multipliedBy(3)) > 0
                        && Duration.between(watch.openedAt, now).compareTo(ttl.multipliedBy(3)) > 0) {
                    stale.add(watch);
                }
            }
        } finally {
            lock.unlock();
        }
        for (Watch watch : silent) {
            markDown(watch, generationOf(watch), "no heartbeat for " + ttl.toMillis() + " ms");
        }
        for (Watch watch : stale) {
            // A stream silent this long may sit on a dead connection: start a fresh one. Its
            // downSince stays, so the expiry still counts from the first silence.
            cancel(watch);
            open(watch);
        }
        for (UUID id : expired) {
            LOG.log(INFO, "worker " + id + " has been down for over " + expiry.toSeconds() + " s; removing it");
            expire.accept(id);
        }
    }

    private long generationOf(Watch watch) {
        lock.lock();
        try {
            return watch.generation;
        } finally {
            lock.unlock();
        }
    }

    private void cancel(Watch watch) {
        if (watch == null) {
            return;
        }
        ClientCallStreamObserver<WatchReq> call;
        lock.lock();
        try {
            call = watch.call;
            watch.generation++;
        } finally {
            lock.unlock();
        }
        if (call != null) {
            call.cancel("worker left the registry", null);
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
        List<Watch> all;
        lock.lock();
        try {
            all = new ArrayList<>(watches.values());
            watches.clear();
        } finally {
            lock.unlock();
        }
        all.forEach(this::cancel);
    }
}
