package io.jobscheduler.scheduler;

import io.jobscheduler.concurrent.Conditions;
import io.jobscheduler.scheduler.placement.Candidate;
import io.jobscheduler.scheduler.placement.Constraints;
import io.jobscheduler.scheduler.placement.JobQueue;
import io.jobscheduler.scheduler.placement.Placement;
import io.jobscheduler.scheduler.placement.QueuedJob;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Set;
import java.time.Instant;
import io.jobscheduler.scheduler.store.SchedulerStore;
import io.jobscheduler.scheduler.store.StoreRecord;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.UUID;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Predicate;

/**
 * Places starts on workers and runs the queue (docs/architecture.md, "Placement and the queue").
 * A start with room somewhere and nothing queued is sent at once, on the caller's thread; any
 * other waits in the {@link JobQueue} and is sent by this class's own thread when room frees, in
 * priority then arrival order. Room is what the scheduler counts: the {@link JobTable}'s running
 * jobs on a worker plus the dispatches in flight to it, never above its {@code max_running}.
 *
 * <p>One lock guards the queue, the placement counters and the dispatches in flight; under it
 * this class reads the registry, each worker and the table (lock order: dispatcher, registry,
 * worker, table), and nobody calls into it while holding one of those. No call to a worker is made
 * under it.
 */
