package io.jobscheduler.scheduler;

import io.jobscheduler.grpc.JobEvent;
import io.jobscheduler.grpc.JobInfo;
import io.jobscheduler.grpc.QueryJobRes;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

class JobTableTest {
    private static final UUID WORKER = UUID.randomUUID();

    private static Job job(String id, long startedSecond) {
        return Job.started(id, WORKER, "bash", "x.sh", Instant.ofEpochSecond(startedSecond));
    }

    private static JobEvent ended(String id, String state) {
        return JobEvent.newBuilder().setJobId(id).setState(state).setExitCode(0).setStartedAtMillis(1000)
                .setFinishedAtMillis(2000).build();
    }

    private static List<String> ids(JobTable.Page page) {
        return page.entries().stream().map(e -> e.job().jobId()).toList();
    }

    @Test
    void pagesWalkEveryJobNewestFirstExactlyOnce() {
        JobTable index = new JobTable(100);
        for (int i = 0; i < 25; i++) {
            index.record(job("job-" + i, 1000 + i / 3), false); // several jobs share a start second
        }
        List<String> seen = new ArrayList<>();
        Optional<JobTable.Cursor> cursor = Optional.empty();
        do {
            JobTable.Page page = index.page(10, cursor, JobTable.Filter.ALL);
            seen.addAll(ids(page));
            cursor = page.next();
        } while (cursor.isPresent());
        List<String> expected = new ArrayList<>();
        for (int i = 24; i >= 0; i--) {
            expected.add("job-" + i);
        }
        assertThat(seen, is(expected));
    }

    @Test
    void newJobsArrivingBetweenPagesDoNotShiftLaterPages() {
        JobTable index = new JobTable(100);
        for (int i = 0; i < 4; i++) {
            index.record(job("old-" + i, i), false);
        }
        JobTable.Page first = index.page(2, Optional.empty(), JobTable.Filter.ALL);
        index.record(job("new", 100), false);
        JobTable.Page second = index.page(2, first.next(), JobTable.Filter.ALL);
        assertThat(ids(second), contains("old-1", "old-0"));
        assertThat(second.next().isPresent(), is(false));
    }

    @Test
    void theOldestEntriesAreEvictedBeyondCapacity() {
        JobTable index = new JobTable(3);
        for (int i = 0; i < 5; i++) {
            index.record(job("job-" + i, i), false);
        }
        assertThat(index.size(), is(3));
        assertThat(index.find("job-1").isPresent(), is(false));
        assertThat(index.find("job-2").isPresent(), is(true));
    }

    @Test
    void refreshingAJobKeepsItsPlaceAndUpdatesItsState() {
        JobTable index = new JobTable(10);
        index.record(job("a", 1), false);
        index.record(job("b", 2), false);
        index.apply(WORKER, ended("a", "SUCCEEDED"));
        Job a = index.find("a").orElseThrow().job();
        assertThat(a.state(), is(JobState.SUCCEEDED));
        assertThat(a.exitCode().getAsInt(), is(0));
        assertThat("what only the start knew is kept", a.command(), is("bash"));
        assertThat("the first start time is kept", a.startedAt().orElseThrow(), is(Instant.ofEpochSecond(1)));
        assertThat(index.find("a").orElseThrow().live(), is(true));
        assertThat(ids(index.page(10, Optional.empty(), JobTable.Filter.ALL)), contains("b", "a"));
    }

    @Test
    void aStateNeverMovesBackFromAnEndToRunning() {
        JobTable index = new JobTable(10);
        // The end event arrives before the StartJob answer is handled.
        index.apply(WORKER, ended("a", "FAILED"));
        index.record(job("a", 1), false);
        Job a = index.find("a").orElseThrow().job();
        assertThat(a.state(), is(JobState.FAILED));
        assertThat(a.command(), is("bash"));
        index.apply(WORKER, JobEvent.newBuilder().setJobId("a").setState("RUNNING").build());
        assertThat(index.find("a").orElseThrow().job().state(), is(JobState.FAILED));
    }

