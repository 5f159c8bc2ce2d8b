package io.jobscheduler.scheduler;

import io.jobscheduler.config.Limits;
import io.jobscheduler.scheduler.placement.Constraints;
import io.jobscheduler.scheduler.placement.QueuedJob;
import io.jobscheduler.scheduler.store.StoreRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class JournalRecordsTest {
    private static final JobStart START = new JobStart("sh", "x.sh", List.of("a", "b"), Map.of("K", "v"),
            Optional.of(Duration.ofSeconds(30)), Optional.of("jobs"),
            new Limits(OptionalLong.of(1L << 28), OptionalLong.of(500), OptionalLong.empty(), OptionalLong.of(10_240)));

    @Test
    void aStartKeepsEveryFieldThroughTheJournal() {
        assertEquals(START, JournalRecords.start(JournalRecords.start(START)));
        JobStart plain = JobStart.of("true", "");
        assertEquals(plain, JournalRecords.start(JournalRecords.start(plain)));
    }

    @Test
    void theReplayKeepsTheQueueAndSendsACutShortDispatchToItsWorkerAgain() {
        UUID worker = UUID.randomUUID();
        QueuedJob<JobStart> a = new QueuedJob<>("a", START, new Constraints(Map.of("zone", "a")), START.features(),
                Optional.empty(), 5, 0, Instant.ofEpochMilli(1000), Optional.empty());
        QueuedJob<JobStart> b = new QueuedJob<>("b", START, Constraints.NONE, START.features(), Optional.empty(), 0, 1,
                Instant.ofEpochMilli(2000), Optional.empty());
        QueuedJob<JobStart> c = new QueuedJob<>("c", START, Constraints.NONE, START.features(), Optional.empty(), 0, 2,
                Instant.ofEpochMilli(3000), Optional.empty());
        var restored = JournalRecords.replay(List.of(
                JournalRecords.queued(a, null), JournalRecords.queued(b, null), JournalRecords.queued(c, null),
                new StoreRecord.Dispatching("a", worker.toString(), null, null),
                new StoreRecord.Dispatching("b", worker.toString(), null, null),
                new StoreRecord.Placed("b", worker.toString(), "sh", "x.sh", 5),
                new StoreRecord.Removed("c", "", "STOPPED", "stopped before it started")));
        assertEquals(List.of(a.resendingTo(worker)), restored.queue());
        assertEquals(java.util.Set.of(worker), restored.workers());
        assertEquals(3, restored.arrivals());
    }

    @Test
    void theReplayRemembersAcceptedJobsThatEndedBeforeTheyRanButNotAStartRefusedAtOnce() {
        UUID worker = UUID.randomUUID();
        QueuedJob<JobStart> stopped = new QueuedJob<>("stopped", START, Constraints.NONE, START.features(),
                Optional.of(worker), 0, 0, Instant.ofEpochMilli(1000), Optional.empty());
        QueuedJob<JobStart> failed = new QueuedJob<>("failed", START, Constraints.NONE, START.features(),
                Optional.empty(), 0, 1, Instant.ofEpochMilli(2000), Optional.empty());
        var restored = JournalRecords.replay(List.of(
                JournalRecords.queued(stopped, null), JournalRecords.queued(failed, null),
                new StoreRecord.Removed("stopped", "", "STOPPED", "stopped before it started"),
                new StoreRecord.Dispatching("failed", worker.toString(), null, null),
                new StoreRecord.Removed("failed", worker.toString(), "FAILED", "no such command"),
                // Sent at once and refused: its client got the refusal, not a job.
                new StoreRecord.Dispatching("refused", worker.toString(), JournalRecords.start(START), null),
                new StoreRecord.Removed("refused", worker.toString(), "FAILED", "no such command"),
                // Sent at once, the answer cut short by the crash: queued again, as yet unanswered.
                new StoreRecord.Dispatching("cut", worker.toString(), JournalRecords.start(START), null)));
        assertEquals(List.of("stopped", "failed"), restored.ended().stream().map(e -> e.job().jobId()).toList());
        Job stop = restored.ended().get(0).asJob();
        assertEquals(JobState.STOPPED, stop.state());
        assertEquals(worker, stop.workerId(), "a pinned job's worker");
        Job fail = restored.ended().get(1).asJob();
        assertEquals(JobState.FAILED, fail.state());
        assertEquals("no such command", fail.errorText());
        assertEquals(worker, fail.workerId());
        assertEquals(List.of("cut"), restored.queue().stream().map(QueuedJob::jobId).toList());
        assertEquals(List.of("cut"), restored.unanswered());
    }
}