final class Dispatcher implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(Dispatcher.class.getName());
    /** A pass runs at least this often even if nothing woke it: a safety net, not the mechanism. */
    private static final Duration IDLE_PASS = Duration.ofSeconds(1);
    /** How many jobs that ended before they ran (stopped while queued, refused, lost) are remembered, to answer their state. */
    private static final int KEEP_STOPPED = 10_000;

    /**
     * What a client asked to start, and where it may run. {@code jobId}: the id it must have (its
     * idempotency key's), else a new one; {@code key}: that key, journalled with the job.
     */
    record Submission(JobStart start, Constraints constraints, Optional<UUID> pinned, int priority,
                      Optional<String> jobId, Optional<StoreRecord.Key> key) {
    }

    /** The answer to a submission: started on a worker now, or queued. */
    sealed interface Outcome {
        record Started(Job job) implements Outcome {
        }

        record Queued(QueuedJob<JobStart> job) implements Outcome {
        }
    }

    /** A job the scheduler holds that no worker has (yet): queued or being sent, or one that ended before it ran. */
    record Waiting(Job job, boolean queued) {
    }

    private final WorkerRegistry registry;
    private final JobTable table;
    private final Starter gateway;
    private final Clock clock;
    private final Wakeup wakeup;
    private final SchedulerStore store;
    /** The idempotency keys of jobs no longer queued, for compaction. */
    private java.util.function.Supplier<List<StoreRecord.Key>> keys = List::of;
    /** Compaction's slack: the journal is rewritten once it holds this many records beyond twice the live ones. */
    private static final long COMPACT_SLACK = 10_000;

    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled whenever a job leaves the queue or a dispatch in flight ends. */
    private final Condition moved = lock.newCondition();
    private final JobQueue<JobStart> queue;                                  // guarded by lock
    private final Placement placement = new Placement();                    // guarded by lock
    private final Map<UUID, Integer> inFlight = new HashMap<>();            // guarded by lock: per worker
    private final Map<String, QueuedJob<JobStart>> sending = new HashMap<>(); // guarded by lock: by job id
    private final Map<String, UUID> sendingTo = new HashMap<>();             // guarded by lock: their workers
    /** Accepted jobs that left the queue without running, journalled and kept across compactions. */
    private final NeverRanJobs ended = new NeverRanJobs(KEEP_STOPPED);       // guarded by lock
    /** The workers registered at the last look for queued jobs whose worker left, and when that was. */
    private Set<UUID> registeredBefore = Set.of();                          // guarded by lock
    private Instant departuresCheckedAt = Instant.MIN;                       // guarded by lock
    /**
     * Workers this scheduler has seen registered (at a pass, or named by a start it queued): only
     * such a worker can be seen to leave. One it never saw (named by the journal, not back since a
     * restart) may be down, so its jobs wait, until the restart's {@link #grace} ends. Pruned at each look to those registered or still waited for.
     */
    private final Set<UUID> seenRegistered = new HashSet<>();                // guarded by lock
    private long arrivals;                                                   // guarded by lock
    private boolean closed;                                                  // guarded by lock
    /** After a restart: no dispatch until these workers are back, or {@link #holdUntil}. */
    private final Set<UUID> awaited = new HashSet<>();                       // guarded by lock
    private Instant holdUntil = Instant.MIN;                                 // guarded by lock
    /**
     * The grace a restart gives the workers the journal names (the dispatch hold): until it ends, a
     * worker not seen registered since may be on its way back; after it, one still not registered
     * has left, and the jobs queued for it end.
     */
    private Duration grace = Duration.ZERO;                                  // guarded by lock
    private Instant graceEnds = Instant.MIN;                                 // guarded by lock
    /** Keys of the jobs queued or being sent, journalled again at a compaction. */
    private final Map<String, StoreRecord.Key> keyOf = new HashMap<>();      // guarded by lock
    private final Thread loop;

    /** Sends one start to one worker and records it ({@link JobGateway}'s start). */
    interface Starter {
        Job start(UUID workerId, JobStart start, Optional<String> jobId, Constraints constraints);
    }

    Dispatcher(WorkerRegistry registry, JobTable table, Starter gateway, int maxQueued, Clock clock, Wakeup wakeup,
               SchedulerStore store) {
        this.registry = registry;
        this.table = table;
        this.gateway = gateway;
        this.clock = clock;
        this.wakeup = wakeup;
        this.store = store;
        this.queue = new JobQueue<>(maxQueued);
        this.loop = Thread.ofVirtual().name("dispatcher").unstarted(this::run);
    }

    /**
     * Resumes from the journal before the first start: the queue as it was (over its bound if need
     * be), a dispatch cut short queued again for its worker, the jobs placed known by id. Nothing is
     * dispatched until every worker the journal names is back, or {@code hold} has passed, so the
     * capacity is known first.
     */
    void restore(JournalRecords.Restored restored, Duration hold) {
        lock.lock();
        try {
            restored.queue().forEach(queue::putBack);
            restored.ended().forEach(ended::put);
            for (String jobId : restored.unanswered()) {
                // Queued now, so its ending is remembered like any accepted job's after the next restart.
                queue.find(jobId).ifPresent(job -> store.append(new StoreRecord.Requeued(jobId,
                        job.resendTo().map(UUID::toString).orElse(""))));
            }
            arrivals = restored.arrivals();
            awaited.addAll(restored.workers());
            holdUntil = awaited.isEmpty() ? Instant.MIN : clock.instant().plus(hold);
            grace = hold;
            graceEnds = clock.instant().plus(hold);
        } finally {
            lock.unlock();
        }
        // Placed jobs answer by id at once (LOST while their worker is not back). Not live, so never
        // counted against a worker's capacity: its listing, once back, brings their real state.
        for (StoreRecord.Placed p : restored.placed()) {
            WorkerRegistry.parseId(p.workerId()).ifPresent(worker -> table.record(new Job(p.jobId(), worker,
                    p.command(), p.path(), List.of(), Map.of(), JobState.RUNNING, "", OptionalInt.empty(), OptionalInt.empty(),
                    p.startedAtMillis() == 0 ? Optional.empty() : Optional.of(Instant.ofEpochMilli(p.startedAtMillis())),
                    Optional.empty()), false));
        }
    }

    void start() {
        loop.start();
    }

    /** Where compaction finds the idempotency keys to keep. */
    void keysFrom(java.util.function.Supplier<List<StoreRecord.Key>> live) {
        this.keys = live;
    }

    /** Whether dispatch still waits for the workers of before a restart. Under the lock. */
    private boolean holding(List<Worker> workers) {
        if (awaited.isEmpty()) {
            return false;
        }
        if (!clock.instant().isBefore(holdUntil)) {
            awaited.clear();
            return false;
        }
        for (Worker w : workers) {
            if (w.lookup() instanceof WorkerLookup.Alive) {
                awaited.remove(w.record.id());
            }
        }
        return !awaited.isEmpty();
    }

    /** Waits until a journalled change is durable; a failure refuses the request it belongs to. */
    private static void durable(SchedulerStore.Commit commit) {
        try {
            commit.await();
        } catch (java.io.IOException e) {
            throw new SchedulerException.StoreFailed("the scheduler could not write its journal: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SchedulerException.ShuttingDown();
        }
    }

    /** Rewrites the journal once it holds far more than what is live. Under the lock. */
    private void compactIfDue() {
        long live = queue.size() + 2L * sending.size() + keyOf.size() + 2L * ended.size();
        if (store.size() <= 2 * live + COMPACT_SLACK) {
            return;
        }
        List<StoreRecord> records = new ArrayList<>();
        for (JournalRecords.Ended e : ended.inEndOrder()) {
            records.add(JournalRecords.queued(e.job(), null));
            records.add(e.record());
        }
        for (QueuedJob<JobStart> job : queue.inOrder()) {
            records.add(JournalRecords.queued(job, keyOf.get(job.jobId())));
            job.resendTo().ifPresent(w -> records.add(new StoreRecord.Requeued(job.jobId(), w.toString())));
        }
        for (var e : sending.entrySet()) {
            records.add(JournalRecords.queued(e.getValue(), keyOf.get(e.getKey())));
            UUID to = sendingTo.get(e.getKey());
            if (to != null) {
                records.add(new StoreRecord.Dispatching(e.getKey(), to.toString(), null, null));
            }
        }
        records.addAll(keys.get());
        store.replaceAll(records);   // durable with the next commit anyone waits for
    }

    /**
     * Starts the job on the best worker with room, or queues it. A pinned start goes to its worker
     * only (which must be registered and alive, and advertise what the start needs); an unpinned
     * one that no registered worker could ever run is refused, naming why.
     */
    Outcome submit(Submission submission) {
        List<Worker> workers = registry.all();
        List<String> needs = submission.start().features();
        if (submission.pinned().isPresent()) {
            UUID id = submission.pinned().get();
            Worker worker = workers.stream().filter(w -> w.record.id().equals(id)).findFirst()
                    .orElseThrow(() -> new SchedulerException.UnknownWorker(id));
            if (worker.lookup() instanceof WorkerLookup.Down down) {
                throw new SchedulerException.WorkerDown(id, down.lastSeen());
            }
            for (String feature : needs) {
                if (!worker.features.contains(feature)) {
                    throw new SchedulerException.WorkerLacksFeature(id, feature);
                }
            }
            submission.constraints().firstUnmet(worker.labels).ifPresent(c -> {
                throw new SchedulerException.Unplaceable("worker '" + id + "' does not meet constraint " + c);
            });
        } else {
            unplaceable(workers, submission.constraints(), needs).ifPresent(why -> {
                throw new SchedulerException.Unplaceable(why);
            });
        }
        Candidate chosen = null;
        QueuedJob<JobStart> job;
        SchedulerStore.Commit recorded;
        lock.lock();
        try {
            if (closed) {
                throw new SchedulerException.ShuttingDown();
            }
            job = new QueuedJob<>(submission.jobId().orElseGet(() -> UUID.randomUUID().toString()), submission.start(),
                    submission.constraints(), needs, submission.pinned(), submission.priority(), arrivals++,
                    clock.instant(), Optional.empty());
            List<Candidate> candidates = candidates(workers);
            // A worker that cannot adopt ids never takes a queued job, and has no capacity to respect:
            // a start pinned to it is sent at once (the original contract's behaviour).
            boolean unqueueable = job.target().isPresent() && candidates.stream()
                    .anyMatch(c -> c.id().equals(job.target().get()) && !c.features().contains(Worker.JOB_ID));
            if (unqueueable) {
                chosen = candidates.stream().filter(c -> c.id().equals(job.target().get())).findFirst().orElseThrow();
            } else if (!holding(workers)) {
                chosen = placement.choose(candidates, job.constraints(), needs, job.target())
                        .filter(c -> !queuedAheadFor(c, job.priority())).orElse(null);
            }
            if (chosen == null) {
                enqueue(job);
                recorded = store.append(JournalRecords.queued(job, submission.key().orElse(null)));
                submission.key().ifPresent(k -> keyOf.put(job.jobId(), k));
                compactIfDue();
            } else {
                placement.placed(chosen.id());
                inFlight.merge(chosen.id(), 1, Integer::sum);
                sending.put(job.jobId(), job);
                sendingTo.put(job.jobId(), chosen.id());
                // Only a start made for an idempotency key is recorded, durably, before it is sent:
                // the key must be found by a retry after a crash, and the start is then repeated
                // under it. Without one, the client holds nothing until it is answered; the worker,
                // which keeps its jobs, is the record of what it started (it reports them when it
                // registers again), so an interrupted start is never repeated behind the client's back.
                recorded = journalled(submission, chosen)
                        ? store.append(new StoreRecord.Dispatching(job.jobId(), chosen.id().toString(),
                                JournalRecords.start(job.start()), submission.key().get()))
                        : SchedulerStore.Commit.DONE;
                submission.key().ifPresent(k -> keyOf.put(job.jobId(), k));
            }
        } finally {
            lock.unlock();
        }
        if (chosen == null) {
            try {
                durable(recorded);
            } catch (SchedulerException e) {
                forget(job.jobId());
                throw e;
            }
            wakeup.wake();
            return new Outcome.Queued(job);
        }
        try {
            durable(recorded);
        } catch (SchedulerException e) {
            sent(job, chosen.id(), null);
            throw e;
        }
        return startNow(job, chosen, journalled(submission, chosen));
    }

    /** Whether a start sent at once is in the journal before the call: one for an idempotency key, to a worker that adopts ids. */
    private static boolean journalled(Submission submission, Candidate chosen) {
        return submission.key().isPresent() && chosen.features().contains(Worker.JOB_ID);
    }

    /** A job the journal could not take: gone, as if never asked for. */
    private void forget(String jobId) {
        lock.lock();
        try {
            queue.remove(jobId);
            keyOf.remove(jobId);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Sends a start chosen on the caller's thread: a worker that turns out full gets it queued
     * instead. {@code journalled}: its dispatch is in the journal already (else the journal learns
     * of it only if it is queued, or once it is placed: written behind, without a wait, since the
     * worker has it).
     */
    private Outcome startNow(QueuedJob<JobStart> job, Candidate chosen, boolean journalled) {
        // A worker that adopts ids gets the scheduler's, so the job keeps it if it must be queued.
        boolean named = chosen.features().contains(Worker.JOB_ID);
        StoreRecord ending = null;
        try {
            Job started = gateway.start(chosen.id(), job.start(), named ? Optional.of(job.jobId()) : Optional.empty(),
                    job.constraints());
            ending = named ? placed(started) : null;
            return new Outcome.Started(started);
        } catch (SchedulerException.WorkerOutOfResources e) {
            if (!named || !e.full()) {
                ending = journalled ? removed(job, chosen.id(), JobState.FAILED, e.getMessage()) : null;
                throw e;   // out of descriptors, memory or disk (503), or a worker no queued job can go to
            }
            refused(chosen.id());
            return requeue(job, journalled);
        } catch (SchedulerException.WorkerUnavailable | SchedulerException.WorkerTooSlow e) {
            if (!named) {
                throw e;
            }
            // It may have reached the worker: it waits to be sent there again, never elsewhere, and
            // the client holds its id (202), so a retry never makes a second job.
            refused(chosen.id());
            return requeue(job.resendingTo(chosen.id()), journalled);
        } catch (SchedulerException e) {
            // Anything else is the client's answer, as before placement; a start that may have
            // reached the worker is not repeated behind the client's back.
            ending = journalled ? removed(job, chosen.id(), JobState.FAILED, e.getMessage()) : null;
            throw e;
        } finally {
            sent(job, chosen.id(), ending);
        }
    }

    /**
     * A start sent at once that goes back to the queue after all; answered 202 once that is
     * durable. One not journalled yet is journalled now as queued, as if it had been from the start.
     */
    private Outcome requeue(QueuedJob<JobStart> job, boolean journalled) {
        SchedulerStore.Commit requeued;
        lock.lock();
        try {
            queue.putBack(job);   // it was accepted already: over the bound if need be
            if (!journalled) {
                store.append(JournalRecords.queued(job, null));   // journalled is false only without a key
            }
            requeued = store.append(new StoreRecord.Requeued(job.jobId(), job.resendTo().map(UUID::toString).orElse("")));
        } finally {
            lock.unlock();
        }
        durable(requeued);
        wakeup.wake();
        return new Outcome.Queued(job);
    }

    private static StoreRecord placed(Job job) {
        return new StoreRecord.Placed(job.jobId(), job.workerId().toString(), job.command(), job.path(),
                job.startedAt().map(Instant::toEpochMilli).orElse(0L));
    }

    private static StoreRecord removed(QueuedJob<JobStart> job, UUID workerId, JobState state, String why) {
        return new StoreRecord.Removed(job.jobId(), workerId == null ? "" : workerId.toString(), state.name(), why);
    }

    /** Whether a queued job of at least this priority could take the worker's room: it goes first. Under the lock. */
    private boolean queuedAheadFor(Candidate worker, int priority) {
        for (QueuedJob<JobStart> queued : queue.view()) {
            if (queued.priority() < priority) {
                return false;
            }
            List<String> needs = new ArrayList<>(queued.needs());
            needs.add(Worker.JOB_ID);
            if (Placement.fits(worker, queued.constraints(), needs, queued.target())) {
                return true;
            }
        }
        return false;
    }

    private void enqueue(QueuedJob<JobStart> job) {
        if (!queue.offer(job)) {
            throw new SchedulerException.QueueFull(queue.size());
        }
        // A start is queued for a worker only while it is registered: it can be seen to leave.
        job.target().ifPresent(seenRegistered::add);
    }

    /** The first thing no registered worker offers: a constraint, or a feature; empty when some worker could run it. */
    private static Optional<String> unplaceable(List<Worker> workers, Constraints constraints, List<String> needs) {
        if (workers.isEmpty() && constraints.byLabel().isEmpty()) {
            return Optional.empty();   // any worker that joins can run it
        }
        Optional<String> label = constraints.unmetByAll(workers.stream().map(w -> w.labels).toList());
        if (label.isPresent()) {
            return Optional.of("no registered worker meets constraint " + label.get());
        }
        for (String feature : needs) {
            if (workers.stream().noneMatch(w -> w.features.contains(feature))) {
                return Optional.of("no registered worker supports '" + feature + "'");
            }
        }
        return Optional.empty();
    }

    /** Every worker as placement sees it now, with the scheduler's count of its jobs. Under the lock. */
    private List<Candidate> candidates(List<Worker> workers) {
        List<Candidate> all = new ArrayList<>(workers.size());
        for (Worker worker : workers) {
            UUID id = worker.record.id();
            all.add(worker.candidate(table.runningOn(id) + inFlight.getOrDefault(id, 0)));
        }
        return all;
    }

    private void run() {
        while (true) {
            try {
                wakeup.await(IDLE_PASS);
            } catch (InterruptedException e) {
                return;
            }
            lock.lock();
            try {
                if (closed) {
                    return;
                }
            } finally {
                lock.unlock();
            }
            try {
                pass();
            } catch (RuntimeException e) {
                // A pass must never end the loop: the queue would stall for good.
                LOG.log(System.Logger.Level.WARNING, "dispatch pass failed", e);
            }
        }
    }

    /** Takes every queued job that has room now, in order, and sends each on a thread of its own. */
    private void pass() {
        lock.lock();
        try {
            if (queue.isEmpty()) {
                // Nothing to place, so no copy of the registry: with 10,000 workers registering, that
                // copy on every wake-up was 15 % of the scheduler's CPU (BENCHMARKS.md, "10,000 workers").
                return;
            }
        } finally {
            lock.unlock();
        }
        List<Worker> workers = registry.all();
        Map<QueuedJob<JobStart>, UUID> chosen = new LinkedHashMap<>();
        SchedulerStore.Commit recorded = SchedulerStore.Commit.DONE;
        lock.lock();
        try {
            workers.forEach(w -> seenRegistered.add(w.record.id()));
            if (queue.isEmpty() || holding(workers)) {
                return;
            }
            for (JournalRecords.Ended e : orphans(workers)) {
                queue.remove(e.job().jobId());
                keyOf.remove(e.job().jobId());
                ended.put(e);
                recorded = store.append(e.record());
            }
            List<Candidate> candidates = candidates(workers);
            for (QueuedJob<JobStart> job : queue.view()) {
                if (candidates.stream().noneMatch(c -> c.open() && c.hasRoom())) {
                    break;
                }
                List<String> needs = new ArrayList<>(job.needs());
                needs.add(Worker.JOB_ID);   // the job already has the id its client was given
                Optional<Candidate> pick = placement.choose(candidates, job.constraints(), needs, job.target());
                if (pick.isEmpty()) {
                    continue;
                }
                placement.placed(pick.get().id());
                candidates.replaceAll(c -> c.id().equals(pick.get().id()) ? c.withOneMore() : c);
                chosen.put(job, pick.get().id());
            }
            for (var e : chosen.entrySet()) {
                QueuedJob<JobStart> job = e.getKey();
                queue.remove(job.jobId());
                inFlight.merge(e.getValue(), 1, Integer::sum);
                sending.put(job.jobId(), job);
                sendingTo.put(job.jobId(), e.getValue());
                recorded = store.append(new StoreRecord.Dispatching(job.jobId(), e.getValue().toString(), null, null));
            }
            compactIfDue();
            moved.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            // One sync for the whole pass: every dispatch is on disk before any is sent.
            recorded.await();
        } catch (java.io.IOException e) {
            LOG.log(System.Logger.Level.ERROR, "cannot write the journal; " + chosen.size()
                    + " dispatches stay queued: " + e.getMessage());
            for (var c : chosen.entrySet()) {
                sent(c.getKey(), c.getValue(), null);
                lock.lock();
                try {
                    queue.putBack(c.getKey());
                } finally {
                    lock.unlock();
                }
            }
            // The endings stand (they are in memory and ordered in the journal): the jobs cannot run anyway.
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        for (var e : chosen.entrySet()) {
            QueuedJob<JobStart> job = e.getKey();
            UUID workerId = e.getValue();
            Thread.ofVirtual().name("dispatch-" + job.jobId()).start(() -> send(job, workerId));
        }
    }

    /**
     * The queued jobs whose worker left the cluster (it deregistered, or was removed with
     * {@code DELETE /workers/{id}}, or, named by the journal, it has not registered again within
     * the restart's {@link #grace}): one pinned to it fails, naming it; one whose start may have
     * reached it is lost (what became of it is out of sight). A worker that is merely down is still
     * registered, and its jobs wait; so do the jobs of a worker not seen since a restart, until the
     * grace ends. The queue is looked through when a worker has left since the last look, and at
     * least every {@link #IDLE_PASS} (a job queued for a worker that left just before). Under the lock.
     */
    private List<JournalRecords.Ended> orphans(List<Worker> workers) {
        Set<UUID> registered = new HashSet<>();
        workers.forEach(w -> registered.add(w.record.id()));
        Instant now = clock.instant();
        boolean due = !registered.containsAll(registeredBefore) || !now.isBefore(departuresCheckedAt.plus(IDLE_PASS));
        registeredBefore = registered;
        if (!due) {
            return List.of();
        }
        departuresCheckedAt = now;
        List<JournalRecords.Ended> orphans = new ArrayList<>();
        Set<UUID> waitedFor = new HashSet<>(registered);
        boolean graceOver = !now.isBefore(graceEnds);
        for (QueuedJob<JobStart> job : queue.view()) {
            // Asked of the registry again, now: a worker that joined after the snapshot is not gone.
            Optional<UUID> to = job.target().filter(id -> (graceOver || seenRegistered.contains(id))
                    && !registered.contains(id) && registry.find(id).isEmpty());
            if (to.isEmpty()) {
                job.target().ifPresent(waitedFor::add);
            } else {
                orphans.add(job.resendTo().isPresent()
                        ? new JournalRecords.Ended(job, to, JobState.LOST, Job.LOST_TEXT)
                        : new JournalRecords.Ended(job, to, JobState.FAILED, seenRegistered.contains(to.get())
                                ? "worker '" + to.get() + "' left the cluster before the job could start"
                                : "worker '" + to.get() + "' did not register again within " + grace.toSeconds()
                                        + " s of the scheduler's restart; the job never started"));
            }
        }
        seenRegistered.retainAll(waitedFor);
        return orphans;
    }

    /** Sends one queued job: started, back in the queue (full, or perhaps not reached), or failed for good. */
    private void send(QueuedJob<JobStart> job, UUID workerId) {
        StoreRecord ending = null;
        try {
            ending = placed(gateway.start(workerId, job.start(), Optional.of(job.jobId()), job.constraints()));
        } catch (SchedulerException.WorkerOutOfResources e) {
            refused(workerId);
            putBack(job);
        } catch (SchedulerException.WorkerUnavailable | SchedulerException.WorkerTooSlow e) {
            // The start may have reached the worker: only the same start, to the same worker, is
            // safe; not before its next heartbeat, so a failing worker is not asked in a loop.
            refused(workerId);
            putBack(job.resendingTo(workerId));
        } catch (SchedulerException.WorkerRefused e) {
            if (mayHaveStarted(e.code())) {
                refused(workerId);
                putBack(job.resendingTo(workerId));
            } else {
                ending = fail(job, workerId, e);
            }
        } catch (SchedulerException.WorkerDown | SchedulerException.ShuttingDown e) {
            // Never called: it may go anywhere, unless it may already be on this worker.
            putBack(job);
        } catch (SchedulerException e) {
            // Refused for good (the command cannot start, a policy forbids it, the worker left): the
            // job ends here and says why.
            ending = fail(job, workerId, e);
        } finally {
            SchedulerStore.Commit journalled = sent(job, workerId, ending);
            if (ending instanceof StoreRecord.Removed) {
                // Its client was told it is queued: its end must answer after a restart. (A lost
                // Placed record costs nothing: the same start is sent again and answered.)
                try {
                    journalled.await();
                } catch (java.io.IOException e) {
                    LOG.log(System.Logger.Level.ERROR, "cannot journal the end of job " + job.jobId() + ": " + e.getMessage());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /** A queued job refused for good: remembered (it was accepted, and is listed), and its ending journalled by {@link #sent}. */
    private StoreRecord fail(QueuedJob<JobStart> job, UUID workerId, SchedulerException e) {
        JournalRecords.Ended failed = new JournalRecords.Ended(job, Optional.of(workerId), JobState.FAILED, e.getMessage());
        lock.lock();
        try {
            ended.put(failed);
        } finally {
            lock.unlock();
        }
        return failed.record();
    }

    /** A refusal that does not say the start was not made (a start of the same id in progress, a broken call). */
    private static boolean mayHaveStarted(io.grpc.Status.Code code) {
        return switch (code) {
            case ABORTED, CANCELLED, UNKNOWN -> true;
            default -> false;
        };
    }

    /** Back in the queue, journalled with the change (a later dispatch of it is ordered after). */
    private void putBack(QueuedJob<JobStart> job) {
        lock.lock();
        try {
            queue.putBack(job);
            store.append(new StoreRecord.Requeued(job.jobId(), job.resendTo().map(UUID::toString).orElse("")));
        } finally {
            lock.unlock();
        }
    }

    /** A dispatch is over; {@code ending} (null: none) journals how, with the change (the commit to await for it). */
    private SchedulerStore.Commit sent(QueuedJob<JobStart> job, UUID workerId, StoreRecord ending) {
        SchedulerStore.Commit journalled = SchedulerStore.Commit.DONE;
        lock.lock();
        try {
            inFlight.merge(workerId, -1, (a, b) -> a + b == 0 ? null : a + b);
            sending.remove(job.jobId());
            sendingTo.remove(job.jobId());
            if (ending != null) {
                journalled = store.append(ending);
                keyOf.remove(job.jobId());
            }
            moved.signalAll();
        } finally {
            lock.unlock();
        }
        wakeup.wake();
        return journalled;
    }

    /** The worker refused a start as full (or failed it): it is counted full until its next heartbeat. */
    private void refused(UUID workerId) {
        for (Worker worker : registry.all()) {
            // Only a worker with capacity sends the heartbeats that clear it again.
            if (worker.record.id().equals(workerId) && worker.features.contains(Worker.CAPACITY)) {
                worker.lock.lock();
                try {
                    worker.refusedStart = true;
                } finally {
                    worker.lock.unlock();
                }
            }
        }
    }

    /** A job the scheduler holds that no worker has yet (queued or being sent), or one that ended before it ran. */
    Optional<Waiting> waiting(String jobId) {
        lock.lock();
        try {
            QueuedJob<JobStart> job = queue.find(jobId).orElse(sending.get(jobId));
            if (job != null) {
                return Optional.of(new Waiting(Job.waiting(job, JobState.QUEUED), true));
            }
            return ended.find(jobId).map(e -> new Waiting(e.asJob(), false));
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stops a job that has not reached a worker: a queued one is removed (it ends {@code STOPPED},
     * never started). One being sent is waited for (up to {@code timeout}); false when the job is
     * not the dispatcher's (any more): it is on a worker, and is stopped there.
     */
    boolean stopWaiting(String jobId, Duration timeout) throws InterruptedException {
        SchedulerStore.Commit recorded = SchedulerStore.Commit.DONE;
        boolean mine;
        lock.lock();
        try {
            Conditions.await(moved, () -> !sending.containsKey(jobId), timeout);
            Optional<QueuedJob<JobStart>> removed = queue.remove(jobId);
            if (removed.isPresent()) {
                JournalRecords.Ended stop = new JournalRecords.Ended(removed.get(), Optional.empty(), JobState.STOPPED,
                        "stopped before it started");
                ended.put(stop);
                keyOf.remove(jobId);
                recorded = store.append(stop.record());
            }
            mine = removed.isPresent() || ended.contains(jobId);
        } finally {
            lock.unlock();
        }
        durable(recorded);
        return mine;
    }

    /** Journals a change that belongs to no queued job (an idempotency key of a job its worker named), durably. */
    void journal(StoreRecord record) {
        SchedulerStore.Commit recorded;
        lock.lock();
        try {
            recorded = store.append(record);
        } finally {
            lock.unlock();
        }
        durable(recorded);
    }

    /**
     * Waits until the job is no longer queued nor being sent (it started, or ended before it could),
     * up to {@code timeout}, or until this dispatcher is closed.
     */
    boolean awaitDispatched(String jobId, Duration timeout) throws InterruptedException {
        lock.lock();
        try {
            return Conditions.await(moved, () -> closed || queue.find(jobId).isEmpty() && !sending.containsKey(jobId),
                    timeout);
        } finally {
            lock.unlock();
        }
    }

    /** Whether {@link #close} was called: nothing is dispatched any more. */
    boolean closed() {
        lock.lock();
        try {
            return closed;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Up to {@code limit} jobs that match, queued or being sent, after {@code after} (from the head
     * when empty), in dispatch order.
     */
    List<QueuedJob<JobStart>> queued(Optional<QueuedJob.Position> after, int limit,
                                     java.util.function.Predicate<QueuedJob<JobStart>> matches) {
        lock.lock();
        try {
            List<QueuedJob<JobStart>> jobs = new ArrayList<>();
            for (QueuedJob<JobStart> job : queue.after(after)) {
                if (jobs.size() == limit) {
                    break;
                }
                if (matches.test(job)) {
                    jobs.add(job);
                }
            }
            // A job being sent is still QUEUED to its client: listed in its place in the order.
            for (QueuedJob<JobStart> job : sending.values()) {
                if (after.map(p -> job.position().compareTo(p) > 0).orElse(true) && matches.test(job)) {
                    jobs.add(job);
                }
            }
            jobs.sort(java.util.Comparator.comparing(QueuedJob::position));
            return jobs.size() > limit ? new ArrayList<>(jobs.subList(0, limit)) : jobs;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Up to {@code limit} jobs that ended before they ran and match, keyed before {@code before}
     * ({@link NeverRanJobs}: newest submitted first), leaving out one the table holds (its worker
     * has told of it since: the table's word comes first, as for {@link #waiting}).
     */
    List<NeverRanJobs.Listed> neverRan(JobTable.Cursor before, int limit, Predicate<Job> matches) {
        lock.lock();
        try {
            return ended.before(before, limit, job -> matches.test(job) && table.find(job.jobId()).isEmpty());
        } finally {
            lock.unlock();
        }
    }

    int queueSize() {
        lock.lock();
        try {
            return queue.size();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void close() {
        lock.lock();
        try {
            closed = true;
            moved.signalAll();
        } finally {
            lock.unlock();
        }
        wakeup.wake();
    }
}
