package io.jobscheduler.scheduler;

import io.jobscheduler.scheduler.placement.Constraints;
import io.jobscheduler.scheduler.placement.QueuedJob;
import io.jobscheduler.scheduler.store.StoreRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import io.jobscheduler.config.Limits;
import java.util.Set;
import java.util.UUID;

/**
 * The scheduler's types as {@link StoreRecord}s and back, and the replay of a loaded stream into
 * what a restarted scheduler resumes with: the queue (a job whose dispatch was recorded but not
 * answered waits to be sent to that worker again), the jobs placed, the jobs that ended without
 * running, the idempotency keys, and the workers it must hear from before it dispatches.
 */
final class JournalRecords {
    private JournalRecords() {
    }

    /**
     * What the stream says, replayed in order. {@code ended}: the jobs accepted (answered 202) that
     * ended before they ran, oldest first; {@code unanswered}: the ids of starts sent at once whose
     * answer the crash cut short, now queued again (their client may hold the id from here on).
     */
    record Restored(List<QueuedJob<JobStart>> queue, List<StoreRecord.Placed> placed, List<StoreRecord.Key> keys,
                    Set<UUID> workers, long arrivals, List<Ended> ended, List<String> unanswered) {
    }

    /** A job that left the queue without running (stopped, refused for good, lost), and how it ended. */
    record Ended(QueuedJob<JobStart> job, Optional<UUID> workerId, JobState state, String why) {
        /** The job as the API answers it: its end state, the worker it was meant for, never started. */
        Job asJob() {
            return Job.unstarted(job, workerId.or(job::target).orElse(null), state, why);
        }

        StoreRecord.Removed record() {
            return new StoreRecord.Removed(job.jobId(), workerId.map(UUID::toString).orElse(""), state.name(), why);
        }

        /** The ending a {@link StoreRecord.Removed} journals, if it names one a job can have: STOPPED, or FAILED and LOST with a worker. */
        static Optional<Ended> of(QueuedJob<JobStart> job, StoreRecord.Removed removed) {
            Optional<UUID> worker = id(removed.workerId());
            return switch (removed.state()) {
                case "STOPPED" -> Optional.of(new Ended(job, worker, JobState.STOPPED, removed.why()));
                case "FAILED", "LOST" -> worker.or(job::target).map(w -> new Ended(job, Optional.of(w),
                        JobState.valueOf(removed.state()), removed.why()));
                default -> Optional.empty();
            };
        }
    }

    static StoreRecord.Start start(JobStart start) {
        Map<String, Long> limits = new java.util.TreeMap<>();
        Limits l = start.limits();
        l.memoryBytes().ifPresent(v -> limits.put("memory", v));
        l.cpuMillis().ifPresent(v -> limits.put("cpu", v));
        l.pids().ifPresent(v -> limits.put("pids", v));
        l.outputBytes().ifPresent(v -> limits.put("output", v));
        return new StoreRecord.Start(start.command(), start.path(), start.args(), start.env(),
                start.timeout().map(Duration::toMillis).orElse(0L), start.user().orElse(""), limits);
    }

    static JobStart start(StoreRecord.Start start) {
        Map<String, Long> l = start.limits();
        Limits limits = new Limits(optional(l.get("memory")), optional(l.get("cpu")), optional(l.get("pids")),
                optional(l.get("output")));
        return new JobStart(start.command(), start.path(), start.args(), start.env(),
                start.timeoutMillis() == 0 ? Optional.empty() : Optional.of(Duration.ofMillis(start.timeoutMillis())),
                start.user().isEmpty() ? Optional.empty() : Optional.of(start.user()), limits);
    }

    private static OptionalLong optional(Long value) {
        return value == null ? OptionalLong.empty() : OptionalLong.of(value);
    }

    static StoreRecord.Queued queued(QueuedJob<JobStart> job, StoreRecord.Key key) {
        return new StoreRecord.Queued(job.jobId(), start(job.start()), job.constraints().byLabel(),
                job.pinned().map(UUID::toString).orElse(""), job.priority(), job.arrival(),
                job.submittedAt().toEpochMilli(), key);
    }

