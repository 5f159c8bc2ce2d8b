package io.jobscheduler.scheduler;

import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.jobscheduler.grpc.JobInfo;
import io.jobscheduler.grpc.ListJobsReq;
import io.jobscheduler.grpc.QueryJobReq;
import io.jobscheduler.grpc.StartJobReq;
import io.jobscheduler.grpc.StartJobRes;
import io.jobscheduler.grpc.StopJobReq;
import io.jobscheduler.grpc.WorkerGrpc;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import io.jobscheduler.scheduler.placement.Constraints;
import io.jobscheduler.scheduler.placement.QueuedJob;
import io.jobscheduler.scheduler.store.MemoryStore;
import io.jobscheduler.scheduler.store.SchedulerStore;
import io.jobscheduler.scheduler.store.StoreRecord;

/**
 * The gateway's operations on jobs. Each looks its worker up once ({@link WorkerRegistry#lookup}:
 * unknown, down, or alive with its channel), answers from the {@link JobTable} what the table
 * holds current (every job of a worker that pushes events, every finished job), and otherwise
 * calls the worker outside any lock, on its long-lived channel, with a deadline on every unary
 * call. Failures are {@link SchedulerException}s; the HTTP layer gives them their statuses.
 */
public final class JobGateway {
    private static final System.Logger LOG = System.getLogger(JobGateway.class.getName());

    private final WorkerRegistry registry;
    private final JobTable table;
    private final JobOutput output;
    private final Duration callTimeout;
    private final Duration stopTimeout;
    private final Clock clock;
    private final Wakeup placement;
    private final Dispatcher dispatcher;
    private final IdempotencyKeys keys;
    private final SchedulerMeters meters;

    JobGateway(WorkerRegistry registry, JobTable table, Duration callTimeout, Duration stopTimeout, Clock clock) {
        this(registry, table, callTimeout, stopTimeout, clock, SchedulerMeters.NONE);
    }

    JobGateway(WorkerRegistry registry, JobTable table, Duration callTimeout, Duration stopTimeout, Clock clock,
               SchedulerMeters meters) {
        this(registry, table, callTimeout, stopTimeout, clock, meters, new Queueing(Integer.MAX_VALUE, new Wakeup(),
                new MemoryStore(), List.of(), Duration.ZERO, Duration.ofHours(24)));
    }

    /**
     * How the gateway queues and remembers: {@code [queue] max_size}, the wake-up whatever frees
     * room signals, the store and what it loaded, how long dispatch waits for the workers of
     * before a restart, and {@code [store] idempotency_ttl}.
     */
    record Queueing(int maxQueued, Wakeup placement, SchedulerStore store, List<StoreRecord> journal, Duration hold,
                    Duration idempotencyTtl) {
    }

    JobGateway(WorkerRegistry registry, JobTable table, Duration callTimeout, Duration stopTimeout, Clock clock,
               SchedulerMeters meters, Queueing queueing) {
        this.meters = meters;
        this.registry = registry;
        this.table = table;
        this.output = new JobOutput(meters);
        this.callTimeout = callTimeout;
        this.stopTimeout = stopTimeout;
        this.clock = clock;
        this.placement = queueing.placement();
        this.keys = new IdempotencyKeys(queueing.idempotencyTtl(), clock);
        this.dispatcher = new Dispatcher(registry, table, this::start, queueing.maxQueued(), clock, placement,
                queueing.store());
        JournalRecords.Restored restored = JournalRecords.replay(queueing.journal());
        restored.keys().forEach(keys::restore);
        dispatcher.restore(restored, queueing.hold());
        dispatcher.keysFrom(keys::live);
        dispatcher.start();
    }

    /**
     * An {@code Idempotency-Key} of a start: the caller's scope, the key, and the SHA-256 of the
     * canonical start, which a repeat must match.
     */
    public record Idempotency(String scope, String key, String sha256) {
    }

