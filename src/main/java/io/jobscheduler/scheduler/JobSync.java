package io.jobscheduler.scheduler;

import io.grpc.StatusRuntimeException;
import io.jobscheduler.grpc.Heartbeat;
import io.jobscheduler.grpc.JobEvent;
import io.jobscheduler.grpc.JobInfo;
import io.jobscheduler.grpc.ListJobsReq;
import io.jobscheduler.grpc.ListJobsRes;
import io.jobscheduler.grpc.WorkerGrpc;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static java.lang.System.Logger.Level.DEBUG;
import static java.lang.System.Logger.Level.INFO;

/**
 * Keeps the {@link JobTable} current from what workers say, as docs/architecture.md ("Job
 * events") lays down. A worker advertising {@code events} sends job events on its watch stream,
 * numbered per boot: they are applied in order; another boot id, or a gap, makes a resync with
 * {@code ListJobs}, whose snapshot replaces what was known and whose {@code seq} says which held
 * events are newer. A worker without events has its jobs listed once when first heard from, so
 * every job it holds answers again without naming its worker after a scheduler restart.
 *
 * <p>Decisions and their application to the table happen under the worker's lock (the table's
 * lock nests inside it), so a heartbeat never interleaves with a snapshot being applied; the
 * {@code ListJobs} call itself runs on a virtual thread, outside every lock.
 */
final class JobSync {
    private static final System.Logger LOG = System.getLogger(JobSync.class.getName());

    private final JobTable table;
    private final Duration callTimeout;
    private final Clock clock;

    JobSync(JobTable table, Duration callTimeout, Clock clock) {
        this.table = table;
        this.callTimeout = callTimeout;
        this.clock = clock;
    }

    /** A message on the worker's watch stream (after liveness has counted it). */
    void heartbeat(Worker worker, Heartbeat beat) {
        if (!worker.events) {
            contact(worker);
            return;
        }
        boolean resync;
        worker.lock.lock();
        try {
            resync = offer(worker, beat);
        } finally {
            worker.lock.unlock();
        }
        if (resync) {
            Thread.ofVirtual().name("resync-" + worker.record.id()).start(() -> resync(worker));
        }
    }

    /** The worker answered (a heartbeat, or UNIMPLEMENTED from an original-contract worker): learn its jobs once. */
    void contact(Worker worker) {
        worker.lock.lock();
        try {
            if (worker.learned || worker.events) {
                return;
            }
            worker.learned = true;
        } finally {
            worker.lock.unlock();
        }
        Thread.ofVirtual().name("learn-" + worker.record.id()).start(() -> {
            try {
                list(worker).ifPresent(snapshot -> {
                    // Only jobs the table does not hold: it may know newer states than this listing.
                    for (JobInfo job : snapshot.getJobsList()) {
                        if (table.find(job.getJobID()).isEmpty()) {
                            Job learnt = Job.of(job.getJobID(), worker.record.id(), job.getCommand(), job.getPath(), job.getStatus());
                            // The list orders by start time: an unknown one counts from now, on this clock.
                            table.record(learnt.startedAt().isPresent() ? learnt : learnt.startingAt(clock.instant()), false);
                        }
                    }
                });
            } finally {
                // After the first listing only, when the channel carries nothing else yet: idling
                // it under traffic (a resync's listing during a burst of starts) let Helidon's server
                // answer the old connection's late frames with GOAWAY PROTOCOL_ERROR, failing the starts
                // in flight on it (bench scenario 7, pinned: 2-3 of 10,000).
                worker.connections.restUnary();
            }
        });
    }

    /**
     * Takes a message in; true when it calls for a resync (the caller starts it). Caller holds the
     * worker's lock.
     */
    private boolean offer(Worker worker, Heartbeat beat) {
        if (worker.closed) {
            return false;
        }
        if (worker.resyncing) {
            worker.held.add(beat);
            return false;
        }
        long first = beat.getSeq() - beat.getEventsCount() + 1;
        if (!beat.getBootId().equals(worker.bootId) || first > worker.applied + 1) {
            worker.resyncing = true;
            worker.resyncBoot = beat.getBootId();
            worker.held.add(beat);
            return true;
        }
        apply(worker, beat);
        return false;
    }

    /** Applies the message's events numbered beyond what was applied. Caller holds the worker's lock. */
    private void apply(Worker worker, Heartbeat beat) {
        long seq = beat.getSeq() - beat.getEventsCount();
        for (JobEvent event : beat.getEventsList()) {
            seq++;
            if (seq > worker.applied) {
                table.apply(worker.record.id(), event);
                worker.applied = seq;
            }
        }
    }

    private void resync(Worker worker) {
        boolean first;
        worker.lock.lock();
        try {
            first = !worker.learned;   // a worker with events learns its jobs by this listing
            worker.learned = true;
        } finally {
            worker.lock.unlock();
        }
        var snapshot = list(worker);
        if (first) {
            worker.connections.restUnary();   // as after contact's listing, below
        }
        boolean again = false;
        worker.lock.lock();
        try {
            List<Heartbeat> held = new ArrayList<>(worker.held);
            worker.held.clear();
            worker.resyncing = false;
            if (worker.closed) {
                return;
            }
            if (snapshot.isEmpty()) {
                // Unknown boot: the next message tries again.
                worker.bootId = null;
                return;
            }
            table.replace(worker.record.id(), snapshot.get().getJobsList(), true);
            worker.bootId = worker.resyncBoot;
            worker.applied = snapshot.get().getSeq();
            for (Heartbeat beat : held) {
                again |= offer(worker, beat);
            }
        } finally {
            worker.lock.unlock();
        }
        if (again) {
            resync(worker);
        }
    }

    private Optional<ListJobsRes> list(Worker worker) {
        try {
            return Optional.of(WorkerGrpc.newBlockingStub(worker.connections.unary())
                    .withDeadlineAfter(callTimeout.toMillis(), TimeUnit.MILLISECONDS)
                    .listJobs(ListJobsReq.getDefaultInstance()));
        } catch (StatusRuntimeException e) {
            // An original-contract worker has no ListJobs; its jobs stay reachable by worker_id.
            LOG.log(worker.events ? INFO : DEBUG, "cannot list jobs of worker " + worker.record.id() + ": "
                    + e.getStatus().getCode());
            return Optional.empty();
        }
    }
}
