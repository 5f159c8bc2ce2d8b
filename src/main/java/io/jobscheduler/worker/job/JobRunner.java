package io.jobscheduler.worker.job;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * Runs jobs: ties a {@link ProcessDriver} (how a process is started, watched and signalled) to the
 * {@link JobStore} (the job table, records, retention) and publishes every start and end to the
 * {@link EventLog}. A job that a previous worker process left running is handed to the driver's
 * recovery and marked failed, never re-run.
 *
 * <p>A job ends once its process has exited and its output is complete: a background descendant
 * that keeps the output open keeps the job running (stop ends both). With job cgroups
 * ({@link JobConfinement}) the kill after the grace period reaches every process of the job, and
 * what is left when the job ends is killed with its cgroup; without them, descendants that leave
 * the process group (setsid) are beyond a group signal, and stop cuts their output loose.
 *
 * <p>Thread-safe; every method may be called from virtual threads.
 */
public final class JobRunner implements AutoCloseable {

    private final Termination termination;
    private final JobShaper shaper;
    private final Supplier<String> workerId;
    private final JobTimeouts timeouts = new JobTimeouts();
    private final JobStore store;
    private final ProcessDriver driver;
    private final EventLog events;
    private final DescriptorReserve descriptors = DescriptorReserve.ofThisProcess();

    private final ReentrantLock lock = new ReentrantLock();
    private final Map<String, RunningJob> running = new HashMap<>();   // guarded by lock
    private boolean closed;                                          // guarded by lock
    private final RunnerMeters meters;

    /**
     * A runner of the original contract: any command, as the worker's user, in {@code workDir}.
     *
     * @param workDir         where jobs run and relative commands and paths resolve; must exist
     * @param dataDir         where job records and output are kept; created if missing
     * @param stopGrace       time between SIGTERM and SIGKILL when stopping a job
     * @param keepFinished    finished jobs kept; older ones are deleted
     * @param keepOutputBytes total output of finished jobs kept; older jobs are deleted beyond it
     */
    public JobRunner(Path workDir, Path dataDir, Duration stopGrace, int keepFinished, long keepOutputBytes)
            throws IOException {
        this(JobShaper.open(workDir), () -> "", dataDir, stopGrace, keepFinished, keepOutputBytes);
    }

    /**
     * @param shaper   the worker's rules for what a start may ask
     * @param workerId the worker's id as the scheduler knows it (empty until registered), for the
     *                 job's JOBSCHEDULER_WORKER_ID
     */
    public JobRunner(JobShaper shaper, Supplier<String> workerId, Path dataDir, Duration stopGrace, int keepFinished,
                     long keepOutputBytes) throws IOException {
        this(shaper, workerId, dataDir, stopGrace, keepFinished, keepOutputBytes, RunnerMeters.NONE);
    }

    /** As the constructor above, telling {@code meters} of every spawn and every output byte written. */
    public JobRunner(JobShaper shaper, Supplier<String> workerId, Path dataDir, Duration stopGrace, int keepFinished,
                     long keepOutputBytes, RunnerMeters meters) throws IOException {
        this(shaper, workerId, dataDir, stopGrace, keepFinished, keepOutputBytes, new EventLog(),
                new PosixProcessDriver("job-watcher " + dataDir.getFileName()), meters);
    }

    /** A runner on a driver of the caller's; it closes the driver, also when it cannot load the store. */
    JobRunner(JobShaper shaper, Supplier<String> workerId, Path dataDir, Duration stopGrace, int keepFinished,
              long keepOutputBytes, EventLog events, ProcessDriver driver) throws IOException {
        this(shaper, workerId, dataDir, stopGrace, keepFinished, keepOutputBytes, events, driver, RunnerMeters.NONE);
    }

    private JobRunner(JobShaper shaper, Supplier<String> workerId, Path dataDir, Duration stopGrace, int keepFinished,
                      long keepOutputBytes, EventLog events, ProcessDriver driver, RunnerMeters meters) throws IOException {
        this.meters = meters;
        try {
            Objects.requireNonNull(stopGrace, "stopGrace");
            if (stopGrace.isNegative()) {
                throw new IllegalArgumentException("stopGrace must not be negative: " + stopGrace);
            }
            this.termination = new Termination(stopGrace);
            this.shaper = shaper;
            this.workerId = workerId;
            this.events = events;
            this.driver = driver;
            this.store = new JobStore(dataDir, keepFinished, keepOutputBytes);
            store.load(driver::recover);
        } catch (IOException | RuntimeException e) {
            driver.close();
            timeouts.close();
            throw e;
        }
    }