    /**
     * A start to place: sent now to the best worker with room (or the one pinned), else queued.
     * With an idempotency key, a repeat of the same request answers the job made the first time.
     */
    public Placed submit(JobStart start, Constraints constraints, Optional<UUID> pinned, int priority,
                         Optional<Idempotency> idempotency) {
        if (idempotency.isEmpty()) {
            return placed(dispatcher.submit(new Dispatcher.Submission(start, constraints, pinned, priority,
                    Optional.empty(), Optional.empty())));
        }
        IdempotencyKeys.Scoped key = new IdempotencyKeys.Scoped(idempotency.get().scope(), idempotency.get().key());
        return switch (keys.claim(key, idempotency.get().sha256())) {
            case IdempotencyKeys.Claim.Repeat r -> new Placed(query(r.jobId(), Optional.empty()), false, true);
            case IdempotencyKeys.Claim.Granted g -> {
                Placed placed;
                try {
                    placed = placed(dispatcher.submit(new Dispatcher.Submission(start, constraints, pinned, priority,
                            Optional.of(g.jobId()), keys.record(key, g.jobId()))));
                } catch (RuntimeException e) {
                    keys.release(key);
                    throw e;
                }
                StoreRecord.Key done = keys.complete(key, placed.job().jobId());
                if (!placed.job().jobId().equals(g.jobId())) {
                    // The worker named the job (it cannot adopt ids): the key is journalled after.
                    dispatcher.journal(done);
                }
                yield placed;
            }
        };
    }

    private static Placed placed(Dispatcher.Outcome outcome) {
        return switch (outcome) {
            case Dispatcher.Outcome.Started s -> new Placed(s.job(), false, false);
            case Dispatcher.Outcome.Queued q -> new Placed(Job.waiting(q.job(), JobState.QUEUED), true, false);
        };
    }

    /** The answer to a submission: the job, whether it waits in the queue, and whether it was made by an earlier request. */
    public record Placed(Job job, boolean queued, boolean repeat) {
    }

    /** Stops (or resumes, {@code draining} false) new placements on a worker; false when it is not registered. */
    public boolean drain(UUID workerId, boolean draining) {
        boolean known = registry.drain(workerId, draining);
        placement.wake();
        return known;
    }

    /** How many jobs wait in the queue. */
    public int queued() {
        return dispatcher.queueSize();
    }

    /**
     * The job as the dispatcher holds it, when no worker has it (yet), or it ended before it ran
     * (unless the table holds it: what the table learnt since, from a worker, comes first).
     */
    private Optional<Job> waiting(String jobId, Optional<UUID> workerId) {
        return dispatcher.waiting(jobId)
                .filter(w -> workerId.isEmpty() || workerId.get().equals(w.job().workerId()))
                .filter(w -> w.queued() || table.find(jobId).isEmpty())
                .map(Dispatcher.Waiting::job);
    }

    /** Where a job's output is to be read: on its worker; nowhere, ever (it ended before it ran); not yet (it is queued). */
    public enum OutputAt { WORKER, NEVER, NOT_YET }

    /**
     * Where the job's output can be read. A job on a worker: {@link OutputAt#WORKER} at once. A job
     * no worker has yet has no output: while it is queued this waits up to {@code timeout} for it to
     * leave the queue, then answers {@link OutputAt#WORKER} (it started), {@link OutputAt#NEVER}
     * (stopped, or failed, before it could) or {@link OutputAt#NOT_YET}. The one place both the output
     * route and the event stream learn whether a queued job has output to come.
     */
    public OutputAt awaitOutput(String jobId, Optional<UUID> workerId, Duration timeout) throws InterruptedException {
        Optional<Job> held = waiting(jobId, workerId);
        if (held.isPresent() && held.get().state() == JobState.QUEUED && timeout.isPositive()) {
            dispatcher.awaitDispatched(jobId, timeout);
            held = waiting(jobId, workerId);
        }
        if (held.isEmpty()) {
            return OutputAt.WORKER;
        }
        if (held.get().state() != JobState.QUEUED) {
            return OutputAt.NEVER;
        }
        if (dispatcher.closed()) {
            throw new SchedulerException.ShuttingDown();   // a follower must not hold a shutdown up
        }
        return OutputAt.NOT_YET;
    }