    @Test
    void aJobOfAnotherWorkerUnderTheSameIdIsLeftAlone() {
        JobTable index = new JobTable(10);
        index.record(job("a", 1), false);
        index.apply(UUID.randomUUID(), ended("a", "SUCCEEDED"));
        assertThat(index.find("a").orElseThrow().job().state(), is(JobState.RUNNING));
    }

    @Test
    void aSnapshotMakesItsJobsLiveAndThoseItLacksNoLonger() {
        JobTable index = new JobTable(10);
        index.apply(WORKER, JobEvent.newBuilder().setJobId("gone").setState("RUNNING").setStartedAtMillis(5).build());
        index.replace(WORKER, List.of(JobInfo.newBuilder().setJobID("kept").setCommand("sleep").setPath("1")
                .setStatus(QueryJobRes.newBuilder().setState("RUNNING").setStartedAtMillis(7)).build()), true);
        assertThat(index.find("kept").orElseThrow().live(), is(true));
        assertThat(index.find("kept").orElseThrow().job().command(), is("sleep"));
        assertThat("a job the worker no longer knows is asked of it again", index.find("gone").orElseThrow().live(), is(false));
    }

    @Test
    void aStoppedJobIsNoLongerLiveUntilItsEndIsHeard() {
        JobTable index = new JobTable(10);
        index.apply(WORKER, JobEvent.newBuilder().setJobId("a").setState("RUNNING").build());
        index.unsettle("a");
        assertThat(index.find("a").orElseThrow().live(), is(false));
        index.apply(WORKER, ended("a", "STOPPED"));
        assertThat(index.find("a").orElseThrow().live(), is(true));
        assertThat(index.find("a").orElseThrow().job().state(), is(JobState.STOPPED));
    }

    /** Twelve jobs started at seconds 0..11: every third FAILED, the others RUNNING; odd ones on OTHER. */
    private static JobTable mixed(UUID other) {
        JobTable index = new JobTable(100);
        for (int i = 0; i < 12; i++) {
            UUID worker = i % 2 == 1 ? other : WORKER;
            index.record(Job.started("job-" + i, worker, "bash", "x.sh", Instant.ofEpochSecond(i)), false);
            if (i % 3 == 0) {
                index.apply(worker, ended("job-" + i, "FAILED"));
            }
        }
        return index;
    }

    private static JobTable.Filter filter(Set<JobState> states, UUID worker, Long since, Long until) {
        return new JobTable.Filter(states, Optional.ofNullable(worker),
                Optional.ofNullable(since).map(Instant::ofEpochSecond), Optional.ofNullable(until).map(Instant::ofEpochSecond));
    }

    private static List<String> walk(JobTable index, int limit, JobTable.Filter filter) {
        List<String> seen = new ArrayList<>();
        Optional<JobTable.Cursor> cursor = Optional.empty();
        do {
            JobTable.Page page = index.page(limit, cursor, filter);
            assertThat("a filtered walk never yields an empty page", page.entries().isEmpty(), is(false));
            seen.addAll(ids(page));
            cursor = page.next();
        } while (cursor.isPresent());
        return seen;
    }

    @Test
    void eachFilterPicksItsJobs() {
        UUID other = UUID.randomUUID();
        JobTable index = mixed(other);
        assertThat(ids(index.page(100, Optional.empty(), filter(Set.of(JobState.FAILED), null, null, null))),
                contains("job-9", "job-6", "job-3", "job-0"));
        assertThat(ids(index.page(100, Optional.empty(), filter(Set.of(JobState.FAILED, JobState.RUNNING), null, null,
                null))).size(), is(12));
        assertThat(ids(index.page(100, Optional.empty(), filter(Set.of(JobState.SUCCEEDED), null, null, null))),
                is(List.of()));
        assertThat(ids(index.page(100, Optional.empty(), filter(Set.of(), other, null, null))),
                contains("job-11", "job-9", "job-7", "job-5", "job-3", "job-1"));
        assertThat("since is inclusive", ids(index.page(100, Optional.empty(), filter(Set.of(), null, 9L, null))),
                contains("job-11", "job-10", "job-9"));
        assertThat("until is exclusive", ids(index.page(100, Optional.empty(), filter(Set.of(), null, null, 2L))),
                contains("job-1", "job-0"));
    }

