package io.jobscheduler.scheduler;

import io.jobscheduler.scheduler.store.StoreRecord;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantLock;

/**
 * {@code Idempotency-Key}s of starts: per caller scope and key, the hash of the canonical start
 * it named and the job it made, for {@code [store] idempotency_ttl}. A key is claimed before its
 * start is made (so a second request with it meanwhile is told it is in flight), completed with
 * the job once made (and journalled with it), or released when the start failed.
 */
final class IdempotencyKeys {
    /** A key and the caller it belongs to ({@code "anonymous"} until tokens exist). */
    record Scoped(String scope, String key) {
    }

    /** What a claim found. */
    sealed interface Claim {
        /** New: the start goes ahead and makes job {@code jobId}. */
        record Granted(String jobId) implements Claim {
        }

        /** The same request was made before: its job. */
        record Repeat(String jobId) implements Claim {
        }
    }

    private record Entry(String sha256, String jobId, Instant createdAt, boolean inFlight) {
    }

    private final Duration ttl;
    private final Clock clock;
    private final ReentrantLock lock = new ReentrantLock();
    private final Map<Scoped, Entry> keys = new HashMap<>();   // guarded by lock
    private Instant nextSweep;                                  // guarded by lock

    IdempotencyKeys(Duration ttl, Clock clock) {
        this.ttl = ttl;
        this.clock = clock;
        this.nextSweep = clock.instant().plus(sweepEvery());
    }

    /** A key journalled before (a restart): kept unless expired. */
    void restore(StoreRecord.Key key) {
        Instant created = Instant.ofEpochMilli(key.createdAtMillis());
        lock.lock();
        try {
            if (created.plus(ttl).isAfter(clock.instant())) {
                keys.put(new Scoped(key.scope(), key.key()), new Entry(key.sha256(), key.jobId(), created, false));
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Claims the key for a start hashing to {@code sha256}.
     *
     * @throws SchedulerException.IdempotencyConflict the key named another request, or its start is still being made
     */
    Claim claim(Scoped key, String sha256) {
        Instant now = clock.instant();
        lock.lock();
        try {
            sweep(now);
            Entry known = keys.get(key);
            if (known != null && known.createdAt().plus(ttl).isAfter(now)) {
                if (!known.sha256().equals(sha256)) {
                    throw new SchedulerException.IdempotencyConflict(false, "Idempotency-Key '" + key.key()
                            + "' was used for a different request (job '" + known.jobId() + "')");
                }
                if (known.inFlight()) {
                    throw new SchedulerException.IdempotencyConflict(true, "a request with Idempotency-Key '"
                            + key.key() + "' is still in progress; retry later");
                }
                return new Claim.Repeat(known.jobId());
            }
            String jobId = UUID.randomUUID().toString();
            keys.put(key, new Entry(sha256, jobId, now, true));
            return new Claim.Granted(jobId);
        } finally {
            lock.unlock();
        }
    }

    /** The start was made: job {@code jobId} answers the key from now on. Answers the key as journalled. */
    StoreRecord.Key complete(Scoped key, String jobId) {
        lock.lock();
        try {
            Entry claimed = keys.get(key);
            Entry done = new Entry(claimed.sha256(), jobId, claimed.createdAt(), false);
            keys.put(key, done);
            return new StoreRecord.Key(key.scope(), key.key(), done.sha256(), jobId, done.createdAt().toEpochMilli());
        } finally {
            lock.unlock();
        }
    }

    /** The key as it will be journalled with job {@code jobId}, before {@link #complete}. */
    Optional<StoreRecord.Key> record(Scoped key, String jobId) {
        lock.lock();
        try {
            return Optional.ofNullable(keys.get(key)).map(e -> new StoreRecord.Key(key.scope(), key.key(), e.sha256(),
                    jobId, e.createdAt().toEpochMilli()));
        } finally {
            lock.unlock();
        }
    }

    /** The start failed: the key is free again. */
    void release(Scoped key) {
        lock.lock();
        try {
            keys.remove(key);
        } finally {
            lock.unlock();
        }
    }

    /** Every live key, for compaction. */
    java.util.List<StoreRecord.Key> live() {
        lock.lock();
        try {
            sweep(clock.instant());
            return keys.entrySet().stream().filter(e -> !e.getValue().inFlight())
                    .map(e -> new StoreRecord.Key(e.getKey().scope(), e.getKey().key(), e.getValue().sha256(),
                            e.getValue().jobId(), e.getValue().createdAt().toEpochMilli())).toList();
        } finally {
            lock.unlock();
        }
    }

    private Duration sweepEvery() {
        return ttl.compareTo(Duration.ofMinutes(1)) < 0 ? ttl : Duration.ofMinutes(1);
    }

    /** Drops expired keys, at most once a minute. Under the lock. */
    private void sweep(Instant now) {
        if (now.isBefore(nextSweep)) {
            return;
        }
        nextSweep = now.plus(sweepEvery());
        for (Iterator<Entry> it = keys.values().iterator(); it.hasNext(); ) {
            Entry e = it.next();
            if (!e.inFlight() && !e.createdAt().plus(ttl).isAfter(now)) {
                it.remove();
            }
        }
    }
}
