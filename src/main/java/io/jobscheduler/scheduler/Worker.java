package io.jobscheduler.scheduler;

import io.grpc.stub.ClientCallStreamObserver;
import io.jobscheduler.grpc.Heartbeat;
import io.jobscheduler.grpc.WatchReq;
import io.jobscheduler.scheduler.placement.Candidate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One registered worker: its record, its channels, its health and its job-event state, in one
 * object owned by the {@link WorkerRegistry}. The mutable fields are guarded by {@link #lock};
 * the registry's lock, when both are held, is taken first, and neither is held across a call.
 * {@link WorkerWatch} drives the health and {@link JobSync} the event state.
 */
final class Worker {
    /** The feature a worker advertises when it pushes job events (docs/architecture.md, "Job events"). */
    static final String EVENTS = "events";
    /** The feature of a worker whose {@code max_running} is meant and enforced. */
    static final String CAPACITY = "capacity";
    /** The feature of a worker that adopts the scheduler's job ids ({@code StartJobReq.job_id}). */
    static final String JOB_ID = "job_id";

    final WorkerRecord record;
    /** True when the worker pushes job events: the scheduler answers its jobs from its own state. */
    final boolean events;
    /** Everything the worker advertised (RegisterReq.features): a start needing another is never sent. */
    final Set<String> features;
    final WorkerConnections connections;
    /** What the worker said it is ({@code [labels]}): placement constraints match against them. */
    final Map<String, String> labels;
    final ReentrantLock lock = new ReentrantLock();

    // Placement, guarded by lock.
    /** How many jobs it runs at once (0: unlimited), as it last said; meant only with feature {@code capacity}. */
    int maxRunning;
    /** No new placements while draining; its jobs run on. */
    boolean draining;
    /** It refused a start as full: counted full until its next heartbeat. */
    boolean refusedStart;

    // Health, guarded by lock.
    WorkerRegistry.State state = WorkerRegistry.State.ALIVE;
    Instant lastSeen;
    Instant downSince;
    /** When the current watch stream was opened. */
    Instant openedAt;
    /** When to open a new watch stream; null while one is open. */
    Instant reopenAt;
    /** The heartbeat interval the current stream asked for; zero before the first (silence is then the ttl). */
    Duration heartbeat = Duration.ZERO;
    int runningJobs;
    ClientCallStreamObserver<WatchReq> call;   // the open stream, to cancel
    long generation;                           // callbacks of an older stream are ignored
    boolean closed;                            // left the registry

    // Job events, guarded by lock.
    /** The boot id whose events are applied; null before the first resync (or after a failed one). */
    String bootId;
    /** The sequence number of the last event applied. */
    long applied;
    /** A ListJobs resync is in flight; messages meanwhile are held. */
    boolean resyncing;
    /** The boot id the resync in flight was started for. */
    String resyncBoot;
    final List<Heartbeat> held = new ArrayList<>();
    /**
     * The worker's jobs were listed once: a worker without events when it was first heard from, one
     * with events at its first resync. After that listing its unary channel is let go (JobSync).
     */
    boolean learned;

    Worker(WorkerRecord record, Set<String> features, WorkerConnections connections) {
        this(record, features, Map.of(), 0, connections);
    }

    Worker(WorkerRecord record, Set<String> features, Map<String, String> labels, int maxRunning,
           WorkerConnections connections) {
        this.record = record;
        this.events = features.contains(EVENTS);
        this.features = Set.copyOf(features);
        this.labels = Map.copyOf(labels);
        this.maxRunning = features.contains(CAPACITY) ? Math.max(0, maxRunning) : 0;
        this.connections = connections;
        this.lastSeen = record.registeredAt();
        this.openedAt = record.registeredAt();
    }

    /** The one answer to "where is this worker": alive (with its channel), down or unknown. */
    WorkerLookup lookup() {
        lock.lock();
        try {
            if (closed) {
                return new WorkerLookup.Unknown(record.id());
            }
            return state == WorkerRegistry.State.DOWN ? new WorkerLookup.Down(record, lastSeen)
                    : new WorkerLookup.Alive(this, events && bootId != null);
        } finally {
            lock.unlock();
        }
    }

    WorkerRegistry.Health health() {
        lock.lock();
        try {
            return new WorkerRegistry.Health(closed ? WorkerRegistry.State.DOWN : state, lastSeen, runningJobs,
                    maxRunning, draining);
        } finally {
            lock.unlock();
        }
    }

    /**
     * This worker as placement sees it now; {@code running} is the count the scheduler keeps
     * (its table's running jobs on it and dispatches in flight).
     */
    Candidate candidate(int running) {
        lock.lock();
        try {
            boolean open = !closed && state == WorkerRegistry.State.ALIVE && !draining && !refusedStart;
            return new Candidate(record.id(), open, labels, features, maxRunning, running);
        } finally {
            lock.unlock();
        }
    }
}
