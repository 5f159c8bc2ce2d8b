package io.jobscheduler.scheduler;

import io.jobscheduler.grpc.JobEvent;
import io.jobscheduler.grpc.JobInfo;
import io.jobscheduler.concurrent.Conditions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Every job the scheduler knows, newest first, bounded: the oldest are evicted beyond
 * {@code capacity} (an evicted job stays reachable by naming its worker). Workers are the source
 * of truth; the table is rebuilt from them after a scheduler restart.
 *
 * <p>An entry is <em>live</em> when its state is kept current by its worker's job events
 * (docs/architecture.md, "Job events"): then the scheduler answers it without asking the worker.
 * Otherwise it holds the last state seen, and a job that can still change is asked of its worker.
 */
public final class JobTable {
    /** A job and whether its worker's events keep it current. */
    public record Entry(Job job, boolean live) {
    }

    /** A page of entries, newest first, and the cursor of the next page (empty at the end). */
    public record Page(List<Entry> entries, Optional<Cursor> next) {
    }

    /** Where a page ends: (start time, arrival order) of its last job, so pages are stable while jobs arrive. */
    public record Cursor(long startedMillis, long sequence) implements Comparable<Cursor> {
        @Override
        public int compareTo(Cursor o) {
            int byTime = Long.compare(startedMillis, o.startedMillis);
            return byTime != 0 ? byTime : Long.compare(sequence, o.sequence);
        }

        /** Before every job: a page after it starts at the newest. */
        public static final Cursor NEWEST = new Cursor(Long.MAX_VALUE, Long.MAX_VALUE);

        public String text() {
            return startedMillis + "-" + sequence;
        }

        /** The cursor a page's {@code next} named; empty for text this table did not make. */
        public static Optional<Cursor> parse(String text) {
            int dash = text.indexOf('-', 1);
            try {
                return dash < 0 ? Optional.empty() : Optional.of(new Cursor(Long.parseLong(text.substring(0, dash)),
                        Long.parseLong(text.substring(dash + 1))));
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        }
    }

    /**
     * Which jobs a page holds: any of {@code states} (every state when empty), of one worker, and
     * started in {@code [since, until)}; a job without a known start time has none to match a bound.
     */
    public record Filter(Set<JobState> states, Optional<UUID> workerId, Optional<Instant> since,
                         Optional<Instant> until) {
        public static final Filter ALL = new Filter(Set.of(), Optional.empty(), Optional.empty(), Optional.empty());

        public Filter {
            states = Set.copyOf(states);
        }

        public boolean matches(Job job) {
            return (states.isEmpty() || states.contains(job.state()))
                    && workerId.map(w -> w.equals(job.workerId())).orElse(true)
                    && since.map(s -> job.startedAt().filter(at -> !at.isBefore(s)).isPresent()).orElse(true)
                    && until.map(u -> job.startedAt().filter(at -> at.isBefore(u)).isPresent()).orElse(true);
        }
    }

    private final int capacity;
    private final ReentrantLock lock = new ReentrantLock();
    /** Signalled whenever an entry changes, for {@link #awaitChange}. */
    private final Condition changed = lock.newCondition();
    private final TreeMap<Cursor, Entry> byAge = new TreeMap<>();   // guarded by lock
    private final Map<String, Cursor> keys = new HashMap<>();       // guarded by lock
    private long sequence;                                          // guarded by lock
    private final Map<UUID, Integer> runningOn = new HashMap<>();   // guarded by lock: RUNNING entries per worker
    private boolean ended;                                          // guarded by lock: a RUNNING entry ended
    private final Runnable onEnd;

    private final SchedulerMeters meters;

    public JobTable(int capacity) {
        this(capacity, SchedulerMeters.NONE);
    }

    public JobTable(int capacity, SchedulerMeters meters) {
        this(capacity, meters, () -> { });
    }