    private static QueuedJob<JobStart> job(StoreRecord.Queued q) {
        return new QueuedJob<>(q.jobId(), start(q.start()), new Constraints(q.constraints()),
                start(q.start()).features(), id(q.pinned()), q.priority(), q.arrival(),
                Instant.ofEpochMilli(q.submittedAtMillis()), Optional.empty());
    }

    private static Optional<UUID> id(String text) {
        return text == null || text.isEmpty() ? Optional.empty() : WorkerRegistry.parseId(text);
    }

    /**
     * Replays the stream. A job sent at once ({@link StoreRecord.Dispatching} with its start) and
     * not answered is queued again for the same worker, like a queued one whose dispatch was cut
     * short; the arrival order of jobs is kept.
     */
    static Restored replay(List<StoreRecord> records) {
        Map<String, QueuedJob<JobStart>> queue = new LinkedHashMap<>();
        // The jobs whose client was told they are queued; a start sent at once and refused was
        // answered with the refusal, and is not remembered.
        Set<String> accepted = new HashSet<>();
        Map<String, Ended> ended = new LinkedHashMap<>();
        Map<String, StoreRecord.Placed> placed = new LinkedHashMap<>();
        List<StoreRecord.Key> keys = new ArrayList<>();
        Set<UUID> workers = new HashSet<>();
        long arrivals = 0;
        for (StoreRecord record : records) {
            switch (record) {
                case StoreRecord.Queued q -> {
                    queue.put(q.jobId(), job(q));
                    accepted.add(q.jobId());
                    arrivals = Math.max(arrivals, q.arrival() + 1);
                    if (q.key() != null) {
                        keys.add(q.key());
                    }
                }
                case StoreRecord.Dispatching d -> {
                    Optional<UUID> worker = id(d.workerId());
                    if (d.start() != null) {
                        JobStart start = start(d.start());
                        queue.put(d.jobId(), new QueuedJob<>(d.jobId(), start, Constraints.NONE, start.features(),
                                worker, 0, arrivals++, Instant.EPOCH, Optional.empty()));
                        if (d.key() != null) {
                            keys.add(d.key());
                        }
                    }
                    QueuedJob<JobStart> job = queue.get(d.jobId());
                    if (job != null && worker.isPresent()) {
                        queue.put(d.jobId(), job.resendingTo(worker.get()));
                        workers.add(worker.get());
                    }
                }
                case StoreRecord.Placed p -> {
                    queue.remove(p.jobId());
                    placed.put(p.jobId(), p);
                    id(p.workerId()).ifPresent(workers::add);
                }
                case StoreRecord.Requeued r -> {
                    QueuedJob<JobStart> job = queue.get(r.jobId());
                    if (job != null) {
                        accepted.add(r.jobId());
                        QueuedJob<JobStart> plain = new QueuedJob<>(job.jobId(), job.start(), job.constraints(),
                                job.needs().stream().toList(), job.pinned(), job.priority(), job.arrival(),
                                job.submittedAt(), Optional.empty());
                        queue.put(r.jobId(), id(r.resendTo()).map(plain::resendingTo).orElse(plain));
                    }
                }
                case StoreRecord.Removed r -> {
                    QueuedJob<JobStart> job = queue.remove(r.jobId());
                    if (job != null && accepted.contains(r.jobId())) {
                        Ended.of(job, r).ifPresent(e -> ended.put(r.jobId(), e));
                    }
                }
                case StoreRecord.Key k -> keys.add(k);
            }
        }
        List<String> unanswered = new ArrayList<>();
        for (QueuedJob<JobStart> job : queue.values()) {
            if (!accepted.contains(job.jobId())) {
                unanswered.add(job.jobId());
            }
        }
        return new Restored(new ArrayList<>(queue.values()), new ArrayList<>(placed.values()), keys, workers, arrivals,
                new ArrayList<>(ended.values()), unanswered);
    }
}
