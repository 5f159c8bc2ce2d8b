package io.jobscheduler.scheduler;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * The accepted jobs that ended before they ran (stopped while queued, refused for good, lost on
 * the way), bounded: beyond {@code capacity} the one that ended first is forgotten. Found by id,
 * and listed newest first by the time they were submitted: they have no start time, and that is
 * when they would have started had there been room (the key {@code GET /jobs} merges them by with
 * the placed jobs, a {@link JobTable.Cursor} of its own sequence). Not thread-safe: the
 * {@link Dispatcher}'s lock guards it.
 */
final class NeverRanJobs {
    /** A job listed, and its key in the listing order. */
    record Listed(Job job, JobTable.Cursor key) {
    }

    private record Held(JournalRecords.Ended ended, JobTable.Cursor key) {
    }

    private final int capacity;
    /** In the order they ended (their journal order), for eviction and compaction. */
    private final LinkedHashMap<String, Held> byId = new LinkedHashMap<>();
    private final TreeMap<JobTable.Cursor, JournalRecords.Ended> bySubmission = new TreeMap<>();
    private long sequence;

    NeverRanJobs(int capacity) {
        this.capacity = capacity;
    }

    void put(JournalRecords.Ended ended) {
        String jobId = ended.job().jobId();
        Held old = byId.remove(jobId);
        if (old != null) {
            bySubmission.remove(old.key());
        }
        JobTable.Cursor key = new JobTable.Cursor(ended.job().submittedAt().toEpochMilli(), sequence++);
        byId.put(jobId, new Held(ended, key));
        bySubmission.put(key, ended);
        while (byId.size() > capacity) {
            Map.Entry<String, Held> first = byId.pollFirstEntry();
            bySubmission.remove(first.getValue().key());
        }
    }

    Optional<JournalRecords.Ended> find(String jobId) {
        return Optional.ofNullable(byId.get(jobId)).map(Held::ended);
    }

    boolean contains(String jobId) {
        return byId.containsKey(jobId);
    }

    int size() {
        return byId.size();
    }

    /** Every one, in the order they ended. */
    List<JournalRecords.Ended> inEndOrder() {
        return byId.sequencedValues().stream().map(Held::ended).toList();
    }

    /** Up to {@code limit} that match, keyed before {@code before}, newest first. */
    List<Listed> before(JobTable.Cursor before, int limit, Predicate<Job> matches) {
        List<Listed> listed = new ArrayList<>();
        for (var e : bySubmission.headMap(before, false).descendingMap().entrySet()) {
            if (listed.size() == limit) {
                break;
            }
            Job job = e.getValue().asJob();
            if (matches.test(job)) {
                listed.add(new Listed(job, e.getKey()));
            }
        }
        return listed;
    }
}