    /** The events of this runner's jobs; new (with a new boot id) for every runner. */
    public EventLog events() {
        return events;
    }

    /** Starts {@code command path} as the original contract does (see {@link #start(JobRequest)}). */
    public JobStatus start(String command, String path)
            throws StartRefusedException, SpawnException, JobStorageException, RunnerClosedException {
        return start(JobRequest.of(command, path));
    }

    /**
     * Spawns {@code command path args…} (no shell; an empty path is left out) as the worker's rules
     * shape it ({@link JobShaper}); returns once it runs. A start that fails leaves nothing behind:
     * no folder, no process.
     *
     * @throws StartRefusedException the request is malformed, forbidden or beyond this worker's bounds
     * @throws SpawnException       the command cannot start, or the worker is out of descriptors,
     *                              memory or disk ({@link SpawnException#workerExhausted()})
     * @throws JobStorageException  the job's files cannot be written (and the job does not run)
     * @throws RunnerClosedException the worker is shutting down
     */
    public JobStatus start(JobRequest request)
            throws StartRefusedException, SpawnException, JobStorageException, RunnerClosedException {
        JobShaper.Plan plan = shaper.plan(request);
        ensureOpen();
        descriptors.check();
        String id = UUID.randomUUID().toString();
        OutputLog output;
        try {
            output = store.create(id);
        } catch (IOException e) {
            throw JobStore.storageFailure("cannot create the job's folder in data_dir", e);
        }
        ProcessDriver.Started process;
        try {
            Path cwd = plan.isolated() ? store.createWorkDir(id, plan.user()) : shaper.workDir();
            long spawning = System.nanoTime();
            process = shaper.confinement().start(driver, id, plan.limits(), plan.launch(id, workerId.get(), cwd));
            meters.spawned(Duration.ofNanos(System.nanoTime() - spawning));
        } catch (IOException e) {
            forget(id, output);
            throw JobStore.storageFailure("cannot create the job's working folder in data_dir", e);
        } catch (SpawnException | RuntimeException e) {
            forget(id, output);
            throw e;
        }
        Job job = Job.running(id, request.command(), request.path(), Instant.now(), process.pgid(), process.startTicks(), output);
        // The start record goes first: once watched, the job may end and its final record be written.
        IOException unrecorded = null;
        try {
            store.writeFirst(job);
        } catch (IOException e) {
            unrecorded = e;
        }
        RunningJob entry = new RunningJob(job, process, unrecorded == null);
        if (!admit(entry)) {
            // The runner closed while this job was being spawned: kill it rather than leave it unwatched.
            process.discard();
            forget(id, output);
            throw new RunnerClosedException();
        }
        if (entry.recorded()) {
            events.change(() -> {
                store.add(job);
                return Optional.of(job.status());
            });
            // Armed before the job is watched, so before it can end: its end always disarms it.
            plan.timeout().ifPresent(timeout -> timeouts.arm(id, timeout, () -> timeOut(job, timeout)));
        } else {
            // A job without a record would be invisible to the next worker: it is killed, watched
            // until reaped, then its folder is deleted; no one ever sees it.
            job.requestStop();
            process.signal(ProcessDriver.Signal.KILL);
        }
        // The answer describes the job as started: once watched, a short job may end at any moment.
        JobStatus started = job.status();
        process.watch(new JobReports(entry, plan.limits().outputBytes(), events, this::ended, meters));
        if (unrecorded != null) {
            throw JobStore.storageFailure("cannot store the job's record in data_dir (the job was killed)", unrecorded);
        }
        return started;
    }

    /** Leaves nothing of a start that did not happen. */
    private void forget(String id, OutputLog output) {
        output.closeWriter();
        store.delete(id);
    }

    private boolean admit(RunningJob entry) {
        lock.lock();
        try {
            if (!closed) {
                running.put(entry.job().id(), entry);
            }
            return !closed;
        } finally {
            lock.unlock();
        }
    }