    /**
     * Whether the job's output can be read from a worker now ({@link #awaitOutput(String, Optional, Duration)}):
     * without {@code follow}, false at once for a job no worker has; with it, waits until it starts
     * (true) or ends before it could (false).
     */
    public boolean awaitOutput(String jobId, Optional<UUID> workerId, boolean follow) throws InterruptedException {
        OutputAt at = awaitOutput(jobId, workerId, Duration.ZERO);
        while (follow && at == OutputAt.NOT_YET) {
            at = awaitOutput(jobId, workerId, Duration.ofMinutes(1));
        }
        return at == OutputAt.WORKER;
    }

    /** Where a job is: the worker holding it, that worker's standing, and what the table knows of the job there. */
    private record Target(UUID workerId, WorkerLookup worker, Optional<Job> known, boolean live) {
        /** The table's state is current: the job is finished, or its worker's events keep it so. */
        boolean current() {
            return known.isPresent() && (known.get().done() || live && worker instanceof WorkerLookup.Alive a && a.synced());
        }
    }

    /**
     * Starts a job on the worker and records it; a start that needs a feature the worker did not
     * advertise is never sent (501 over HTTP, naming the feature).
     */
    public Job start(UUID workerId, JobStart start) {
        return start(workerId, start, Optional.empty(), Constraints.NONE);
    }

    /**
     * {@link #start(UUID, JobStart)} naming the job: {@code jobId} is sent as
     * {@code StartJobReq.job_id}, for the worker to adopt (it must advertise {@code job_id}).
     */
    Job start(UUID workerId, JobStart start, Optional<String> jobId, Constraints constraints) {
        WorkerLookup.Alive worker = alive(workerId, registry.lookup(workerId), false);
        for (String feature : start.features()) {
            if (!worker.worker().features.contains(feature)) {
                throw new SchedulerException.WorkerLacksFeature(workerId, feature);
            }
        }
        if (jobId.isPresent() && !worker.worker().features.contains(Worker.JOB_ID)) {
            throw new SchedulerException.WorkerLacksFeature(workerId, Worker.JOB_ID);
        }
        StartJobReq request = jobId.map(id -> start.request().toBuilder().setJobId(id).build()).orElseGet(start::request);
        long asked = System.nanoTime();
        StartJobRes started = call(workerId, null, callTimeout, () -> stub(worker.channel(), callTimeout)
                .startJob(request));
        meters.jobStarted(Duration.ofNanos(System.nanoTime() - asked));
        // The worker's clock says when the job started; an original-contract worker does not say.
        Instant startedAt = started.getStartedAtMillis() == 0 ? clock.instant()
                : Instant.ofEpochMilli(started.getStartedAtMillis());
        Job job = Job.started(started.getJobID(), workerId, start.command(), start.path(), start.args(), constraints,
                startedAt);
        table.record(job, worker.worker().events);
        return table.find(job.jobId()).map(JobTable.Entry::job).orElse(job);
    }

