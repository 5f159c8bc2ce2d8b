package io.jobscheduler.scheduler;

import io.jobscheduler.grpc.JobEvent;
import io.jobscheduler.grpc.JobInfo;
import io.jobscheduler.grpc.QueryJobRes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
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
            JobTable.Page page = index.page(10, cursor);
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
        JobTable.Page first = index.page(2, Optional.empty());
        index.record(job("new", 100), false);
        JobTable.Page second = index.page(2, first.next());
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
        assertThat(ids(index.page(10, Optional.empty())), contains("b", "a"));
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

    @Test
    void aCursorThatTheTableDidNotMakeDoesNotParse() {
        assertThat(JobTable.Cursor.parse("garbage").isPresent(), is(false));
        assertThat(JobTable.Cursor.parse("12-x").isPresent(), is(false));
        assertThat(JobTable.Cursor.parse("12-3").orElseThrow(), is(new JobTable.Cursor(12, 3)));
    }
}