    /**
     * SIGTERM to the job's process group, SIGKILL to the group after the grace period; returns once
     * the job has ended (state STOPPED). Stopping a finished job does nothing.
     */
    public JobStatus stop(String jobId) throws UnknownJobException, InterruptedException {
        Job job = find(jobId);
        if (job.requestStop()) {
            terminate(job);
        }
        return job.status();
    }

    /** A job still running at its timeout is stopped as {@link #stop} stops it, and fails saying so. */
    private void timeOut(Job job, Duration timeout) {
        if (job.requestFailingStop("timed out after " + JobShaper.text(timeout))) {
            try {
                terminate(job);
            } catch (InterruptedException e) {
                // Nothing interrupts this thread of its own; were it, the runner's close kills the job.
                Thread.currentThread().interrupt();
            }
        }
    }

    private void terminate(Job job) throws InterruptedException {
        termination.end(job, runningOf(job.id()));
    }

    public JobStatus status(String jobId) throws UnknownJobException {
        return find(jobId).status();
    }

    /** Waits up to {@code timeout} for a job to end; returns its status either way. */
    public JobStatus awaitEnd(String jobId, Duration timeout) throws UnknownJobException, InterruptedException {
        Job job = find(jobId);
        job.awaitEnd(timeout);
        return job.status();
    }

    /** Waits, however long it takes, until a job has ended and its final record is stored. */
    public JobStatus awaitEnd(String jobId) throws UnknownJobException, InterruptedException {
        Job job = find(jobId);
        job.awaitEnd();
        return job.status();
    }

    /** Every job known, newest first. */
    public List<JobStatus> list() {
        return snapshot().value();
    }

    /** Every job known, newest first, with the event sequence number the list reflects. */
    public EventLog.Snapshot<List<JobStatus>> snapshot() {
        return events.snapshot(() -> store.all().stream().map(Job::status).toList());
    }

    public int runningCount() {
        lock.lock();
        try {
            return (int) running.values().stream().filter(r -> r.recorded() && !r.job().done()).count();
        } finally {
            lock.unlock();
        }
    }

    /** The output of a job, readable from any offset while it runs and after it ended. */
    public OutputLog output(String jobId) throws UnknownJobException {
        return find(jobId).output();
    }

    /** Stops every running job (SIGTERM, grace, SIGKILL) and releases the driver. */
    @Override
    public void close() {
        List<RunningJob> all;
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            all = new ArrayList<>(running.values());
        } finally {
            lock.unlock();
        }
        boolean interrupted = false;
        try {
            termination.endAll(all);
        } catch (InterruptedException e) {
            interrupted = true;
        }
        timeouts.close();
        driver.close();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * For tests of restart recovery: lets go of every job as a crashed worker would, without
     * signalling any process or updating any record.
     */
    void abandon() {
        List<RunningJob> all;
        lock.lock();
        try {
            closed = true;
            all = new ArrayList<>(running.values());
        } finally {
            lock.unlock();
        }
        timeouts.close();
        driver.close();
        for (RunningJob r : all) {
            r.job().output().closeWriter();
        }
    }

    /** The job's process group id (= pid of its first process); for tests. */
    int pgidOf(String jobId) throws UnknownJobException {
        return find(jobId).pgid();
    }

    private Job find(String jobId) throws UnknownJobException {
        return store.find(jobId).orElseThrow(() -> new UnknownJobException(jobId));
    }

    private Optional<RunningJob> runningOf(String jobId) {
        lock.lock();
        try {
            return Optional.ofNullable(running.get(jobId));
        } finally {
            lock.unlock();
        }
    }

    private void ensureOpen() throws RunnerClosedException {
        lock.lock();
        try {
            if (closed) {
                throw new RunnerClosedException();
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stores an ended job's final record, applies retention and wakes whoever waits for the end. Runs
     * on a virtual thread of its own (see {@link JobReports}), so that the record's disk writes
     * never hold up the driver's thread, which reads every other job's output.
     */
    private void ended(RunningJob entry) {
        Job job = entry.job();
        timeouts.disarm(job.id());
        lock.lock();
        try {
            running.remove(job.id());
        } finally {
            lock.unlock();
        }
        // Whatever is left of the job (descendants that left its group, in its cgroup) goes with it.
        entry.process().release();
        try {
            if (entry.recorded()) {
                store.finished(job);
            } else {
                store.delete(job.id());
            }
        } finally {
            job.settle();
        }
    }

}
