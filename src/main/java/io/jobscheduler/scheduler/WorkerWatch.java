package io.jobscheduler.scheduler;

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
import java.util.Collection;
import java.util.List;
import java.util.UUID;

import static java.lang.System.Logger.Level.INFO;

/**
 * Which workers are alive. Each registered worker gets a held-open {@code Watch} stream on a
 * channel of its own and sends a heartbeat three times per time-to-live: a stream that breaks (the
 * worker's process died, its connection dropped) makes the worker {@code DOWN} at once; silence
 * for the time-to-live (hung, paused, cut off) makes it {@code DOWN} at the next sweep; a
 * heartbeat makes it {@code ALIVE} again.
 *
 * <p>The interval scales with the cluster, so that the workers together send at most
 * {@link #MAX_HEARTBEATS_PER_SECOND} heartbeats a second (Nomad's cap): it is
 * {@link #heartbeat(Duration, int, int)} of the number of registered workers, and a worker may be
 * silent for three of its intervals (the time-to-live, scaled alike). Each stream is asked for
 * the interval of the cluster's size when it opens; a sweep reopens those whose interval is off
 * by more than a factor of two as the cluster grows or shrinks.
 *
 * <p>A worker that speaks only the original contract answers {@code UNIMPLEMENTED}, which is an
 * answer: it is polled (once an interval) and alive while it answers.
 * A worker down for longer than the expiry is handed back for removal.
 *
 * <p>Time comes only from the injected {@link Clock}, and everything that waits on it (silence,
 * reopening a stream, expiry) happens in {@link #sweep}, which the owner calls on a ticker of its
 * choice: tests advance the clock and sweep instead of sleeping. Heartbeats arrive on grpc-java's
 * threads, so HTTP load on the gateway's virtual threads cannot starve them into a false {@code DOWN}.
 */
final class WorkerWatch {
    private static final System.Logger LOG = System.getLogger(WorkerWatch.class.getName());

    /** The most heartbeats a second all workers together are asked to send, once there are more than a few. */
    static final int MAX_HEARTBEATS_PER_SECOND = 50;

    private final Duration ttl;
    /** The interval of a small cluster, and the wait before reopening a stream that broke. */
    private final Duration heartbeat;
    private final int heartbeatsPerSecond;
    private final Duration expiry;
    private final Clock clock;
    private final JobSync sync;
    private final Wakeup placement;
    private final SchedulerMeters meters;

    WorkerWatch(Duration ttl, Duration expiry, Clock clock, JobSync sync) {
        this(ttl, expiry, clock, sync, SchedulerMeters.NONE, new Wakeup());
    }

    WorkerWatch(Duration ttl, Duration expiry, Clock clock, JobSync sync, SchedulerMeters meters) {
        this(ttl, expiry, clock, sync, meters, new Wakeup());
    }

    /** @param placement woken when a worker comes back, tells another capacity, or may take starts again */
    WorkerWatch(Duration ttl, Duration expiry, Clock clock, JobSync sync, SchedulerMeters meters, Wakeup placement) {
        this(ttl, expiry, clock, sync, meters, placement, MAX_HEARTBEATS_PER_SECOND);
    }

    /** @param heartbeatsPerSecond the cluster-wide cap ({@link #MAX_HEARTBEATS_PER_SECOND}; tests choose a small one) */
    WorkerWatch(Duration ttl, Duration expiry, Clock clock, JobSync sync, SchedulerMeters meters, Wakeup placement,
                int heartbeatsPerSecond) {
        if (heartbeatsPerSecond <= 0) {
            throw new IllegalArgumentException("heartbeats per second must be positive, was " + heartbeatsPerSecond);
        }
        this.heartbeatsPerSecond = heartbeatsPerSecond;
        this.placement = placement;
        this.meters = meters;
        this.ttl = ttl;
        this.heartbeat = heartbeat(ttl);
        this.expiry = expiry;
        this.clock = clock;
        this.sync = sync;
    }

    /** How often a worker is asked to send a heartbeat: three beats per time-to-live, so one late beat never makes it down. */
    static Duration heartbeat(Duration ttl) {
        return Duration.ofMillis(Math.max(50, ttl.toMillis() / 3));
    }

    /**
     * The interval in a cluster of {@code workers}: {@code max(ttl / 3, workers / heartbeatsPerSecond)},
     * so that they send at most {@code heartbeatsPerSecond} heartbeats a second together.
     */
    static Duration heartbeat(Duration ttl, int workers, int heartbeatsPerSecond) {
        long spread = Math.ceilDiv(Math.max(0, workers) * 1000L, heartbeatsPerSecond);
        return Duration.ofMillis(Math.max(heartbeat(ttl).toMillis(), spread));
    }