    @Test
    void filtersCombineAndPageWithTheirCursor() {
        UUID other = UUID.randomUUID();
        JobTable index = mixed(other);
        // RUNNING on WORKER (even, not a multiple of 3) started in [1, 11): 10, 8, 4, 2.
        JobTable.Filter combined = filter(Set.of(JobState.RUNNING), WORKER, 1L, 11L);
        assertThat(walk(index, 1, combined), contains("job-10", "job-8", "job-4", "job-2"));
        JobTable.Page first = index.page(2, Optional.empty(), combined);
        assertThat(ids(first), contains("job-10", "job-8"));
        index.record(Job.started("job-new", WORKER, "bash", "x.sh", Instant.ofEpochSecond(5)), false);
        assertThat("a job arriving behind the cursor is on the next page",
                ids(index.page(2, first.next(), combined)), contains("job-new", "job-4"));
        assertThat(walk(index, 3, combined), contains("job-10", "job-8", "job-new", "job-4", "job-2"));
    }

    @Test
    void aJobWithoutAStartTimeMatchesNoTimeBound() {
        JobTable index = new JobTable(10);
        index.apply(WORKER, JobEvent.newBuilder().setJobId("untimed").setState("RUNNING").build());
        assertThat(ids(index.page(10, Optional.empty(), filter(Set.of(), null, 0L, null))), is(List.of()));
        assertThat(ids(index.page(10, Optional.empty(), JobTable.Filter.ALL)), contains("untimed"));
    }

    @Test
    void aWaiterOnAJobWakesWithItsChangedEntryAndNotForAnotherJob() throws Exception {
        JobTable index = new JobTable(100);
        index.record(job("a", 1), true);
        index.record(job("b", 2), true);
        Optional<JobTable.Entry> seen = index.find("a");

        // Another job's change: the wait runs out and answers the entry unchanged.
        index.apply(WORKER, ended("b", "SUCCEEDED"));
        assertThat(index.awaitChange("a", seen, Duration.ofMillis(50)), is(seen));

        try (ExecutorService waiter = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<Optional<JobTable.Entry>> woken =
                    waiter.submit(() -> index.awaitChange("a", seen, Duration.ofMinutes(5)));
            index.apply(WORKER, ended("a", "FAILED"));
            assertThat(woken.get(30, TimeUnit.SECONDS).orElseThrow().job().state(), is(JobState.FAILED));
        }
    }

    @Test
    void aCursorThatTheTableDidNotMakeDoesNotParse() {
        assertThat(JobTable.Cursor.parse("garbage").isPresent(), is(false));
        assertThat(JobTable.Cursor.parse("12-x").isPresent(), is(false));
        assertThat(JobTable.Cursor.parse("12-3").orElseThrow(), is(new JobTable.Cursor(12, 3)));
    }

    @Test
    void theRunningCountOfAWorkerFollowsItsCurrentJobsAndTellsOfEachEnd() {
        java.util.concurrent.atomic.AtomicInteger ends = new java.util.concurrent.atomic.AtomicInteger();
        JobTable index = new JobTable(3, SchedulerMeters.NONE, ends::incrementAndGet);
        index.record(job("a", 1), true);
        index.record(job("b", 2), true);
        index.record(job("c", 3), false);   // not kept current by events: never counted
        assertThat(index.runningOn(WORKER), is(2));
        index.apply(WORKER, ended("a", "SUCCEEDED"));
        assertThat(index.runningOn(WORKER), is(1));
        assertThat(ends.get(), is(1));
        index.unsettle("b");                // just stopped: its end event may still be on its way
        assertThat(index.runningOn(WORKER), is(0));
        index.record(job("d", 4), true);
        index.replace(WORKER, List.of(), true);   // the worker no longer lists it
        assertThat(index.runningOn(WORKER), is(0));
        index.record(job("e", 5), true);
        index.record(job("f", 6), true);
        index.record(job("g", 7), true);    // evicts the oldest
        assertThat(index.runningOn(WORKER), is(3));
        assertThat(index.runningOn(UUID.randomUUID()), is(0));
    }
}
