package io.jobscheduler.scheduler;

import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.jobscheduler.grpc.JobInfo;
import io.jobscheduler.grpc.ListJobsReq;
import io.jobscheduler.grpc.QueryJobReq;
import io.jobscheduler.grpc.QueryJobRes;
import io.jobscheduler.grpc.StartJobReq;
import io.jobscheduler.grpc.StartJobRes;
import io.jobscheduler.grpc.StopJobReq;
import io.jobscheduler.grpc.StreamJobReq;
import io.jobscheduler.grpc.StreamJobRes;
import io.jobscheduler.grpc.WorkerGrpc;
import java.io.IOException;
import java.io.OutputStream;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.OptionalInt;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * Translates the gateway's operations into calls on the worker that holds the job: the worker is
 * looked up (liveness, channels and job index each under their own lock), then called outside
 * any lock on its long-lived channel, with a deadline on every unary call. A failed call becomes
 * a {@link WorkerCallException} carrying the HTTP status its gRPC status maps to.
 */
public final class JobGateway implements WorkerRegistry.Listener {
    private static final System.Logger LOG = System.getLogger(JobGateway.class.getName());
    static final String LOST = "LOST";

    private final WorkerChannels channels;
    private final WorkerLiveness liveness;
    private final JobIndex index;
    private final Duration callTimeout;
    private final Duration stopTimeout;
    private final Clock clock;
    private final ReentrantLock lock = new ReentrantLock();
    private final Set<OutputStreamCall> following = new HashSet<>();   // guarded by lock
    private boolean closing;                                           // guarded by lock

    public JobGateway(WorkerChannels channels, WorkerLiveness liveness, JobIndex index,
                      Duration callTimeout, Duration stopTimeout, Clock clock) {
        this.channels = channels;
        this.liveness = liveness;
        this.index = index;
        this.callTimeout = callTimeout;
        this.stopTimeout = stopTimeout;
        this.clock = clock;
    }

    /** Starts {@code command path} on the worker and records the job in the index. */
    public JobIndex.Entry start(UUID workerId, String command, String path) {
        if (liveness.health(workerId).isEmpty()) {
            throw new WorkerCallException(404, "worker '" + workerId + "' is not registered");
        }
        var worker = stub(reachable(workerId), callTimeout);
        StartJobRes started = call(workerId, null, callTimeout, () -> worker.startJob(StartJobReq.newBuilder()
                .setCommand(command).setPath(path).build()));
        // The worker's clock says when the job started; an original-contract worker does not say.
        Instant startedAt = instant(started.getStartedAtMillis()).orElseGet(clock::instant);
        JobIndex.Entry entry = new JobIndex.Entry(started.getJobID(), workerId, command, path, startedAt, "RUNNING");
        index.put(entry);
        return entry;
    }

    /** Stops a job; returns once the worker says it has ended. */
    public void stop(String jobId, Optional<UUID> workerId) {
        UUID holder = holder(jobId, workerId);
        var worker = stub(reachable(holder), stopTimeout);
        call(holder, jobId, stopTimeout, () -> worker.stopJob(StopJobReq.newBuilder().setJobID(jobId).build()));
    }

    /**
     * A job's status. A job whose worker is down is {@code LOST} until the worker is back; a job
     * whose worker left the cluster answers the final state the worker reported as it left
     * ({@code LOST} when none is known).
     */
    public JobView query(String jobId, Optional<UUID> workerId) {
        UUID holder = holder(jobId, workerId);
        Optional<JobView> finished = index.find(jobId)
                .filter(e -> e.workerId().equals(holder) && e.finished() != null)
                .map(JobIndex.Entry::finished);
        Optional<WorkerLiveness.Health> health = liveness.health(holder);
        if (health.isEmpty()) {
            return finished.orElseGet(() -> lost(jobId, holder));
        }
        if (health.get().state() != WorkerLiveness.State.ALIVE) {
            return lost(jobId, holder);
        }
        return finished.orElseGet(() -> query(jobId, holder, reachable(holder)));
    }

    private JobView lost(String jobId, UUID holder) {
        return new JobView(jobId, holder, true, true, "worker lost", LOST, OptionalInt.empty(), OptionalInt.empty(),
                index.find(jobId).map(JobIndex.Entry::startedAt), Optional.empty());
    }

    private JobView query(String jobId, UUID holder, ManagedChannel channel) {
        var worker = stub(channel, callTimeout);
        QueryJobRes status = call(holder, jobId, callTimeout,
                () -> worker.queryJob(QueryJobReq.newBuilder().setJobID(jobId).build()));
        JobView view = view(jobId, holder, status);
        index.recordStatus(view);
        return view;
    }

