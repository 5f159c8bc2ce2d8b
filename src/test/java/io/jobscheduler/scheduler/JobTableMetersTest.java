package io.jobscheduler.scheduler;

import io.jobscheduler.grpc.JobEvent;
import io.jobscheduler.grpc.JobInfo;
import io.jobscheduler.grpc.QueryJobRes;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.is;

/** The table tells its meters of each job's end exactly once, whichever of answer and event comes first. */
class JobTableMetersTest {
    private static final UUID WORKER = UUID.randomUUID();
    private final List<JobState> ended = new ArrayList<>();
    private final JobTable table = new JobTable(100, new SchedulerMeters() {
        @Override
        public void jobEnded(JobState state) {
            ended.add(state);
        }
    });

    private static Job started(String id) {
        return Job.started(id, WORKER, "sh", "x.sh", Instant.ofEpochSecond(1000));
    }

    private static JobEvent event(String id, String state) {
        JobEvent.Builder event = JobEvent.newBuilder().setJobId(id).setState(state).setStartedAtMillis(1_000_000);
        return state.equals("RUNNING") ? event.build() : event.setExitCode(0).setFinishedAtMillis(2_000_000).build();
    }

    @Test
    void aStartedJobEndingByItsEventCountsOnceAndALaterAnswerAddsNothing() {
        table.record(started("a"), true);
        table.apply(WORKER, event("a", "RUNNING"));
        table.apply(WORKER, event("a", "SUCCEEDED"));
        table.record(Job.of("a", WORKER, "", "", QueryJobRes.newBuilder().setDone(true).setState("SUCCEEDED").build()), false);

        assertThat(ended, contains(JobState.SUCCEEDED));
    }

    @Test
    void anEndEventAheadOfTheStartAnswerCountsOnce() {
        table.apply(WORKER, event("b", "FAILED"));
        table.record(started("b"), true);

        assertThat(ended, contains(JobState.FAILED));
    }

    @Test
    void aQueryThatFindsARunningJobEndedCountsIt() {
        table.record(started("c"), false);
        table.record(Job.of("c", WORKER, "", "", QueryJobRes.newBuilder().setDone(true).setError(true)
                .setState("STOPPED").build()), false);

        assertThat(ended, contains(JobState.STOPPED));
    }

    @Test
    void aFinishedJobLearntFromAListingIsNoEnd() {
        table.record(Job.of("d", WORKER, "sh", "x.sh", QueryJobRes.newBuilder().setDone(true).setState("SUCCEEDED")
                .build()), false);

        assertThat(ended, is(empty()));
    }

    /**
     * A job that ends before its worker's event stream is open is first heard of as ended in the
     * worker's listing (the resync): that is its end, counted once, and a later event adds nothing.
     */
    @Test
    void aRunningJobAWorkerListsAsEndedCountsOnce() {
        table.record(started("e"), false);
        table.replace(WORKER, List.of(JobInfo.newBuilder().setJobID("e").setCommand("sh").setPath("x.sh")
                .setStatus(QueryJobRes.newBuilder().setDone(true).setState("SUCCEEDED")).build()), true);
        table.apply(WORKER, event("e", "SUCCEEDED"));

        assertThat(ended, contains(JobState.SUCCEEDED));
    }
}
