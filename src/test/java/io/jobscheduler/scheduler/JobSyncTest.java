package io.jobscheduler.scheduler;

import io.jobscheduler.ManualClock;
import io.jobscheduler.grpc.JobInfo;
import io.jobscheduler.grpc.ListJobsRes;
import io.jobscheduler.grpc.QueryJobRes;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static io.jobscheduler.scheduler.ScriptedWorker.await;
import static io.jobscheduler.scheduler.ScriptedWorker.beat;
import static io.jobscheduler.scheduler.ScriptedWorker.event;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Job state from a worker's events (docs/architecture.md, "Job events"), against a worker in the
 * test JVM whose heartbeats, events and ListJobs snapshots the test scripts.
 */
class JobSyncTest {
    private static final String BOOT = "boot-1";

    private final ManualClock clock = new ManualClock();
    private final JobTable table = new JobTable(1000);
    private final WorkerRegistry registry = new WorkerRegistry(clock, new WorkerConnections.Factory(Optional.empty()),
            new WorkerWatch(Duration.ofSeconds(5), Duration.ofMinutes(1), clock,
                    new JobSync(table, Duration.ofSeconds(5), clock)));
    private final JobGateway gateway = new JobGateway(registry, table, Duration.ofSeconds(5), Duration.ofSeconds(5), clock);
    private ScriptedWorker worker;
    private UUID workerId;

    @BeforeEach
    void join() throws Exception {
        worker = new ScriptedWorker();
    }

    @AfterEach
    void stop() throws Exception {
        registry.close();
        worker.close();
    }

    private void register(List<String> features) {
        workerId = registry.register(worker.address(), null, features).id();
    }

    private static ListJobsRes snapshot(long seq, JobInfo... jobs) {
        return ListJobsRes.newBuilder().setSeq(seq).addAllJobs(List.of(jobs)).build();
    }

    private static JobInfo info(String id, String state, int exitCode) {
        QueryJobRes.Builder status = QueryJobRes.newBuilder().setState(state).setDone(!state.equals("RUNNING"))
                .setStartedAtMillis(1_000);
        if (!state.equals("RUNNING")) {
            status.setExitCode(exitCode);
        }
        return JobInfo.newBuilder().setJobID(id).setCommand("sleep").setPath("1").setStatus(status).build();
    }

    private Optional<Job> job(String id) {
        return table.find(id).map(JobTable.Entry::job);
    }

    private Worker state() {
        return ((WorkerLookup.Alive) registry.lookup(workerId)).worker();
    }

    private boolean synced() {
        return registry.lookup(workerId) instanceof WorkerLookup.Alive a && a.synced();
    }

    /** Registers an events worker and completes its first resync at {@code seq}. */
    private io.grpc.stub.ServerCallStreamObserver<io.jobscheduler.grpc.Heartbeat> synced(long seq) throws Exception {
        worker.snapshot.set(snapshot(seq));
        register(List.of(Worker.EVENTS));
        var stream = worker.nextStream();
        stream.onNext(beat(BOOT, seq));
        await("the first resync", this::synced);
        assertEquals(1, worker.lists.get());
        return stream;
    }

    @Test
    void eventsAreAppliedInOrderAndAJobsEndIsAnsweredWithoutACall() throws Exception {
        var stream = synced(0);
        stream.onNext(beat(BOOT, 1, event("j1", "RUNNING")));
        await("j1 running", () -> job("j1").isPresent());
        stream.onNext(beat(BOOT, 3, event("j2", "RUNNING"), event("j1", "SUCCEEDED")));
        await("j1 ended", () -> job("j1").map(Job::done).orElse(false));

        Job j1 = gateway.query("j1", Optional.empty());
        assertEquals(JobState.SUCCEEDED, j1.state());
        assertEquals(0, j1.exitCode().getAsInt());
        assertEquals(JobState.RUNNING, gateway.query("j2", Optional.empty()).state());
        assertEquals(2, gateway.list(1000, Optional.empty(), JobTable.Filter.ALL).entries().size());
        assertEquals(0, worker.queries.get(), "no QueryJob for a worker that pushes events");
        assertEquals(1, worker.lists.get());
    }

    @Test
    void eventsDuringAResyncAreHeldAndAppliedOnlyBeyondTheSnapshot() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        worker.listGate.set(release);
        register(List.of(Worker.EVENTS));
        var stream = worker.nextStream();
        stream.onNext(beat(BOOT, 2, event("a", "RUNNING"), event("b", "RUNNING")));
        await("the resync's ListJobs", () -> worker.lists.get() == 1);
        // Event 3 is in the snapshot already (with exit code 0); event 4 is not.
        stream.onNext(beat(BOOT, 3, event("a", "FAILED")));
        stream.onNext(beat(BOOT, 4, event("b", "FAILED")));
        await("both messages held", () -> {
            Worker w = state();
            w.lock.lock();
            try {
                return w.held.size() == 3;
            } finally {
                w.lock.unlock();
            }
        });
        worker.snapshot.set(snapshot(3, info("a", "SUCCEEDED", 0), info("b", "RUNNING", 0)));
        release.countDown();
        await("b's end applied", () -> job("b").map(Job::done).orElse(false));