    /**
     * A page of the jobs started through this scheduler, newest first. States that can still
     * change are asked of their workers (in parallel); a worker that cannot answer leaves the
     * last state seen.
     */
    public JobIndex.Page list(int limit, Optional<String> cursor) {
        JobIndex.Page page = index.page(limit, cursor);
        List<Thread> refreshes = new ArrayList<>();
        for (JobIndex.Entry entry : page.entries()) {
            if (entry.state().equals("RUNNING") && isAlive(entry.workerId())) {
                channels.channel(entry.workerId()).ifPresent(channel -> refreshes.add(Thread.ofVirtual().start(() -> {
                    try {
                        query(entry.jobId(), entry.workerId(), channel);
                    } catch (WorkerCallException e) {
                        // Keep the last state seen; the job's own route reports the failure.
                    }
                })));
            }
        }
        for (Thread refresh : refreshes) {
            try {
                refresh.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new WorkerCallException(503, "interrupted while asking workers for job states");
            }
        }
        List<JobIndex.Entry> fresh = page.entries().stream()
                .map(e -> index.find(e.jobId()).orElse(e))
                .map(e -> isAlive(e.workerId()) || (e.finished() != null && liveness.health(e.workerId()).isEmpty())
                        ? e : e.withState(LOST))
                .toList();
        return new JobIndex.Page(fresh, page.next());
    }

    /**
     * Opens a job's output from {@code offset}. The job is queried first, so an unknown job or an
     * unreachable worker fails here, before the caller has sent any response header.
     */
    public OutputStreamCall output(String jobId, Optional<UUID> workerId, long offset, boolean follow) {
        UUID holder = holder(jobId, workerId);
        query(jobId, holder, reachable(holder));
        WorkerChannels.Lease lease = channels.leaseStreamChannel(holder).orElseThrow(() -> left(holder));
        // No deadline: a follow lasts as long as the job. Closing the context cancels the call.
        Context.CancellableContext context = Context.current().withCancellation();
        StreamJobReq request = StreamJobReq.newBuilder().setJobID(jobId).setOffset(offset).setFollow(follow).build();
        Iterator<StreamJobRes> chunks;
        Context previous = context.attach();
        try {
            chunks = WorkerGrpc.newBlockingStub(lease.channel()).streamJob(request);
        } finally {
            context.detach(previous);
        }
        OutputStreamCall call = new OutputStreamCall(holder, offset, chunks, context, lease, this::forget);
        lock.lock();
        try {
            if (!closing) {
                following.add(call);
                return call;
            }
        } finally {
            lock.unlock();
        }
        call.close();
        throw new WorkerCallException(503, "the scheduler is shutting down");
    }

