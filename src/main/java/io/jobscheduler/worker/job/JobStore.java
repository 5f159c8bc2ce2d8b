package io.jobscheduler.worker.job;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Deque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The jobs a worker knows, in memory and on disk: the table of jobs in start order, their records
 * and output files under {@code dataDir/jobs/<id>/} ({@link JobRecords}), loading them at start,
 * and retention of finished jobs (by count and by total output). Thread-safe; its lock is never
 * held across a disk write.
 */
final class JobStore {
    private static final System.Logger LOG = System.getLogger(JobStore.class.getName());

    private final JobRecords records;
    private final int keepFinished;
    private final long keepOutputBytes;
    private final ReentrantLock lock = new ReentrantLock();
    private final Map<String, Job> jobs = new LinkedHashMap<>();    // guarded by lock; in start order
    /** Finished jobs whose final record is stored, oldest end first: retention evicts from the head. */
    private final Deque<Finished> finished = new ArrayDeque<>();    // guarded by lock
    private long finishedBytes;                                      // guarded by lock: output of finished

    /**
     * A finished job as retention sees it. Its end time and output size never change once it has
     * ended (the output is complete), so they are read once, not under the store's lock.
     */
    private record Finished(Job job, Instant finishedAt, long outputBytes) {
        static Finished of(Job job) {
            return new Finished(job, job.finishedAt(), job.output().length());
        }
    }

    /** What to do with a process group a previous worker process left running. */
    interface Leftovers {
        void recover(int pgid, long startTicks);
    }

    JobStore(Path dataDir, int keepFinished, long keepOutputBytes) throws IOException {
        if (keepFinished < 0 || keepOutputBytes < 0) {
            throw new IllegalArgumentException("retention limits must not be negative");
        }
        this.records = new JobRecords(dataDir);
        this.keepFinished = keepFinished;
        this.keepOutputBytes = keepOutputBytes;
    }

    /**
     * Loads every stored job; one that a previous worker process left running is handed to
     * {@code leftovers} and marked failed (never re-run). Then applies retention.
     */
    void load(Leftovers leftovers) throws IOException {
        List<Finished> restored = new ArrayList<>();
        for (JobRecords.Stored stored : records.loadAll()) {
            JobStatus s = stored.status();
            Job job = Job.restored(s, stored.pgid(), stored.startTicks(),
                    OutputLog.completed(records.outputOf(s.id())));
            if (s.state() == JobState.RUNNING) {
                leftovers.recover(stored.pgid(), stored.startTicks());
                job.failOnRestart(Instant.now());
                records.write(job);
                job.settle();
            }
            restored.add(Finished.of(job));
        }
        restored.sort(Comparator.comparing(Finished::finishedAt));
        lock.lock();
        try {
            for (Finished f : restored) {
                jobs.put(f.job().id(), f.job());
                finished.addLast(f);
                finishedBytes += f.outputBytes();
            }
        } finally {
            lock.unlock();
        }
        applyRetention();
    }

    /** Makes a new job's folder and its empty output; nothing is left behind when it fails. */
    OutputLog create(String id) throws IOException {
        try {
            records.createDir(id);
            return OutputLog.create(records.outputOf(id));
        } catch (IOException e) {
            delete(id);
            throw e;
        }
    }

    /** A new job's own empty working folder, inside its folder (see {@link JobRecords#createWorkDir}). */
    Path createWorkDir(String id, Optional<UserAccount> owner) throws IOException {
        return records.createWorkDir(id, owner);
    }

    /** Stores a started job's first record (see {@link JobRecords#writeFirst}). */
    void writeFirst(Job job) throws IOException {
        records.writeFirst(job);
    }

    /** Adds a started job to the table; call under the event log's lock with its start event. */
    void add(Job job) {
        lock.lock();
        try {
            jobs.put(job.id(), job);
        } finally {
            lock.unlock();
        }
    }

    Optional<Job> find(String id) {
        lock.lock();
        try {
            return Optional.ofNullable(jobs.get(id));
        } finally {
            lock.unlock();
        }
    }

    /** Every job in the table, newest first. */
    List<Job> all() {
        lock.lock();
        try {
            List<Job> all = new ArrayList<>(jobs.values());
            return all.reversed();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stores an ended job's final record, then lets retention see it: its folder must exist until
     * the final record is in it. A record that cannot be stored is logged; a restarted worker will
     * report the job as interrupted.
     */
    void finished(Job job) {
        try {
            records.write(job);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.ERROR, "cannot store the final record of job " + job.id()
                    + "; a restarted worker will report it as interrupted", e);
        }
        Finished entry = Finished.of(job);
        lock.lock();
        try {
            addFinished(entry);
        } finally {
            lock.unlock();
        }
        applyRetention();
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
        Deque<Finished> moved = new ArrayDeque<>(later);
        for (int i = 0; i < later; i++) {
            moved.addFirst(finished.removeLast());
        }
        finished.addLast(entry);
        finished.addAll(moved);
        finishedBytes += entry.outputBytes();
    }

    /**
     * Deletes the oldest finished jobs while more than keepFinished exist or their output exceeds
     * keepOutputBytes. O(1) per job evicted: the oldest are at the head of {@link #finished}, and
     * only jobs whose final record is stored are there (never a running job).
     */
    private void applyRetention() {
        List<Job> victims = new ArrayList<>();
        lock.lock();
        try {
            while (!finished.isEmpty() && (finished.size() > keepFinished || finishedBytes > keepOutputBytes)) {
                Finished oldest = finished.removeFirst();
                finishedBytes -= oldest.outputBytes();
                jobs.remove(oldest.job().id());
                victims.add(oldest.job());
            }
        } finally {
            lock.unlock();
        }
        for (Job victim : victims) {
            delete(victim.id());
        }
    }

    /** A file of a new job could not be written: the worker's exhaustion (a full disk) or its fault. */
    static JobStorageException storageFailure(String what, IOException e) throws SpawnException {
        Optional<Errno> errno = Errno.of(e);
        Optional<String> exhausted = errno.flatMap(Errno::exhausted);
        if (exhausted.isPresent()) {
            throw SpawnException.exhausted(exhausted.get(), what + ": " + errno.get().toText());
        }
        return new JobStorageException(what + ": " + errno.map(Errno::toText).orElse(e.getMessage()), e);
    }

    /** Deletes a job's folder; a failure is logged (the files stay until an operator looks). */
    void delete(String id) {
        try {
            records.delete(id);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot delete the files of job " + id, e);
        }
    }
}
