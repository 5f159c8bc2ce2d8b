package io.jobscheduler.worker.job;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Runs jobs as operating-system processes, each the leader of its own session and process group,
 * keeps their output in files under {@code dataDir/jobs/<id>/}, and records every job so that a
 * later runner on the same data directory knows what happened (a job that was running when the
 * worker died is killed and marked failed, never re-run).
 *
 * <p>A job ends once its process has exited and its output is complete: a background descendant
 * that keeps the output open keeps the job running (stop ends both). Descendants that leave the
 * process group (setsid) are beyond {@code kill(-pgid)}; stop then cuts their output loose.
 *
 * <p>Thread-safe; every method may be called from virtual threads. Blocking native calls (waiting
 * for processes and output) happen on one platform thread, see {@link ProcessWatcher}.
 */
public final class JobRunner implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(JobRunner.class.getName());

    private final Duration stopGrace;
    private final int keepFinished;
    private final long keepOutputBytes;
    private final JobRecords records;
    private final ProcessSpawner spawner;
    private final ProcessWatcher watcher;
    /** posix_spawnp blocks until the child has exec'd: virtual callers hand it to these platform threads. */
    private final ExecutorService spawnThreads;

    private final ReentrantLock lock = new ReentrantLock();
    private final Map<String, Job> jobs = new LinkedHashMap<>();    // guarded by lock; in start order
    private final Map<String, Watch> watches = new HashMap<>();      // guarded by lock; running jobs only
    /** Finished jobs whose final record is stored, oldest end first: retention evicts from the head. */
    private final Deque<Finished> finished = new ArrayDeque<>();    // guarded by lock
    private long finishedBytes;                                      // guarded by lock: output of finished
    private boolean closed;                                          // guarded by lock

    /**
     * A running job and what the runner needs to cut its output loose; {@code recorded} is false for a
     * job killed at start because its record could not be stored (deleted once it has ended).
     */
    private record Watch(Job job, int outputFd, ProcessWatcher.Events events, boolean recorded) {
    }

    /**
     * A finished job as retention sees it. Its end time and output size never change once it has
     * ended (the output is complete), so they are read once, not under the runner's lock.
     */
    private record Finished(Job job, Instant finishedAt, long outputBytes) {
        static Finished of(Job job) {
            return new Finished(job, job.finishedAt(), job.output().length());
        }
    }

    /**
     * @param workDir         where jobs run and relative commands and paths resolve; must exist
     * @param dataDir         where job records and output are kept; created if missing
     * @param stopGrace       time between SIGTERM and SIGKILL when stopping a job
     * @param keepFinished    finished jobs kept; older ones are deleted
     * @param keepOutputBytes total output of finished jobs kept; older jobs are deleted beyond it
     */
    public JobRunner(Path workDir, Path dataDir, Duration stopGrace, int keepFinished, long keepOutputBytes)
            throws IOException {
        Objects.requireNonNull(stopGrace, "stopGrace");
        if (!Files.isDirectory(workDir)) {
            throw new IOException("work directory does not exist or is not a directory: " + workDir);
        }
        if (stopGrace.isNegative()) {
            throw new IllegalArgumentException("stopGrace must not be negative: " + stopGrace);
        }
        if (keepFinished < 0 || keepOutputBytes < 0) {
            throw new IllegalArgumentException("retention limits must not be negative");
        }
        this.stopGrace = stopGrace;
        this.keepFinished = keepFinished;
        this.keepOutputBytes = keepOutputBytes;
        this.records = new JobRecords(dataDir);
        this.spawner = new ProcessSpawner(workDir.toRealPath());
        recover();
        this.watcher = new ProcessWatcher("job-watcher " + dataDir.getFileName());
        this.spawnThreads = Executors.newFixedThreadPool(Math.max(2, Runtime.getRuntime().availableProcessors()),
                Thread.ofPlatform().name("job-spawn-", 0).daemon(true).factory());
        applyRetention();
    }

    /** Loads every stored job; one that a previous worker left running is killed and marked failed. */
    private void recover() throws IOException {
        List<Finished> restored = new ArrayList<>();
        for (JobRecords.Stored stored : records.loadAll()) {
            JobStatus s = stored.status();
            Job job = Job.restored(s, stored.pgid(), stored.startTicks(),
                    OutputLog.completed(records.outputOf(s.id())));
            if (s.state() == JobState.RUNNING) {
                killLeftover(stored.pgid(), stored.startTicks());
                job.failOnRestart(Instant.now());
                records.write(job);
                job.settle();
            }
            jobs.put(s.id(), job);
            restored.add(Finished.of(job));
        }
        restored.sort(Comparator.comparing(Finished::finishedAt));
        for (Finished f : restored) {
            finished.addLast(f);
            finishedBytes += f.outputBytes();
        }
    }

    /**
     * Kills a process group a previous worker left behind. While any member of a group lives, the
     * kernel does not reuse its id for a new process, so if no process holds the pid or the process
     * holding it started when the job did, the group is the job's. A pid reused by an unrelated
     * process (a different start time) is left alone. The remaining risk is the narrow window of a
     * group dying and its id being reused between the check and the kill.
     */
    private static void killLeftover(int pgid, long startTicks) {
        var ticks = ProcStat.startTicks(pgid);
        if (ticks.isEmpty() || ticks.getAsLong() == startTicks) {
            Posix.killGroup(pgid, Posix.SIGKILL);
        }
    }

    /**
     * Spawns {@code command path} (no shell; an empty path runs the command alone); returns once it
     * runs. A start that fails leaves nothing behind: no folder, no process.
     *
     * @throws SpawnException the command cannot start, or the worker is out of descriptors,
     *                        memory or disk ({@link SpawnException#workerExhausted()})
     */
    public JobStatus start(String command, String path) throws SpawnException {
        Objects.requireNonNull(command, "command");
        Objects.requireNonNull(path, "path");
        if (command.isEmpty()) {
            throw new IllegalArgumentException("command must not be empty");
        }
        ensureOpen();
        String id = UUID.randomUUID().toString();
        OutputLog output;
        try {
            records.createDir(id);
            output = OutputLog.create(records.outputOf(id));
        } catch (IOException e) {
            deleteQuietly(id);
            throw storageFailure("cannot create the job's folder in data_dir", e);
        }
        ProcessSpawner.Spawned process;
        try {
            process = spawn(command, path);
        } catch (SpawnException | RuntimeException e) {
            output.closeWriter();
            deleteQuietly(id);
            throw e;
        }
        long ticks = ProcStat.startTicks(process.pid()).orElse(-1);
        Job job = Job.running(id, command, path, Instant.now(), process.pid(), ticks, output);
        // The start record goes first: once watched, the watcher thread may write the final one.
        IOException unrecorded = null;
        try {
            records.writeFirst(job);
        } catch (IOException e) {
            unrecorded = e;
        }
        ProcessWatcher.Events events = new JobEvents(job);
        boolean accepted;
        lock.lock();
        try {
            accepted = !closed;
            if (accepted) {
                // A job without a record would be invisible to the next worker: it is killed,
                // watched until reaped, then its folder is deleted; no one ever sees it.
                if (unrecorded == null) {
                    jobs.put(id, job);
                }
                watches.put(id, new Watch(job, process.outputFd(), events, unrecorded == null));
            }
        } finally {
            lock.unlock();
        }
        if (!accepted) {
            abort(process, id);
        }
        if (unrecorded != null) {
            job.requestStop();
            Posix.killGroup(process.pid(), Posix.SIGKILL);
        }
        // The answer describes the job as started: once watched, a short job may end at any moment.
        JobStatus started = job.status();
        watcher.watch(process.pidfd(), process.outputFd(), events);
        if (unrecorded != null) {
            throw storageFailure("cannot store the job's record in data_dir (the job was killed)", unrecorded);
        }
        return started;
    }

    /** A file of the job could not be written: the worker's exhaustion (a full disk) or its fault. */
    private static SpawnException storageFailure(String what, IOException e) {
        return Errno.of(e).flatMap(errno -> errno.exhausted().map(resource ->
                        SpawnException.exhausted(resource, what + ": " + errno.toText())))
                .orElseThrow(() -> new UncheckedIOException(what + ": " + e.getMessage(), e));
    }

    /** Spawns on the calling thread if it is a platform thread, else on one of {@link #spawnThreads}. */
    private ProcessSpawner.Spawned spawn(String command, String path) throws SpawnException {
        if (!Thread.currentThread().isVirtual()) {
            return spawner.spawn(command, path);
        }
        Future<ProcessSpawner.Spawned> spawned = spawnThreads.submit(() -> spawner.spawn(command, path));
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return spawned.get();
                } catch (InterruptedException e) {
                    // The spawn cannot be called off: wait for it, so that no process is left unwatched.
                    interrupted = true;
                } catch (ExecutionException e) {
                    switch (e.getCause()) {
                        case SpawnException se -> throw se;
                        case RuntimeException re -> throw re;
                        case Error error -> throw error;
                        default -> throw new IllegalStateException(e.getCause());
                    }
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** The runner closed while this job was being spawned: kill it rather than leave it unwatched. */
    private void abort(ProcessSpawner.Spawned process, String id) {
        Posix.killGroup(process.pid(), Posix.SIGKILL);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = Posix.newErrnoSegment(arena);
            Posix.closeFd(errno, process.pidfd());
            Posix.closeFd(errno, process.outputFd());
        }
        deleteQuietly(id);
        throw new IllegalStateException("job runner is closed");
    }

    /**
     * SIGTERM to the job's process group, SIGKILL to the group after the grace period; returns once
     * the job has ended (state STOPPED). Stopping a finished job does nothing.
     */
    public JobStatus stop(String jobId) throws UnknownJobException, InterruptedException {
        Job job = find(jobId);
        if (!job.requestStop()) {
            return job.status();
        }
        Posix.killGroup(job.pgid(), Posix.SIGTERM);
        if (!job.awaitEnd(stopGrace)) {
            if (!job.done()) {
                Posix.killGroup(job.pgid(), Posix.SIGKILL);
            }
            awaitEndAfterKill(job);
        }
        return job.status();
    }

    private void awaitEndAfterKill(Job job) throws InterruptedException {
        if (job.awaitEnd(stopGrace)) {
            return;
        }
        // The group is dead but the output is still open: a descendant left the group (setsid).
        Watch watch = watchOf(job.id());
        if (watch != null) {
            watcher.detachOutput(watch.outputFd(), watch.events());
        }
        job.awaitEnd();
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
        List<Job> snapshot;
        lock.lock();
        try {
            snapshot = new ArrayList<>(jobs.values());
        } finally {
            lock.unlock();
        }
        List<JobStatus> all = new ArrayList<>(snapshot.size());
        for (int i = snapshot.size() - 1; i >= 0; i--) {
            all.add(snapshot.get(i).status());
        }
        return all;
    }

    public int runningCount() {
        lock.lock();
        try {
            int running = 0;
            for (Job job : jobs.values()) {
                if (!job.done()) {
                    running++;
                }
            }
            return running;
        } finally {
            lock.unlock();
        }
    }

    /** The output of a job, readable from any offset while it runs and after it ended. */
    public OutputLog output(String jobId) throws UnknownJobException {
        return find(jobId).output();
    }

    /** Stops every running job (SIGTERM, grace, SIGKILL) and releases the watcher thread and descriptors. */
    @Override
    public void close() {
        List<Job> running = new ArrayList<>();
        lock.lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            for (Watch watch : watches.values()) {
                running.add(watch.job());
            }
        } finally {
            lock.unlock();
        }
        boolean interrupted = false;
        try {
            for (Job job : running) {
                if (job.requestStop()) {
                    Posix.killGroup(job.pgid(), Posix.SIGTERM);
                }
            }
            long deadline = System.nanoTime() + stopGrace.toNanos();
            for (Job job : running) {
                job.awaitEnd(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
            }
            for (Job job : running) {
                if (!job.done()) {
                    Posix.killGroup(job.pgid(), Posix.SIGKILL);
                }
            }
            for (Job job : running) {
                awaitEndAfterKill(job); // returns at once for a job already settled
            }
        } catch (InterruptedException e) {
            interrupted = true;
            for (Job job : running) {
                if (!job.done()) {
                    Posix.killGroup(job.pgid(), Posix.SIGKILL);
                }
            }
        }
        watcher.close();
        spawnThreads.shutdown();
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * For tests of restart recovery: lets go of every job as a crashed worker would, without
     * signalling any process or updating any record.
     */
    void abandon() {
        lock.lock();
        try {
            closed = true;
        } finally {
            lock.unlock();
        }
        watcher.close();
        spawnThreads.shutdown();
        lock.lock();
        try {
            for (Watch watch : watches.values()) {
                watch.job().output().closeWriter();
            }
        } finally {
            lock.unlock();
        }
    }

    /** The job's process group id (= pid of its first process); for tests. */
    int pgidOf(String jobId) throws UnknownJobException {
        return find(jobId).pgid();
    }

    private Job find(String jobId) throws UnknownJobException {
        lock.lock();
        try {
            Job job = jobs.get(jobId);
            if (job == null) {
                throw new UnknownJobException(jobId);
            }
            return job;
        } finally {
            lock.unlock();
        }
    }

    private Watch watchOf(String jobId) {
        lock.lock();
        try {
            return watches.get(jobId);
        } finally {
            lock.unlock();
        }
    }

    private void ensureOpen() {
        lock.lock();
        try {
            if (closed) {
                throw new IllegalStateException("job runner is closed");
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stores an ended job's final record, applies retention and wakes whoever waits for the end. Runs
     * on a virtual thread of its own, so that slow disk writes never hold up the watcher thread,
     * which drains every other job's output.
     */
    private void ended(Job job) {
        Watch watch;
        lock.lock();
        try {
            watch = watches.remove(job.id());
        } finally {
            lock.unlock();
        }
        if (watch != null && !watch.recorded()) {
            deleteQuietly(job.id());
            job.settle();
            return;
        }
        try {
            try {
                records.write(job);
            } catch (IOException e) {
                LOG.log(System.Logger.Level.ERROR, "cannot store the final record of job " + job.id()
                        + "; a restarted worker will report it as interrupted", e);
            }
            // Only now may retention delete the job: its folder must exist until the final record is in it.
            Finished entry = Finished.of(job);
            lock.lock();
            try {
                addFinished(entry);
            } finally {
                lock.unlock();
            }
            applyRetention();
        } finally {
            job.settle();
        }
    }

    /**
     * Keeps {@link #finished} ordered by end time. Jobs are added as their final records are stored,
     * which can be a little out of end order (each ends on a virtual thread of its own), so the
     * entry goes back past the few that ended later: amortised O(1). Ties keep arrival order.
     */
    private void addFinished(Finished entry) {
        Iterator<Finished> newestFirst = finished.descendingIterator();
        int later = 0;
        while (newestFirst.hasNext() && newestFirst.next().finishedAt().isAfter(entry.finishedAt())) {
            later++;
        }
        if (later == 0) {
            finished.addLast(entry);
        } else {
            Deque<Finished> moved = new ArrayDeque<>(later);
            for (int i = 0; i < later; i++) {
                moved.addFirst(finished.removeLast());
            }
            finished.addLast(entry);
            finished.addAll(moved);
        }
        finishedBytes += entry.outputBytes();
    }

    /**
     * Deletes the oldest finished jobs while more than keepFinished exist or their output exceeds
     * keepOutputBytes. O(1) per job evicted: the oldest are at the head of {@link #finished}, and
     * only jobs whose final record is stored are there (never a running job).
     */
    private void applyRetention() {
        List<Job> victims = null;
        lock.lock();
        try {
            while (!finished.isEmpty() && (finished.size() > keepFinished || finishedBytes > keepOutputBytes)) {
                Finished oldest = finished.removeFirst();
                finishedBytes -= oldest.outputBytes();
                jobs.remove(oldest.job().id());
                if (victims == null) {
                    victims = new ArrayList<>();
                }
                victims.add(oldest.job());
            }
        } finally {
            lock.unlock();
        }
        if (victims != null) {
            for (Job victim : victims) {
                deleteQuietly(victim.id());
            }
        }
    }

    private void deleteQuietly(String id) {
        try {
            records.delete(id);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot delete the files of job " + id, e);
        }
    }

    private void settleLater(Job job) {
        Thread.ofVirtual().name("job-end " + job.id()).start(() -> ended(job));
    }

    /** The job's error text when its output could not be stored. */
    static String outputCut(long atByte, IOException failure) {
        return "output was cut at byte " + atByte + ": " + Errno.of(failure)
                .map(errno -> errno == Errno.ENOSPC || errno == Errno.EDQUOT
                        ? "the worker's disk is full, " + errno.toText() : "cannot store it, " + errno.toText())
                .orElse("cannot store it, " + failure.getMessage());
    }

    /** Connects the watcher's reports for one job to the job and its output. */
    private final class JobEvents implements ProcessWatcher.Events {
        private final Job job;

        JobEvents(Job job) {
            this.job = job;
        }

        /**
         * Bytes that cannot be stored (a full disk) fail the job: its process group is killed,
         * since output it goes on writing would be lost, and followers see the error.
         */
        @Override
        public void output(ByteBuffer bytes) {
            job.output().append(bytes).ifPresent(failure -> {
                String why = outputCut(job.output().length(), failure);
                if (job.outputLost(why)) {
                    LOG.log(System.Logger.Level.WARNING, "job " + job.id() + " failed and was killed: " + why);
                    Posix.killGroup(job.pgid(), Posix.SIGKILL);
                }
            });
        }

        @Override
        public void outputEnded() {
            job.output().markComplete();
            if (job.outputEnded(Instant.now())) {
                settleLater(job);
            }
        }

        @Override
        public void exited(OptionalInt exitCode, OptionalInt signal) {
            if (job.reaped(exitCode, signal, Instant.now())) {
                settleLater(job);
            }
        }
    }
}
