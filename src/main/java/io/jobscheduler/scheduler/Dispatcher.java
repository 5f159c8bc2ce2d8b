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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.UUID;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

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
    /** How many stopped-while-queued jobs are remembered, to answer their state. */
    private static final int KEEP_STOPPED = 10_000;

    /** What a client asked to start, and where it may run. */
    record Submission(JobStart start, Constraints constraints, Optional<UUID> pinned, int priority) {
    }

    /** The answer to a submission: started on a worker now, or queued. */
    sealed interface Outcome {
        record Started(Job job) implements Outcome {
        }

        record Queued(QueuedJob<JobStart> job) implements Outcome {
        }
    }

    /** A job the scheduler holds that no worker has (yet): queued, being sent, or stopped while queued. */
    record Waiting(QueuedJob<JobStart> job, JobState state) {
    }

    private final WorkerRegistry registry;
    private final JobTable table;
    private final Starter gateway;
    private final Clock clock;
    private final Wakeup wakeup;

    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled whenever a job leaves the queue or a dispatch in flight ends. */
    private final Condition moved = lock.newCondition();
    private final JobQueue<JobStart> queue;                                  // guarded by lock
    private final Placement placement = new Placement();                    // guarded by lock
    private final Map<UUID, Integer> inFlight = new HashMap<>();            // guarded by lock: per worker
    private final Map<String, QueuedJob<JobStart>> sending = new HashMap<>(); // guarded by lock: by job id
    private final Map<String, QueuedJob<JobStart>> stopped = new LinkedHashMap<>() {   // guarded by lock
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, QueuedJob<JobStart>> eldest) {
            return size() > KEEP_STOPPED;
        }
    };
    private long arrivals;                                                   // guarded by lock
    private boolean closed;                                                  // guarded by lock
    private final Thread loop;

    /** Sends one start to one worker and records it ({@link JobGateway}'s start). */
    interface Starter {
        Job start(UUID workerId, JobStart start, Optional<String> jobId);
    }

    Dispatcher(WorkerRegistry registry, JobTable table, Starter gateway, int maxQueued, Clock clock, Wakeup wakeup) {
        this.registry = registry;
        this.table = table;
        this.gateway = gateway;
        this.clock = clock;
        this.wakeup = wakeup;
        this.queue = new JobQueue<>(maxQueued);
        this.loop = Thread.ofVirtual().name("dispatcher").unstarted(this::run);
    }

    void start() {
        loop.start();
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
        lock.lock();
        try {
            if (closed) {
                throw new SchedulerException.ShuttingDown();
            }
            job = new QueuedJob<>(UUID.randomUUID().toString(), submission.start(), submission.constraints(), needs,
                    submission.pinned(), submission.priority(), arrivals++, clock.instant(), Optional.empty());
            List<Candidate> candidates = candidates(workers);
            // A worker that cannot adopt ids never takes a queued job, and has no capacity to respect:
            // a start pinned to it is sent at once (the original contract's behaviour).
            boolean unqueueable = job.target().isPresent() && candidates.stream()
                    .anyMatch(c -> c.id().equals(job.target().get()) && !c.features().contains(Worker.JOB_ID));
            if (unqueueable) {
                chosen = candidates.stream().filter(c -> c.id().equals(job.target().get())).findFirst().orElseThrow();
            } else {
                chosen = placement.choose(candidates, job.constraints(), needs, job.target())
                        .filter(c -> !queuedAheadFor(c, job.priority())).orElse(null);
            }
            if (chosen == null) {
                enqueue(job);
                wakeup.wake();
                return new Outcome.Queued(job);
            }
            placement.placed(chosen.id());
            inFlight.merge(chosen.id(), 1, Integer::sum);
            sending.put(job.jobId(), job);
        } finally {
            lock.unlock();
        }
        return startNow(job, chosen);
    }

    /** Sends a start chosen on the caller's thread: a worker that turns out full gets it queued instead. */
    private Outcome startNow(QueuedJob<JobStart> job, Candidate chosen) {
        // A worker that adopts ids gets the scheduler's, so the job keeps it if it must be queued.
        boolean named = chosen.features().contains(Worker.JOB_ID);
        try {
            return new Outcome.Started(gateway.start(chosen.id(), job.start(),
                    named ? Optional.of(job.jobId()) : Optional.empty()));
        } catch (SchedulerException.WorkerOutOfResources e) {
            if (!named || !chosen.features().contains(Worker.CAPACITY)) {
                throw e;   // out of descriptors, memory or disk, or a worker no queued job can go to
            }
            refused(chosen.id());
            lock.lock();
            try {
                enqueue(job);
                return new Outcome.Queued(job);
            } finally {
                lock.unlock();
            }
        } finally {
            sent(job, chosen.id());
        }
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
        List<Worker> workers = registry.all();
        Map<QueuedJob<JobStart>, UUID> chosen = new LinkedHashMap<>();
        lock.lock();
        try {
            if (queue.isEmpty()) {
                return;
            }
            List<Candidate> candidates = candidates(workers);
            for (QueuedJob<JobStart> job : queue.view()) {
                if (candidates.stream().noneMatch(c -> c.open() && c.hasRoom())) {
                    break;
                }
                if (job.resendTo().isPresent() && workers.stream().noneMatch(w -> w.record.id().equals(job.resendTo().get()))) {
                    // The worker it may have reached left the cluster: what became of it is out of sight.
                    chosen.put(job, null);
                    continue;
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
                queue.remove(e.getKey().jobId());
                if (e.getValue() != null) {
                    inFlight.merge(e.getValue(), 1, Integer::sum);
                    sending.put(e.getKey().jobId(), e.getKey());
                }
            }
            moved.signalAll();
        } finally {
            lock.unlock();
        }
        for (var e : chosen.entrySet()) {
            QueuedJob<JobStart> job = e.getKey();
            if (e.getValue() == null) {
                table.record(lost(job, job.resendTo().get()), false);
            } else {
                UUID workerId = e.getValue();
                Thread.ofVirtual().name("dispatch-" + job.jobId()).start(() -> send(job, workerId));
            }
        }
    }

    /** Sends one queued job: started, back in the queue (full, or perhaps not reached), or failed for good. */
    private void send(QueuedJob<JobStart> job, UUID workerId) {
        try {
            gateway.start(workerId, job.start(), Optional.of(job.jobId()));
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
                table.record(failed(job, workerId, e.getMessage()), false);
            }
        } catch (SchedulerException.WorkerDown | SchedulerException.ShuttingDown e) {
            putBack(job);   // never called: it may go anywhere
        } catch (SchedulerException e) {
            // Refused for good (the command cannot start, a policy forbids it, the worker left): the
            // job ends here and says why.
            table.record(failed(job, workerId, e.getMessage()), false);
        } finally {
            sent(job, workerId);
        }
    }

    /** A refusal that does not say the start was not made (a start of the same id in progress, a broken call). */
    private static boolean mayHaveStarted(io.grpc.Status.Code code) {
        return switch (code) {
            case ABORTED, CANCELLED, UNKNOWN -> true;
            default -> false;
        };
    }

    private void putBack(QueuedJob<JobStart> job) {
        lock.lock();
        try {
            queue.putBack(job);
        } finally {
            lock.unlock();
        }
    }

    private void sent(QueuedJob<JobStart> job, UUID workerId) {
        lock.lock();
        try {
            inFlight.merge(workerId, -1, (a, b) -> a + b == 0 ? null : a + b);
            sending.remove(job.jobId());
            moved.signalAll();
        } finally {
            lock.unlock();
        }
        wakeup.wake();
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

    private static Job failed(QueuedJob<JobStart> job, UUID workerId, String why) {
        return new Job(job.jobId(), workerId, job.start().command(), job.start().path(), JobState.FAILED, why,
                OptionalInt.empty(), OptionalInt.empty(), java.util.Optional.empty(), java.util.Optional.empty());
    }

    private static Job lost(QueuedJob<JobStart> job, UUID workerId) {
        return new Job(job.jobId(), workerId, job.start().command(), job.start().path(), JobState.LOST, Job.LOST_TEXT,
                OptionalInt.empty(), OptionalInt.empty(), java.util.Optional.empty(), java.util.Optional.empty());
    }

    /** A job the scheduler holds that no worker has yet (queued or being sent), or one stopped while queued. */
    Optional<Waiting> waiting(String jobId) {
        lock.lock();
        try {
            QueuedJob<JobStart> job = queue.find(jobId).orElse(sending.get(jobId));
            if (job != null) {
                return Optional.of(new Waiting(job, JobState.QUEUED));
            }
            return Optional.ofNullable(stopped.get(jobId)).map(j -> new Waiting(j, JobState.STOPPED));
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
        lock.lock();
        try {
            Conditions.await(moved, () -> !sending.containsKey(jobId), timeout);
            Optional<QueuedJob<JobStart>> removed = queue.remove(jobId);
            removed.ifPresent(job -> stopped.put(jobId, job));
            return removed.isPresent() || stopped.containsKey(jobId);
        } finally {
            lock.unlock();
        }
    }

    /** Waits until the job is no longer queued nor being sent (it started, or ended before it could), up to {@code timeout}. */
    boolean awaitDispatched(String jobId, Duration timeout) throws InterruptedException {
        lock.lock();
        try {
            return Conditions.await(moved, () -> queue.find(jobId).isEmpty() && !sending.containsKey(jobId), timeout);
        } finally {
            lock.unlock();
        }
    }

    /** Up to {@code limit} queued jobs, in dispatch order. */
    List<QueuedJob<JobStart>> queued(int limit) {
        lock.lock();
        try {
            List<QueuedJob<JobStart>> jobs = new ArrayList<>(Math.min(limit, queue.size()));
            for (QueuedJob<JobStart> job : queue.view()) {
                if (jobs.size() == limit) {
                    break;
                }
                jobs.add(job);
            }
            return jobs;
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