    /** Stops a job; returns once the worker says it has ended. */
    public void stop(String jobId, Optional<UUID> workerId) {
        if (waiting(jobId, workerId).isPresent()) {
            try {
                if (dispatcher.stopWaiting(jobId, callTimeout)) {
                    return;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SchedulerException.ShuttingDown();
            }
        }
        Target target = target(jobId, workerId);
        ManagedChannel channel = alive(target.workerId(), target.worker(), target.known().isPresent()).channel();
        call(target.workerId(), jobId, stopTimeout, () -> stub(channel, stopTimeout)
                .stopJob(StopJobReq.newBuilder().setJobID(jobId).build()));
        // The job has ended, and its end event may still be on its way: a query right after the
        // stop must not answer RUNNING, so the next one asks the worker.
        table.unsettle(jobId);
    }

    /**
     * A job's status. A job whose worker is down is {@code LOST} until the worker is back; a job
     * whose worker left the cluster answers the final state the worker reported as it left
     * ({@code LOST} when none is known).
     */
    public Job query(String jobId, Optional<UUID> workerId) {
        Optional<Job> held = waiting(jobId, workerId);
        if (held.isPresent()) {
            return held.get();
        }
        Target target = target(jobId, workerId);
        return switch (target.worker()) {
            case WorkerLookup.Unknown u -> target.known().filter(Job::done)
                    .orElseGet(() -> lost(jobId, target.workerId(), target.known()));
            case WorkerLookup.Down d -> lost(jobId, target.workerId(), target.known());
            case WorkerLookup.Alive a -> target.current() ? target.known().get() : ask(jobId, target.workerId(), a.channel());
        };
    }

    private static Job lost(String jobId, UUID workerId, Optional<Job> known) {
        return known.orElseGet(() -> new Job(jobId, workerId, "", "", List.of(), Map.of(), JobState.LOST, "", OptionalInt.empty(),
                OptionalInt.empty(), Optional.empty(), Optional.empty())).lost();
    }

    /** Asks the worker (one that does not push events, or a job the table does not hold) and records the answer. */
    private Job ask(String jobId, UUID workerId, ManagedChannel channel) {
        // One line per call at FINE: bench/run counts them to show a listing makes none.
        LOG.log(System.Logger.Level.DEBUG, () -> "QueryJob of job " + jobId + " on worker " + workerId);
        var status = call(workerId, jobId, callTimeout, () -> stub(channel, callTimeout)
                .queryJob(QueryJobReq.newBuilder().setJobID(jobId).build()));
        Job job = Job.of(jobId, workerId, "", "", status);
        table.record(job, false);
        return job;
    }

    /** A page of {@link #list}: its jobs and the cursor of the next page (empty at the end). */
    public record Page(List<JobTable.Entry> entries, Optional<JobsCursor> next) {
    }

    /**
     * A page of the jobs this scheduler holds: the queued ones first (those being sent too), in
     * dispatch order, then the history, newest first: the jobs started through it (or learnt from
     * its workers) by start time, merged with the jobs accepted that ended before they ran (stopped
     * while queued, failed because their worker left, lost on the way) by the time they were
     * submitted, when they would have started (at the same millisecond, those first). The table
     * answers every job it holds current; a job of a worker without events that can still change is
     * asked of its worker (in parallel), and one that cannot answer keeps the last state seen. Jobs
     * of a down worker are {@code LOST}. {@code filter} applies to every part (a job that never
     * started has no start time, so a time bound leaves the queue and the jobs that never ran out);
     * a placed job whose refreshed state no longer matches is left out of the page.
     *
     * <p>While a client pages, jobs move: one queued after the walk began, ahead of its cursor, is
     * not listed (as a job started after the walk began is not); one that leaves the queue before
     * the walk reaches it (for a worker, or ended) is listed in the history, which the walk enters at
     * the newest, so it is never lost; one that leaves the queue after it was listed can be listed
     * again in the history, with its new state (the walk keeps no memory of what it showed). The
     * history's cursor holds a position in each of its two kinds ({@link JobsCursor.History}), so
     * neither is lost or repeated by the merge.
     */
    public Page list(int limit, Optional<JobsCursor> after, JobTable.Filter filter) {
        boolean queueToo = filter.since().isEmpty() && filter.until().isEmpty()
                && (filter.states().isEmpty() || filter.states().contains(JobState.QUEUED));
        if (after.isEmpty() || after.get() instanceof JobsCursor.InQueue) {
            Optional<QueuedJob.Position> from = after.map(c -> ((JobsCursor.InQueue) c).after());
            List<QueuedJob<JobStart>> queued = queueToo
                    ? dispatcher.queued(from, limit + 1, q -> filter.matches(Job.waiting(q, JobState.QUEUED)))
                    : List.of();
            List<JobTable.Entry> entries = new ArrayList<>(Math.min(limit, queued.size()));
            for (QueuedJob<JobStart> job : queued.subList(0, Math.min(limit, queued.size()))) {
                entries.add(new JobTable.Entry(Job.waiting(job, JobState.QUEUED), false));
            }
            if (queued.size() > limit) {
                return new Page(entries, Optional.of(new JobsCursor.InQueue(queued.get(limit - 1).position())));
            }
            if (entries.size() == limit) {
                // The queue filled the page: a next page only if the history holds a match.
                boolean more = !table.page(1, Optional.empty(), filter).entries().isEmpty()
                        || !neverRan(JobsCursor.History.START.neverRanBefore(), 1, filter).isEmpty();
                return new Page(entries, more ? Optional.of(JobsCursor.History.START) : Optional.empty());
            }
            Page rest = history(limit - entries.size(), JobsCursor.History.START, filter);
            entries.addAll(rest.entries());
            return new Page(entries, rest.next());
        }
        return history(limit, (JobsCursor.History) after.get(), filter);
    }

    /** The jobs that ended before they ran, as {@link Dispatcher#neverRan}; none when the filter rules every one out. */
    private List<NeverRanJobs.Listed> neverRan(JobTable.Cursor before, int limit, JobTable.Filter filter) {
        boolean some = filter.since().isEmpty() && filter.until().isEmpty() && (filter.states().isEmpty()
                || filter.states().stream().anyMatch(s -> s == JobState.STOPPED || s == JobState.FAILED || s == JobState.LOST));
        return some ? dispatcher.neverRan(before, limit, filter::matches) : List.of();
    }

    /**
     * A page of the history from {@code from}: placed jobs and jobs that never ran, merged newest
     * first. The table is walked one match at a time, so each placed job listed comes with its exact
     * cursor (the table tells it when a further match exists); after the table's last match its
     * part of the cursor is {@link JobsCursor.History#PLACED_DONE}.
     */
    private Page history(int limit, JobsCursor.History from, JobTable.Filter filter) {
        List<NeverRanJobs.Listed> neverRan = neverRan(from.neverRanBefore(), limit + 1, filter);
        if (neverRan.isEmpty()) {
            // Nothing to merge (the usual case): one look at the table. Any never-ran bound at or
            // below the one given names the same (empty) set; the table's own form is kept when it can be.
            JobTable.Page placed = table.page(limit, Optional.of(from.placedAfter()), filter);
            return new Page(refreshed(placed.entries().stream().map(e -> new HistoryItem(e, true)).toList(), filter),
                    placed.next().map(JobsCursor.History::after).map(next ->
                            next.neverRanBefore().compareTo(from.neverRanBefore()) <= 0 ? next
                                    : new JobsCursor.History(next.placedAfter(), from.neverRanBefore())));
        }
        JobTable.Cursor placedAfter = from.placedAfter();
        JobTable.Cursor neverRanBefore = from.neverRanBefore();
        List<HistoryItem> page = new ArrayList<>();
        JobTable.Page step = table.page(1, Optional.of(placedAfter), filter);
        int taken = 0;
        while (page.size() < limit && (!step.entries().isEmpty() || taken < neverRan.size())) {
            boolean placedNext = !step.entries().isEmpty() && (taken == neverRan.size()
                    || startedMillis(step) > neverRan.get(taken).key().startedMillis());
            if (placedNext) {
                page.add(new HistoryItem(step.entries().getFirst(), true));
                placedAfter = step.next().orElse(JobsCursor.History.PLACED_DONE);
                step = step.next().isPresent() ? table.page(1, step.next(), filter) : new JobTable.Page(List.of(), Optional.empty());
            } else {
                NeverRanJobs.Listed listed = neverRan.get(taken++);
                page.add(new HistoryItem(new JobTable.Entry(listed.job(), false), false));
                neverRanBefore = listed.key();
            }
        }
        boolean more = !step.entries().isEmpty() || taken < neverRan.size();
        return new Page(refreshed(page, filter), more
                ? Optional.of(new JobsCursor.History(placedAfter, neverRanBefore)) : Optional.empty());
    }

    /** A job of a history page: {@code placed} on a worker (the table's), or one that ended before it ran (the dispatcher's). */
    private record HistoryItem(JobTable.Entry entry, boolean placed) {
    }

    /**
     * Where the placed job of a one-job page sorts among the jobs that never ran: its table key's
     * millisecond (the page's {@code next} when a further match exists), else its start, 0 when
     * unknown, as the table keys it. Only the order of the merge depends on it, never what is listed.
     */
    private static long startedMillis(JobTable.Page step) {
        return step.next().map(JobTable.Cursor::startedMillis)
                .orElseGet(() -> step.entries().getFirst().job().startedAt().map(Instant::toEpochMilli).orElse(0L));
    }

    /**
     * The page's placed jobs as they are now: those the table does not hold current are asked of
     * their workers (in parallel), a down worker's are {@code LOST}, and one whose state no longer
     * matches is left out. A job that never ran ({@code workerId} null when it was pinned to none)
     * is as the dispatcher holds it.
     */
    private List<JobTable.Entry> refreshed(List<HistoryItem> page, JobTable.Filter filter) {
        Map<UUID, WorkerLookup> workers = new HashMap<>();
        List<Thread> refreshes = new ArrayList<>();
        for (HistoryItem item : page) {
            if (!item.placed()) {
                continue;
            }
            JobTable.Entry entry = item.entry();
            Job job = entry.job();
            WorkerLookup worker = workers.computeIfAbsent(job.workerId(), registry::lookup);
            Target target = new Target(job.workerId(), worker, Optional.of(job), entry.live());
            if (!target.current() && worker instanceof WorkerLookup.Alive a) {
                refreshes.add(Thread.ofVirtual().start(() -> {
                    try {
                        ask(job.jobId(), job.workerId(), a.channel());
                    } catch (SchedulerException e) {
                        // Keep the last state seen; the job's own route reports the failure.
                    }
                }));
            }
        }
        for (Thread refresh : refreshes) {
            try {
                refresh.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        return page.stream().map(item -> {
            JobTable.Entry e = item.entry();
            if (!item.placed()) {
                return e;
            }
            Job job = refreshes.isEmpty() ? e.job() : table.find(e.job().jobId()).map(JobTable.Entry::job).orElse(e.job());
            return switch (workers.get(job.workerId())) {
                case WorkerLookup.Alive a -> new JobTable.Entry(job, e.live());
                case WorkerLookup.Down d -> new JobTable.Entry(job.lost(), e.live());
                case WorkerLookup.Unknown u -> new JobTable.Entry(job.done() ? job : job.lost(), e.live());
            };
        }).filter(e -> filter.matches(e.job())).toList();
    }

    /**
     * Opens a job's output from {@code offset}. An unreachable worker fails here; so does a job
     * the scheduler does not hold, once the worker's stream has answered (its first chunk or its
     * refusal), before the caller has sent any response header.
     */
    public JobOutput.Call output(String jobId, Optional<UUID> workerId, long offset, boolean follow) {
        Target target = target(jobId, workerId);
        WorkerLookup.Alive worker = alive(target.workerId(), target.worker(), target.known().isPresent());
        return output.open(worker.worker(), jobId, offset, follow, target.known().isEmpty());
    }

    /**
     * The status of a job whose output stream has just ended, which it does once the job has
     * ended: its end state. The job's end event can trail its stream by a moment; the worker is
     * asked then rather than answering {@code RUNNING} from the table.
     */
    public Job ended(String jobId, Optional<UUID> workerId) {
        Job job = query(jobId, workerId);
        if (job.done()) {
            return job;
        }
        table.unsettle(jobId);
        return query(jobId, workerId);
    }

    /** A watch on a job's status, for a stream of its changes. */
    public StateWatch watch(String jobId, Optional<UUID> workerId) {
        return new StateWatch(jobId, workerId);
    }

    /**
     * Waits for news of one job: a change of its table entry (an event, an answer) wakes it at
     * once; a change the table does not hold (its worker went down, or a worker without events)
     * is seen at the next timeout, when the job is queried again.
     */
    public final class StateWatch {
        private final String jobId;
        private final Optional<UUID> workerId;
        private Optional<JobTable.Entry> seen;

        private StateWatch(String jobId, Optional<UUID> workerId) {
            this.jobId = jobId;
            this.workerId = workerId;
            this.seen = table.find(jobId);
        }

        /** The job's status (as {@link #query} answers it) once its entry has changed or {@code timeout} has passed. */
        public Job next(Duration timeout) throws InterruptedException {
            // The entry before the query: a change the query itself records wakes the next wait
            // once more, and no change is missed.
            seen = table.awaitChange(jobId, seen, timeout);
            return query(jobId, workerId);
        }
    }

    /**
     * Ends every output stream (their clients see an aborted body, never a silent truncation)
     * and refuses new ones, so a shutdown drains in-flight requests without waiting on follows.
     */
    public void endStreams() {
        dispatcher.close();
        output.endAll();
    }

    /**
     * The worker holding a job: the one named (which must be registered, or be the job's worker
     * in the table: one that left), else the table's; looked up once.
     */
    private Target target(String jobId, Optional<UUID> workerId) {
        Optional<JobTable.Entry> entry = table.find(jobId);
        UUID holder = workerId.orElseGet(() -> entry.map(e -> e.job().workerId())
                .orElseThrow(() -> new SchedulerException.UnknownJob(jobId)));
        Optional<JobTable.Entry> there = entry.filter(e -> e.job().workerId().equals(holder));
        WorkerLookup worker = registry.lookup(holder);
        if (worker instanceof WorkerLookup.Unknown && there.isEmpty()) {
            throw new SchedulerException.UnknownWorker(holder);
        }
        return new Target(holder, worker, there.map(JobTable.Entry::job), there.map(JobTable.Entry::live).orElse(false));
    }

    /** The worker, which must be alive: a known job's worker that left is {@link SchedulerException.WorkerLeft}. */
    private static WorkerLookup.Alive alive(UUID workerId, WorkerLookup worker, boolean heldJobs) {
        return switch (worker) {
            case WorkerLookup.Alive a -> a;
            case WorkerLookup.Down d -> throw new SchedulerException.WorkerDown(workerId, d.lastSeen());
            case WorkerLookup.Unknown u -> throw heldJobs ? new SchedulerException.WorkerLeft(workerId)
                    : new SchedulerException.UnknownWorker(workerId);
        };
    }

    /**
     * A worker is leaving the cluster of its own accord (it deregisters after stopping its jobs):
     * the final states of its jobs that the table holds are taken now, so they answer after it
     * has gone. Called before the worker is removed, never under a lock; bounded by the call
     * timeout. A worker that cannot answer leaves its jobs {@code LOST}.
     */
    public void departing(UUID workerId) {
        if (!(registry.lookup(workerId) instanceof WorkerLookup.Alive worker)) {
            return;
        }
        try {
            for (JobInfo job : stub(worker.channel(), callTimeout).listJobs(ListJobsReq.getDefaultInstance()).getJobsList()) {
                Job last = Job.of(job.getJobID(), workerId, job.getCommand(), job.getPath(), job.getStatus());
                if (last.done() && table.find(last.jobId()).isPresent()) {
                    table.record(last, false);
                }
            }
        } catch (StatusRuntimeException e) {
            LOG.log(System.Logger.Level.INFO, "worker " + workerId + " left without listing its jobs ("
                    + e.getStatus().getCode() + "); they stay LOST");
        }
    }

    /**
     * Forgets a worker that is down ({@code DELETE /workers/{id}}): it leaves the registry and
     * its jobs that had not ended are {@code LOST} from now on. Returns how many were marked.
     */
    public int forget(UUID workerId) {
        return switch (registry.removeIfDown(workerId)) {
            case REMOVED -> {
                placement.wake();   // the jobs queued for it end now: it has left the cluster
                yield table.loseAll(workerId);
            }
            case ALIVE -> throw new SchedulerException.WorkerAlive(workerId);
            case UNKNOWN -> throw new SchedulerException.UnknownWorker(workerId);
        };
    }

    private static WorkerGrpc.WorkerBlockingStub stub(ManagedChannel channel, Duration deadline) {
        return WorkerGrpc.newBlockingStub(channel).withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
    }

    private interface Call<T> {
        T run();
    }

    /** Runs a call on {@code workerId} about {@code jobId} (null for none) made with {@code deadline}. */
    private static <T> T call(UUID workerId, String jobId, Duration deadline, Call<T> call) {
        try {
            return call.run();
        } catch (StatusRuntimeException e) {
            throw WorkerFailures.of(workerId, jobId, deadline, e);
        }
    }
}