    /** @param onEnd told (under no lock) after a job it held running has ended or left the table */
    public JobTable(int capacity, SchedulerMeters meters, Runnable onEnd) {
        this.capacity = Math.max(1, capacity);
        this.meters = meters;
        this.onEnd = onEnd;
    }

    /**
     * How many jobs the table holds {@code RUNNING} on the worker and current (kept so by its job
     * events): the scheduler's count for capacity. A job it only last saw running (its worker no
     * longer lists it, or it was just stopped) is not counted, so a lost end never holds room for good.
     */
    public int runningOn(UUID workerId) {
        lock.lock();
        try {
            return runningOn.getOrDefault(workerId, 0);
        } finally {
            lock.unlock();
        }
    }

    /** Every change of an entry goes through here, so the running counts stay true. */
    private void set(Cursor key, Entry entry) {
        Entry old = entry == null ? byAge.remove(key) : byAge.put(key, entry);
        boolean wasRunning = old != null && old.live() && old.job().state() == JobState.RUNNING;
        boolean isRunning = entry != null && entry.live() && entry.job().state() == JobState.RUNNING;
        if (wasRunning) {
            runningOn.merge(old.job().workerId(), -1, (a, b) -> a + b == 0 ? null : a + b);
        }
        if (isRunning) {
            runningOn.merge(entry.job().workerId(), 1, Integer::sum);
        }
        ended |= wasRunning && !isRunning;
        changed.signalAll();
    }

    /** Unlocks, then tells {@link #onEnd} if a running job ended meanwhile. */
    private void unlockAndTell() {
        boolean tell = ended;
        ended = false;
        lock.unlock();
        if (tell) {
            onEnd.run();
        }
    }

    /**
     * Records what was heard of a job: started through this scheduler, answered by its worker, or
     * told by an event. Merged with what is known ({@link Job#merge}); a job of another worker
     * under the same id is left alone. {@code live} says whether events keep it current from now on.
     */
    public void record(Job job, boolean live) {
        record(job, live, false);
    }

    /**
     * Applies a job event of {@code workerId}: the job's state is live from now on. An end event
     * counts as a job's end even for a job not held yet (its {@code StartJob} answer may be behind it).
     */
    void apply(UUID workerId, JobEvent event) {
        record(Job.of(workerId, event), true, true);
    }

    private void record(Job job, boolean live, boolean event) {
        Optional<JobState> ended;
        lock.lock();
        try {
            boolean held = keys.containsKey(job.jobId());
            ended = put(job, live);
            if (!held && event) {
                ended = Optional.of(job).filter(Job::done).map(Job::state);
            }
        } finally {
            unlockAndTell();
        }
        ended.ifPresent(meters::jobEnded);
    }

    /**
     * Replaces what is known of {@code workerId}'s jobs by its {@code ListJobs} snapshot: its
     * jobs become live; a job of it the snapshot lacks (the worker no longer knows it) is no
     * longer live, so it is asked of the worker again.
     */
    void replace(UUID workerId, List<JobInfo> snapshot, boolean live) {
        List<JobState> ends = new ArrayList<>();
        lock.lock();
        try {
            Set<String> listed = new HashSet<>();
            for (JobInfo info : snapshot) {
                listed.add(info.getJobID());
                put(Job.of(info.getJobID(), workerId, info.getCommand(), info.getPath(), info.getStatus()), live)
                        .ifPresent(ends::add);
            }
            List<Cursor> unlisted = new ArrayList<>();
            for (var e : byAge.entrySet()) {
                Job job = e.getValue().job();
                if (e.getValue().live() && job.workerId().equals(workerId) && !listed.contains(job.jobId())) {
                    unlisted.add(e.getKey());
                }
            }
            for (Cursor key : unlisted) {
                set(key, new Entry(byAge.get(key).job(), false));
            }
        } finally {
            unlockAndTell();
        }
        ends.forEach(meters::jobEnded);
    }