    /** The interval this scheduler asks for in a cluster of {@code workers}. */
    Duration heartbeat(int workers) {
        return heartbeat(ttl, workers, heartbeatsPerSecond);
    }

    /** How long (ms) a worker asked for a heartbeat every {@code intervalMillis} may be silent: three intervals, never less than the ttl. */
    private long silenceMillis(long intervalMillis) {
        return Math.max(ttl.toMillis(), 3 * intervalMillis);
    }

    /** How often the owner should call {@link #sweep}. */
    Duration sweepPeriod() {
        return Duration.ofMillis(Math.max(20, Math.min(heartbeat.toMillis(), ttl.toMillis() / 10)));
    }

    /**
     * Opens the worker's watch stream (after it joined, or when a sweep reopens it), asking for the
     * interval of a cluster of {@code workers}.
     */
    void open(Worker worker, int workers) {
        Duration interval = heartbeat(workers);
        long generation;
        worker.lock.lock();
        try {
            if (worker.closed) {
                return;
            }
            generation = ++worker.generation;
            worker.openedAt = clock.instant();
            worker.reopenAt = null;
            worker.heartbeat = interval;
        } finally {
            worker.lock.unlock();
        }
        WatchReq request = WatchReq.newBuilder().setWorkerID(worker.record.id().toString())
                .setHeartbeatMillis(interval.toMillis()).build();
        WorkerGrpc.newStub(worker.connections.watch()).watch(request, new ClientResponseObserver<WatchReq, Heartbeat>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<WatchReq> call) {
                worker.lock.lock();
                try {
                    worker.call = call;
                } finally {
                    worker.lock.unlock();
                }
            }

            @Override
            public void onNext(Heartbeat beat) {
                if (seen(worker, generation, beat.getRunningJobs(), beat.getMaxRunning())) {
                    sync.heartbeat(worker, beat);
                }
            }

            @Override
            public void onError(Throwable t) {
                ended(worker, generation, Status.fromThrowable(t));
            }

            @Override
            public void onCompleted() {
                ended(worker, generation, Status.UNAVAILABLE.withDescription("worker ended its watch"));
            }
        });
    }

    /** A sign of life on the current stream; false for a stream this class cancelled or replaced. */
    private boolean seen(Worker worker, long generation, int runningJobs, int maxRunning) {
        boolean revived;
        boolean roomChanged;
        worker.lock.lock();
        try {
            if (worker.generation != generation || worker.closed) {
                return false;
            }
            revived = worker.state == WorkerRegistry.State.DOWN;
            worker.state = WorkerRegistry.State.ALIVE;
            worker.lastSeen = clock.instant();
            worker.downSince = null;
            worker.runningJobs = runningJobs;
            int capacity = worker.features.contains(Worker.CAPACITY) ? Math.max(0, maxRunning) : 0;
            roomChanged = worker.refusedStart || worker.maxRunning != capacity;
            worker.maxRunning = capacity;
            worker.refusedStart = false;
        } finally {
            worker.lock.unlock();
        }
        if (revived) {
            LOG.log(INFO, "worker " + worker.record.id() + " at " + worker.record.address() + " is alive again");
        }
        if (revived || roomChanged) {
            placement.wake();
        }
        return true;
    }

    /**
     * The stream ended: an original-contract worker's UNIMPLEMENTED is an answer (alive), polled
     * again an interval later (its heartbeat); anything else makes the worker down, and the next
     * stream opens at a sweep once the small cluster's interval has passed: reconnecting does not
     * wait for a large cluster's.
     * One critical section, so whoever sees this answer also sees when the next stream is due.
     */
    private void ended(Worker worker, long generation, Status status) {
        boolean answered = status.getCode() == Status.Code.UNIMPLEMENTED;
        Instant now = clock.instant();
        boolean revived = false;
        boolean wentDown = false;
        worker.lock.lock();
        try {
            if (worker.generation != generation || worker.closed) {
                return;     // a stream this class cancelled or replaced
            }
            worker.call = null;
            worker.reopenAt = now.plus(answered ? worker.heartbeat : heartbeat);
            if (answered) {
                revived = worker.state == WorkerRegistry.State.DOWN;
                worker.state = WorkerRegistry.State.ALIVE;
                worker.lastSeen = now;
                worker.downSince = null;
                worker.runningJobs = 0;
            } else if (worker.state != WorkerRegistry.State.DOWN) {
                wentDown = true;
                worker.state = WorkerRegistry.State.DOWN;
                worker.downSince = now;
            }
        } finally {
            worker.lock.unlock();
        }
        if (revived) {
            LOG.log(INFO, "worker " + worker.record.id() + " at " + worker.record.address() + " is alive again");
        }
        if (wentDown) {
            LOG.log(INFO, "worker " + worker.record.id() + " at " + worker.record.address() + " is down: "
                    + status.getCode() + (status.getDescription() == null ? "" : ": " + status.getDescription()));
        }
        if (answered) {
            sync.contact(worker);
        }
        if (revived) {
            placement.wake();
        }
    }

    /** True when this made the worker down. */
    private boolean markDown(Worker worker, long generation, String why) {
        worker.lock.lock();
        try {
            if (worker.generation != generation || worker.closed || worker.state == WorkerRegistry.State.DOWN) {
                return false;
            }
            worker.state = WorkerRegistry.State.DOWN;
            worker.downSince = clock.instant();
        } finally {
            worker.lock.unlock();
        }
        LOG.log(INFO, "worker " + worker.record.id() + " at " + worker.record.address() + " is down: " + why);
        return true;
    }

    /**
     * Marks silent workers down, reopens streams that ended (or sat silent on a possibly dead
     * connection, or whose interval no longer fits the cluster's size), and answers the workers
     * down beyond the expiry, for removal.
     */
    List<UUID> sweep(Collection<Worker> workers) {
        Instant now = clock.instant();
        int size = workers.size();
        Duration target = heartbeat(size);
        List<Silent> silent = new ArrayList<>();
        List<Worker> reopen = new ArrayList<>();
        List<UUID> expired = new ArrayList<>();
        // In milliseconds: Duration's arithmetic goes through BigDecimal, and with 10,000 workers
        // swept twice a second it was most of the scheduler's CPU at rest (BENCHMARKS.md).
        long nowMs = now.toEpochMilli();
        long targetMs = target.toMillis();
        long expiryMs = expiry.toMillis();
        for (Worker worker : workers) {
            worker.lock.lock();
            try {
                long quiet = nowMs - worker.lastSeen.toEpochMilli();
                long interval = worker.heartbeat.toMillis();
                long allowed = silenceMillis(interval);
                boolean down = worker.state == WorkerRegistry.State.DOWN;
                if (!down && quiet > allowed) {
                    silent.add(new Silent(worker, worker.generation, allowed));
                } else if (down && nowMs - worker.downSince.toEpochMilli() > expiryMs) {
                    expired.add(worker.record.id());
                    continue;
                }
                boolean due;
                if (worker.reopenAt != null) {
                    due = nowMs >= worker.reopenAt.toEpochMilli();
                } else {
                    long stale = 3 * allowed;
                    due = (down || quiet > allowed) && quiet > stale && nowMs - worker.openedAt.toEpochMilli() > stale
                            || !down && worker.call != null && offBy2(interval, targetMs);
                }
                if (due) {
                    reopen.add(worker);
                }
            } finally {
                worker.lock.unlock();
            }
        }
        for (Silent quiet : silent) {
            if (markDown(quiet.worker(), quiet.generation(), "no heartbeat for " + quiet.allowedMillis() + " ms")) {
                meters.heartbeatMissed();
            }
        }
        for (Worker worker : reopen) {
            // A stream silent this long may sit on a dead connection: start a fresh one. Its
            // downSince stays, so the expiry still counts from the first silence. A stream whose
            // interval no longer fits the cluster is asked again; its worker stays alive.
            cancel(worker, "reopening the watch");
            open(worker, size);
        }
        for (UUID id : expired) {
            LOG.log(INFO, "worker " + id + " has been down for over " + expiry.toSeconds() + " s; removing it");
        }
        return expired;
    }

    /**
     * True when a stream asked for {@code interval} should be asked again for {@code target}: off by
     * more than a factor of two, so that a growing cluster sends at most twice the cap while its
     * streams catch up, and each stream is reopened about once per doubling of the cluster.
     */
    private static boolean offBy2(long intervalMillis, long targetMillis) {
        return 2 * intervalMillis < targetMillis || intervalMillis > 2 * targetMillis;
    }

    /** A worker found silent by a sweep: its stream's generation then, and the silence it was allowed. */
    private record Silent(Worker worker, long generation, long allowedMillis) {
    }

    /** Cancels the worker's open stream, if any; its callbacks are ignored from now on. */
    static void cancel(Worker worker, String why) {
        ClientCallStreamObserver<WatchReq> call;
        worker.lock.lock();
        try {
            call = worker.call;
            worker.call = null;
            worker.generation++;
        } finally {
            worker.lock.unlock();
        }
        if (call != null) {
            call.cancel(why, null);
        }
    }
}
