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
 * heartbeat makes it {@code ALIVE} again. A worker that speaks only the original contract
 * answers {@code UNIMPLEMENTED}, which is an answer: it is polled and alive while it answers.
 * A worker down for longer than the expiry is handed back for removal.
 *
 * <p>Time comes only from the injected {@link Clock}, and everything that waits on it (silence,
 * reopening a stream, expiry) happens in {@link #sweep}, which the owner calls on a ticker of its
 * choice: tests advance the clock and sweep instead of sleeping. Heartbeats arrive on grpc-java's
 * threads, so HTTP load on the gateway's virtual threads cannot starve them into a false {@code DOWN}.
 */
final class WorkerWatch {
    private static final System.Logger LOG = System.getLogger(WorkerWatch.class.getName());

    private final Duration ttl;
    private final Duration heartbeat;
    private final Duration expiry;
    private final Clock clock;
    private final JobSync sync;
    private final SchedulerMeters meters;

    WorkerWatch(Duration ttl, Duration expiry, Clock clock, JobSync sync) {
        this(ttl, expiry, clock, sync, SchedulerMeters.NONE);
    }

    WorkerWatch(Duration ttl, Duration expiry, Clock clock, JobSync sync, SchedulerMeters meters) {
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

    /** How often the owner should call {@link #sweep}. */
    Duration sweepPeriod() {
        return Duration.ofMillis(Math.max(20, Math.min(heartbeat.toMillis(), ttl.toMillis() / 10)));
    }

    /** Opens the worker's watch stream (after it joined, or when a sweep reopens it). */
    void open(Worker worker) {
        long generation;
        worker.lock.lock();
        try {
            if (worker.closed) {
                return;
            }
            generation = ++worker.generation;
            worker.openedAt = clock.instant();
            worker.reopenAt = null;
        } finally {
            worker.lock.unlock();
        }
        WatchReq request = WatchReq.newBuilder().setWorkerID(worker.record.id().toString())
                .setHeartbeatMillis(heartbeat.toMillis()).build();
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
                if (seen(worker, generation, beat.getRunningJobs())) {
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
    private boolean seen(Worker worker, long generation, int runningJobs) {
        boolean revived;
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
        } finally {
            worker.lock.unlock();
        }
        if (revived) {
            LOG.log(INFO, "worker " + worker.record.id() + " at " + worker.record.address() + " is alive again");
        }
        return true;
    }

    /**
     * The stream ended: an original-contract worker's UNIMPLEMENTED is an answer (alive), anything
     * else makes the worker down. Either way the next stream opens a heartbeat later, at a sweep.
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
            worker.reopenAt = now.plus(heartbeat);
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
     * connection), and answers the workers down beyond the expiry, for removal.
     */
    List<UUID> sweep(Collection<Worker> workers) {
        Instant now = clock.instant();
        List<Worker> silent = new ArrayList<>();
        List<Worker> reopen = new ArrayList<>();
        List<UUID> expired = new ArrayList<>();
        for (Worker worker : workers) {
            worker.lock.lock();
            try {
                Duration quiet = Duration.between(worker.lastSeen, now);
                boolean down = worker.state == WorkerRegistry.State.DOWN;
                if (!down && quiet.compareTo(ttl) > 0) {
                    silent.add(worker);
                } else if (down && Duration.between(worker.downSince, now).compareTo(expiry) > 0) {
                    expired.add(worker.record.id());
                    continue;
                }
                if (worker.reopenAt != null ? !now.isBefore(worker.reopenAt)
                        : (down || quiet.compareTo(ttl) > 0) && quiet.compareTo(ttl.multipliedBy(3)) > 0
                        && Duration.between(worker.openedAt, now).compareTo(ttl.multipliedBy(3)) > 0) {
                    reopen.add(worker);
                }
            } finally {
                worker.lock.unlock();
            }
        }
        for (Worker worker : silent) {
            if (markDown(worker, generationOf(worker), "no heartbeat for " + ttl.toMillis() + " ms")) {
                meters.heartbeatMissed();
            }
        }
        for (Worker worker : reopen) {
            // A stream silent this long may sit on a dead connection: start a fresh one. Its
            // downSince stays, so the expiry still counts from the first silence.
            cancel(worker, "reopening the watch");
            open(worker);
        }
        for (UUID id : expired) {
            LOG.log(INFO, "worker " + id + " has been down for over " + expiry.toSeconds() + " s; removing it");
        }
        return expired;
    }

    private static long generationOf(Worker worker) {
        worker.lock.lock();
        try {
            return worker.generation;
        } finally {
            worker.lock.unlock();
        }
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
