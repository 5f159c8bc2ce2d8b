package io.jobscheduler.scheduler;

import io.jobscheduler.scheduler.placement.Constraints;
import io.jobscheduler.scheduler.placement.QueuedJob;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The jobs that ended before they ran: bounded by their end, listed by their submission. */
class NeverRanJobsTest {
    private static JournalRecords.Ended stopped(String jobId, long submittedMillis) {
        return new JournalRecords.Ended(new QueuedJob<>(jobId, JobStart.of("true", ""), Constraints.NONE, List.of(),
                Optional.empty(), 0, 0, Instant.ofEpochMilli(submittedMillis), Optional.empty()), Optional.empty(),
                JobState.STOPPED, "stopped before it started");
    }

    private static List<String> ids(List<NeverRanJobs.Listed> listed) {
        return listed.stream().map(l -> l.job().jobId()).toList();
    }

    @Test
    void listedNewestSubmittedFirstFromACursorAndForgottenInTheOrderTheyEnded() {
        NeverRanJobs jobs = new NeverRanJobs(3);
        jobs.put(stopped("late", 300));
        jobs.put(stopped("early", 100));
        jobs.put(stopped("middle", 200));
        JobTable.Cursor all = JobsCursor.History.START.neverRanBefore();
        assertEquals(List.of("late", "middle", "early"), ids(jobs.before(all, 10, j -> true)));
        List<NeverRanJobs.Listed> firstTwo = jobs.before(all, 2, j -> true);
        assertEquals(List.of("early"), ids(jobs.before(firstTwo.getLast().key(), 10, j -> true)));
        assertEquals(List.of("middle"), ids(jobs.before(all, 10, j -> j.jobId().startsWith("m"))));

        jobs.put(stopped("newest", 400));   // beyond the bound: the first to end ("late") is forgotten
        assertEquals(3, jobs.size());
        assertFalse(jobs.contains("late"));
        assertEquals(List.of("newest", "middle", "early"), ids(jobs.before(all, 10, j -> true)));
        assertEquals(List.of("early", "middle", "newest"), jobs.inEndOrder().stream().map(e -> e.job().jobId()).toList());

        jobs.put(stopped("early", 100));   // the same job again: one entry, ending last now
        assertEquals(3, jobs.size());
        assertTrue(jobs.find("early").isPresent());
        assertEquals(List.of("middle", "newest", "early"), jobs.inEndOrder().stream().map(e -> e.job().jobId()).toList());
        assertEquals(List.of("newest", "middle", "early"), ids(jobs.before(all, 10, j -> true)));
    }
}
