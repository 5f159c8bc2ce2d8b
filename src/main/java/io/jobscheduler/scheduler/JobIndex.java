package io.jobscheduler.scheduler;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Which worker holds which job, newest first, bounded: the oldest entries are evicted beyond
 * {@code capacity} (an evicted job stays reachable by naming its worker). Workers are the source
 * of truth; this index is rebuilt from them after a scheduler restart.
 */
public final class JobIndex {
    /**
     * One job as the scheduler knows it: {@code state} is the last state seen, and
     * {@code finished} the job's final status once its worker reported one (null before): a
     * finished job never changes, so it is answered without asking the worker again.
     */
    public record Entry(String jobId, UUID workerId, String command, String path, Instant startedAt, String state,
                        JobView finished) {
        public Entry(String jobId, UUID workerId, String command, String path, Instant startedAt, String state) {
            this(jobId, workerId, command, path, startedAt, state, null);
        }

        public Entry withState(String newState) {
            return new Entry(jobId, workerId, command, path, startedAt, newState, finished);
        }

        Entry withStatus(JobView status) {
            return new Entry(jobId, workerId, command, path, startedAt, status.state(), status.done() ? status : null);
        }
    }

    /** A page of entries, newest first, and the cursor of the next page (empty at the end). */
    public record Page(List<Entry> entries, Optional<String> next) {
    }

    private final int capacity;
    private final ReentrantLock lock = new ReentrantLock();
    // Ordered by (startedAt, insertion) so pages are stable while new jobs arrive.
    private final TreeMap<Key, Entry> byAge = new TreeMap<>();
    private final Map<String, Key> keys = new HashMap<>();
    private long sequence;

    private record Key(long startedMillis, long sequence) implements Comparable<Key> {
        @Override
        public int compareTo(Key o) {
            int byTime = Long.compare(startedMillis, o.startedMillis);
            return byTime != 0 ? byTime : Long.compare(sequence, o.sequence);
        }

        String cursor() {
            return startedMillis + "-" + sequence;
        }

        static Optional<Key> parse(String cursor) {
            int dash = cursor.indexOf('-');
            try {
                return dash < 0 ? Optional.empty() : Optional.of(new Key(Long.parseLong(cursor.substring(0, dash)),
                        Long.parseLong(cursor.substring(dash + 1))));
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        }
    }

    public JobIndex(int capacity) {
        this.capacity = Math.max(1, capacity);
    }

    /** Records a job, or refreshes what is known of it; evicts the oldest beyond capacity. */
    public void put(Entry entry) {
        lock.lock();
        try {
            Key key = keys.get(entry.jobId());
            if (key == null) {
                key = new Key(entry.startedAt().toEpochMilli(), sequence++);
                keys.put(entry.jobId(), key);
            }
            byAge.put(key, entry);
            while (byAge.size() > capacity) {
                keys.remove(byAge.pollFirstEntry().getValue().jobId());
            }
        } finally {
            lock.unlock();
        }
    }

    public Optional<Entry> find(String jobId) {
        lock.lock();
        try {
            Key key = keys.get(jobId);
            return key == null ? Optional.empty() : Optional.of(byAge.get(key));
        } finally {
            lock.unlock();
        }
    }

    /** Records what a job's worker said of a job still in the index. */
    public void recordStatus(JobView status) {
        lock.lock();
        try {
            Key key = keys.get(status.jobId());
            if (key != null) {
                byAge.computeIfPresent(key, (k, e) -> e.workerId().equals(status.workerId()) ? e.withStatus(status) : e);
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Up to {@code limit} entries older than {@code cursor} (all when empty), newest first.
     *
     * @throws IllegalArgumentException for a cursor this index did not make
     */
    public Page page(int limit, Optional<String> cursor) {
        Optional<Key> after = cursor.map(c -> Key.parse(c).orElseThrow(
                () -> new IllegalArgumentException("next: '" + c + "' is not a cursor from GET /jobs")));
        lock.lock();
        try {
            var older = after.isPresent() ? byAge.headMap(after.get(), false) : byAge;
            List<Entry> entries = new ArrayList<>(Math.min(limit, older.size()));
            Key last = null;
            for (var e : older.descendingMap().entrySet()) {
                if (entries.size() == limit) {
                    break;
                }
                entries.add(e.getValue());
                last = e.getKey();
            }
            boolean more = last != null && byAge.lowerKey(last) != null;
            return new Page(entries, more ? Optional.of(last.cursor()) : Optional.empty());
        } finally {
            lock.unlock();
        }
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