        assertEquals(JobState.SUCCEEDED, job("a").orElseThrow().state(), "an event the snapshot covers is not applied again");
        assertEquals(JobState.FAILED, job("b").orElseThrow().state());
        assertEquals("sleep", job("b").orElseThrow().command());
        assertTrue(synced());
    }

    @Test
    void aGapInTheSequenceMakesAResync() throws Exception {
        var stream = synced(0);
        stream.onNext(beat(BOOT, 1, event("j1", "RUNNING")));
        await("j1", () -> job("j1").isPresent());
        worker.snapshot.set(snapshot(5, info("j1", "SUCCEEDED", 0), info("j5", "RUNNING", 0)));
        stream.onNext(beat(BOOT, 5, event("j5", "RUNNING")));   // events 2-4 were missed
        await("the resync", () -> worker.lists.get() == 2 && job("j1").map(Job::done).orElse(false));
        assertTrue(job("j5").isPresent());
        // A plain heartbeat whose seq is beyond what was applied is a gap too (a reopened stream).
        worker.snapshot.set(snapshot(7));
        stream.onNext(beat(BOOT, 7));
        await("the second resync", () -> worker.lists.get() == 3);
    }

    @Test
    void aNewBootIdMakesAResyncWhoseSnapshotReplacesTheWorkersJobs() throws Exception {
        var stream = synced(0);
        stream.onNext(beat(BOOT, 1, event("old", "RUNNING")));
        await("old", () -> job("old").isPresent());
        worker.snapshot.set(snapshot(0, info("new", "RUNNING", 0)));
        stream.onNext(beat("boot-2", 0));
        await("the resync", () -> job("new").isPresent());
        assertFalse(table.find("old").orElseThrow().live(), "a job the restarted worker does not list is asked of it again");
        assertEquals(JobState.RUNNING, gateway.query("old", Optional.empty()).state());
        assertEquals(1, worker.queries.get());
    }

    @Test
    void eventsAlreadyAppliedAreIgnored() throws Exception {
        var stream = synced(0);
        stream.onNext(beat(BOOT, 2, event("j", "RUNNING"), event("j", "SUCCEEDED")));
        await("j ended", () -> job("j").map(Job::done).orElse(false));
        stream.onNext(beat(BOOT, 2, event("j", "RUNNING"), event("k", "RUNNING")));
        stream.onNext(beat(BOOT, 3, event("m", "RUNNING")));
        await("m", () -> job("m").isPresent());
        assertTrue(job("k").isEmpty(), "a repeated event is not applied");
        assertEquals(JobState.SUCCEEDED, job("j").orElseThrow().state());
        assertEquals(1, worker.lists.get());
    }

    @Test
    void aStartAnsweredAfterTheJobsEndKeepsTheEndAndTheWorkersStartTime() throws Exception {
        var stream = synced(0);
        stream.onNext(beat(BOOT, 2, event("fast", "RUNNING"), event("fast", "SUCCEEDED")));
        await("fast ended", () -> job("fast").map(Job::done).orElse(false));
        worker.started.set(io.jobscheduler.grpc.StartJobRes.newBuilder().setJobID("fast").setStartedAtMillis(1_000).build());
        Job started = gateway.start(workerId, JobStart.of("true", ""));
        assertEquals(JobState.SUCCEEDED, started.state());
        assertEquals(1_000, started.startedAt().orElseThrow().toEpochMilli());
        assertEquals("true", job("fast").orElseThrow().command());
    }

    @Test
    void aWorkerWithoutEventsIsQueriedThroughAndItsEventsAreNotTrusted() throws Exception {
        register(List.of());
        var stream = worker.nextStream();
        stream.onNext(beat(BOOT, 1, event("j", "SUCCEEDED")));
        await("its jobs listed once", () -> worker.lists.get() == 1);
        Job started = gateway.start(workerId, JobStart.of("sleep", ""));
        assertEquals(clock.instant(), started.startedAt().orElseThrow(), "no worker start time: the scheduler's clock");
        assertEquals(JobState.RUNNING, gateway.query("sleep", Optional.empty()).state());
        gateway.list(10, Optional.empty(), JobTable.Filter.ALL);
        assertEquals(2, worker.queries.get(), "query and list each asked the worker");
        assertTrue(job("j").isEmpty(), "no event applied");
    }
}