    /**
     * The job has changed on its worker in a way its events may not have told yet (it was just
     * stopped): until an event or an answer says more, it is asked of its worker again.
     */
    void unsettle(String jobId) {
        lock.lock();
        try {
            Cursor key = keys.get(jobId);
            Entry entry = key == null ? null : byAge.get(key);
            if (entry != null && !entry.job().done()) {
                set(key, new Entry(entry.job(), false));
            }
        } finally {
            unlockAndTell();
        }
    }

    /**
     * Caller holds the lock. Returns the end state when a job held not done, of the same worker,
     * is done after the merge: the moment this scheduler saw it end, whichever way it heard.
     */
    private Optional<JobState> put(Job job, boolean live) {
        Cursor key = keys.get(job.jobId());
        if (key == null) {
            key = new Cursor(job.startedAt().map(Instant::toEpochMilli).orElse(0L), sequence++);
            keys.put(job.jobId(), key);
            set(key, new Entry(job, live));
            while (byAge.size() > capacity) {
                Cursor oldest = byAge.firstKey();
                keys.remove(byAge.get(oldest).job().jobId());
                set(oldest, null);
            }
            return Optional.empty();
        }
        Entry known = byAge.get(key);
        if (!known.job().workerId().equals(job.workerId())) {
            return Optional.empty();
        }
        Job merged = known.job().merge(job);
        set(key, new Entry(merged, known.live() || live));
        return known.job().done() || !merged.done() ? Optional.empty() : Optional.of(merged.state());
    }

    /**
     * Marks every job of {@code workerId} that has not ended as {@code LOST}, for good: its worker
     * was removed from the cluster. Returns how many were marked.
     */
    int loseAll(UUID workerId) {
        lock.lock();
        try {
            List<Cursor> lost = new ArrayList<>();
            for (var e : byAge.entrySet()) {
                Job job = e.getValue().job();
                if (workerId.equals(job.workerId()) && !job.done()) {
                    lost.add(e.getKey());
                }
            }
            for (Cursor key : lost) {
                set(key, new Entry(byAge.get(key).job().lost(), false));
            }
            return lost.size();
        } finally {
            unlockAndTell();
        }
    }

    public Optional<Entry> find(String jobId) {
        lock.lock();
        try {
            Cursor key = keys.get(jobId);
            return key == null ? Optional.empty() : Optional.of(byAge.get(key));
        } finally {
            lock.unlock();
        }
    }

    /**
     * Up to {@code limit} entries that match {@code filter}, older than {@code after} (from the
     * newest when empty), newest first. {@code next} is present only when an older match exists,
     * so a filtered walk never ends on an empty page.
     */
    public Page page(int limit, Optional<Cursor> after, Filter filter) {
        lock.lock();
        try {
            var older = after.isPresent() ? byAge.headMap(after.get(), false) : byAge;
            List<Entry> entries = new ArrayList<>(Math.min(limit, older.size()));
            Cursor end = null;
            boolean more = false;
            for (var e : older.descendingMap().entrySet()) {
                if (!filter.matches(e.getValue().job())) {
                    continue;
                }
                if (entries.size() == limit) {
                    more = true;
                    break;
                }
                entries.add(e.getValue());
                end = e.getKey();
            }
            return new Page(entries, more ? Optional.of(end) : Optional.empty());
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until {@code jobId}'s entry differs from {@code seen} (an event or an answer changed
     * it) or {@code timeout} has passed, and answers the entry then.
     */
    Optional<Entry> awaitChange(String jobId, Optional<Entry> seen, Duration timeout) throws InterruptedException {
        lock.lock();
        try {
            Conditions.await(changed, () -> !entry(jobId).equals(seen), timeout);
            return entry(jobId);
        } finally {
            lock.unlock();
        }
    }

    /** Caller holds the lock. */
    private Optional<Entry> entry(String jobId) {
        Cursor key = keys.get(jobId);
        return key == null ? Optional.empty() : Optional.of(byAge.get(key));
    }

    public int size() {
        lock.lock();
        try {
            return byAge.size();
        } finally {
            lock.unlock();
        }
    }
}