    private void forget(OutputStreamCall call) {
        lock.lock();
        try {
            following.remove(call);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Ends every output stream (their clients see an aborted body, never a silent truncation)
     * and refuses new ones, so a shutdown drains in-flight requests without waiting on follows.
     */
    public void endStreams() {
        List<OutputStreamCall> open;
        lock.lock();
        try {
            closing = true;
            open = new ArrayList<>(following);
        } finally {
            lock.unlock();
        }
        open.forEach(OutputStreamCall::close);
    }

    /**
     * The worker holding a job: the one named (which must be registered, or be the job's worker
     * in the index: one that left), else the index's.
     */
    private UUID holder(String jobId, Optional<UUID> workerId) {
        Optional<UUID> indexed = index.find(jobId).map(JobIndex.Entry::workerId);
        if (workerId.isPresent()) {
            requireWorker(jobId, workerId.get());
            return workerId.get();
        }
        return indexed.orElseThrow(() -> new WorkerCallException(404,
                "job '" + jobId + "' is not known to the scheduler; pass worker_id to ask a worker directly"));
    }

    /**
     * Refuses (404) a named worker that is neither registered nor the indexed holder of the job
     * (a worker that left keeps answering for the jobs it held).
     */
    public void requireWorker(String jobId, UUID workerId) {
        if (liveness.health(workerId).isEmpty()
                && !index.find(jobId).map(JobIndex.Entry::workerId).equals(Optional.of(workerId))) {
            throw new WorkerCallException(404, "worker '" + workerId + "' is not registered");
        }
    }

    private static WorkerCallException left(UUID workerId) {
        return new WorkerCallException(503, "worker '" + workerId + "' has left the cluster; what it held"
                + " (a job's output, stops) is out of reach until it registers again");
    }

    private boolean isAlive(UUID workerId) {
        return liveness.health(workerId).map(h -> h.state() == WorkerLiveness.State.ALIVE).orElse(false);
    }

    /** The channel to a worker that is registered and alive; 503 otherwise. */
    private ManagedChannel reachable(UUID workerId) {
        Optional<WorkerLiveness.Health> health = liveness.health(workerId);
        if (health.isPresent() && health.get().state() == WorkerLiveness.State.DOWN) {
            throw new WorkerCallException(503, "worker '" + workerId + "' is down (last seen "
                    + health.get().lastSeen() + ")");
        }
        return channels.channel(workerId).orElseThrow(() -> left(workerId));
    }

    /**
     * A worker is leaving the cluster of its own accord (it deregisters after stopping its jobs):
     * the final states of its jobs that the index holds are taken now, so they answer after it
     * has gone. Called before the worker is removed, never under a lock; bounded by the call
     * timeout. A worker that cannot answer leaves its jobs {@code LOST}.
     */
    public void departing(UUID workerId) {
        Optional<ManagedChannel> channel = channels.channel(workerId);
        if (channel.isEmpty()) {
            return;
        }
        try {
            for (JobInfo job : stub(channel.get(), callTimeout).listJobs(ListJobsReq.getDefaultInstance()).getJobsList()) {
                JobView view = view(job.getJobID(), workerId, job.getStatus());
                if (view.done()) {
                    index.recordStatus(view);
                }
            }
        } catch (StatusRuntimeException e) {
            LOG.log(System.Logger.Level.INFO, "worker " + workerId + " left without listing its jobs ("
                    + e.getStatus().getCode() + "); they stay LOST");
        }
    }

    /**
     * A worker joined (or came back after a scheduler restart): learn its jobs, so every job id
     * it holds answers again without naming its worker.
     */
    @Override
    public void added(WorkerRecord worker) {
        Thread.ofVirtual().name("index-" + worker.id()).start(() -> {
            var channel = channels.channel(worker.id());
            if (channel.isEmpty()) {
                return;
            }
            try {
                var jobs = stub(channel.get(), callTimeout).listJobs(ListJobsReq.getDefaultInstance()).getJobsList();
                for (JobInfo job : jobs) {
                    if (index.find(job.getJobID()).isEmpty()) {
                        QueryJobRes status = job.getStatus();
                        Instant started = status.getStartedAtMillis() == 0 ? clock.instant()
                                : Instant.ofEpochMilli(status.getStartedAtMillis());
                        index.put(new JobIndex.Entry(job.getJobID(), worker.id(), job.getCommand(), job.getPath(),
                                started, view(job.getJobID(), worker.id(), status).state()));
                    }
                }
            } catch (StatusRuntimeException e) {
                // An original-contract worker has no ListJobs; its jobs stay reachable by worker_id.
                LOG.log(System.Logger.Level.DEBUG, "cannot list jobs of worker " + worker.id() + ": " + e.getStatus());
            }
        });
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
            throw WorkerCallException.of(workerId, jobId, deadline, e);
        }
    }

    static JobView view(String jobId, UUID workerId, QueryJobRes status) {
        // An original-contract worker leaves state empty: derive it from done/error.
        String state = !status.getState().isEmpty() ? status.getState()
                : !status.getDone() ? "RUNNING" : status.getError() ? "FAILED" : "SUCCEEDED";
        return new JobView(jobId, workerId, status.getDone(), status.getError(), status.getErrorText(), state,
                status.hasExitCode() ? OptionalInt.of(status.getExitCode()) : OptionalInt.empty(),
                status.hasSignal() ? OptionalInt.of(status.getSignal()) : OptionalInt.empty(),
                instant(status.getStartedAtMillis()), instant(status.getFinishedAtMillis()));
    }

    private static Optional<Instant> instant(long millis) {
        return millis == 0 ? Optional.empty() : Optional.of(Instant.ofEpochMilli(millis));
    }

    /**
     * A job's output arriving from its worker, chunk by chunk, in order. Closing it cancels the
     * worker's stream at once (the HTTP client went away, or the caller is done).
     */
    public static final class OutputStreamCall implements AutoCloseable {
        private final UUID workerId;
        private final Iterator<StreamJobRes> chunks;
        private final Context.CancellableContext context;
        private final WorkerChannels.Lease lease;
        private final Consumer<OutputStreamCall> onClose;
        private long position;

        OutputStreamCall(UUID workerId, long offset, Iterator<StreamJobRes> chunks, Context.CancellableContext context,
                         WorkerChannels.Lease lease, Consumer<OutputStreamCall> onClose) {
            this.workerId = workerId;
            this.position = offset;
            this.chunks = chunks;
            this.context = context;
            this.lease = lease;
            this.onClose = onClose;
        }

        /**
         * Writes the next chunk to {@code sink} (without copying it); false once every byte has
         * been sent.
         */
        public boolean sendNext(OutputStream sink) throws IOException {
            StreamJobRes chunk;
            try {
                if (!chunks.hasNext()) {
                    return false;
                }
                chunk = chunks.next();
            } catch (StatusRuntimeException e) {
                throw WorkerCallException.of(workerId, e);
            }
            // A chunk that does not start where the last ended would lose or repeat bytes.
            // (Offset 0 after the start is an original-contract worker that leaves it unset.)
            if (chunk.getOffset() != position && chunk.getOffset() != 0) {
                throw new WorkerCallException(502, "worker " + workerId + " sent output at offset "
                        + chunk.getOffset() + ", expected " + position);
            }
            position += chunk.getOutput().size();
            chunk.getOutput().writeTo(sink);
            return true;
        }

        /** Cancels the worker's stream if it is still open, and returns its channel to the pool. */
        @Override
        public void close() {
            context.cancel(null);
            lease.close();
            onClose.accept(this);
        }
    }
}
