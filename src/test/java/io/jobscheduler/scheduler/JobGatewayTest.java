package io.jobscheduler.scheduler;

import io.jobscheduler.ManualClock;
import io.grpc.Status;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import io.jobscheduler.grpc.Heartbeat;
import io.jobscheduler.scheduler.placement.Constraints;
import io.jobscheduler.scheduler.placement.QueuedJob;
import io.jobscheduler.scheduler.store.JournalStore;
import io.jobscheduler.scheduler.store.MemoryStore;
import io.jobscheduler.scheduler.store.StoreRecord;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The gateway's one lookup per operation, against a worker in the test JVM (no StreamJob, no StopJob). */
class JobGatewayTest {
    private final ManualClock clock = new ManualClock();
    private final JobTable table = new JobTable(100);
    private final WorkerRegistry registry = new WorkerRegistry(clock, new WorkerConnections.Factory(Optional.empty()),
            new WorkerWatch(Duration.ofSeconds(6), Duration.ofMinutes(1), clock,
                    new JobSync(table, Duration.ofSeconds(5), clock)));
    private final JobGateway gateway = new JobGateway(registry, table, Duration.ofSeconds(5), Duration.ofSeconds(5), clock);
    private ScriptedWorker worker;
    private UUID workerId;

    @BeforeEach
    void join() throws Exception {
        worker = new ScriptedWorker();
        workerId = registry.register(worker.address(), null, List.of()).id();
    }

    @AfterEach
    void stop() throws Exception {
        registry.close();
        worker.close();
    }

    @Test
    void theOutputOfAJobTheSchedulerDoesNotHoldFailsBeforeTheCallerHasAnythingToSend() {
        // The worker's StreamJob answers UNIMPLEMENTED: for an unknown job that answer is awaited here.
        var refused = assertThrows(SchedulerException.WorkerRefused.class,
                () -> gateway.output("unknown", Optional.of(workerId), 0, false));
        assertEquals(Status.Code.UNIMPLEMENTED, refused.code());
    }

    @Test
    void theOutputOfAKnownJobOpensAtOnceAndItsFailureComesWithTheFirstChunk() {
        gateway.start(workerId, JobStart.of("sleep", ""));
        try (JobOutput.Call call = gateway.output("sleep", Optional.empty(), 0, false)) {
            var refused = assertThrows(SchedulerException.WorkerRefused.class,
                    () -> call.sendNext(new ByteArrayOutputStream()));
            assertEquals(Status.Code.UNIMPLEMENTED, refused.code());
        }
    }

    @Test
    void aDownWorkerMakesItsJobsLostAndRefusesNewWork() {
        gateway.start(workerId, JobStart.of("sleep", ""));
        clock.advance(Duration.ofSeconds(7));
        registry.sweep();
        assertEquals(JobState.LOST, gateway.query("sleep", Optional.empty()).state());
        assertEquals(JobState.LOST, gateway.list(10, Optional.empty(), JobTable.Filter.ALL).entries().getFirst().job().state());
        assertInstanceOf(SchedulerException.WorkerDown.class,
                assertThrows(SchedulerException.class, () -> gateway.start(workerId, JobStart.of("sleep", ""))));
        assertInstanceOf(SchedulerException.WorkerDown.class,
                assertThrows(SchedulerException.class, () -> gateway.stop("sleep", Optional.empty())));
    }

    @Test
    void aJobOfAWorkerThatLeftIsLostAndItsOutputSaysTheWorkerLeft() {
        gateway.start(workerId, JobStart.of("sleep", ""));
        registry.deregister(workerId);
        assertEquals(JobState.LOST, gateway.query("sleep", Optional.empty()).state());
        assertInstanceOf(SchedulerException.WorkerLeft.class,
                assertThrows(SchedulerException.class, () -> gateway.output("sleep", Optional.empty(), 0, true)));
        UUID stranger = UUID.randomUUID();
        assertInstanceOf(SchedulerException.UnknownWorker.class,
                assertThrows(SchedulerException.class, () -> gateway.query("sleep", Optional.of(stranger))));
        assertInstanceOf(SchedulerException.UnknownJob.class,
                assertThrows(SchedulerException.class, () -> gateway.query("nothing", Optional.empty())));
    }

    @Test
    void aStartTheWorkerRefusesAsFullGoesBackToTheQueueAndStartsAfterItsNextHeartbeats() throws Exception {
        Wakeup wakeup = new Wakeup();
        JobTable jobs = new JobTable(100);
        WorkerRegistry cluster = new WorkerRegistry(clock, new WorkerConnections.Factory(Optional.empty()),
                new WorkerWatch(Duration.ofSeconds(6), Duration.ofMinutes(1), clock,
                        new JobSync(jobs, Duration.ofSeconds(5), clock), SchedulerMeters.NONE, wakeup));
        JobGateway placing = new JobGateway(cluster, jobs, Duration.ofSeconds(5), Duration.ofSeconds(5), clock,
                SchedulerMeters.NONE, new JobGateway.Queueing(100, wakeup, new MemoryStore(), List.of(), Duration.ZERO,
                Duration.ofHours(24)));
        try (ScriptedWorker full = new ScriptedWorker()) {
            // The scheduler counts room on the worker; the worker, full of jobs it did not say, refuses twice.
            full.refuseAsFull.set(2);
            UUID id = cluster.register(full.address(), null, new WorkerRegistry.Advertised(
                    List.of(Worker.CAPACITY, Worker.JOB_ID), List.of(), Map.of(), 1)).id();
            var beats = full.nextStream();
            Worker worker = cluster.all().getFirst();

            JobGateway.Placed placed = placing.submit(JobStart.of("sleep", ""), Constraints.NONE, Optional.empty(), 0,
                    Optional.empty());
            String jobId = placed.job().jobId();
            assertTrue(placed.queued(), "a start refused as full is queued (202), not an error");
            assertEquals(1, full.starts.get());
            assertEquals(JobState.QUEUED, placing.query(jobId, Optional.empty()).state());

            // Counted full until its next heartbeat; then the queue sends the job, and it is refused again.
            ScriptedWorker.await("the worker counted full", () -> refusedStart(worker));
            beats.onNext(Heartbeat.newBuilder().setMaxRunning(1).build());
            ScriptedWorker.await("the queued job sent a second time", () -> full.starts.get() == 2);
            ScriptedWorker.await("the worker counted full again", () -> refusedStart(worker));
            assertEquals(JobState.QUEUED, placing.query(jobId, Optional.empty()).state(), "back in the queue");
            assertEquals(1, placing.queued());

            beats.onNext(Heartbeat.newBuilder().setMaxRunning(1).build());
            ScriptedWorker.await("the job started", () -> placing.query(jobId, Optional.empty()).state() == JobState.RUNNING);
            Job started = placing.query(jobId, Optional.empty());
            assertEquals(id, started.workerId());
            assertEquals(3, full.starts.get(), "sent once more after each refusal, never beside it");
            assertEquals(0, placing.queued());
        } finally {
            placing.endStreams();
            cluster.close();
        }
    }

    private static boolean refusedStart(Worker worker) {
        worker.lock.lock();
        try {
            return worker.refusedStart;
        } finally {
            worker.lock.unlock();
        }
    }

    /** A queued job as the journal of a scheduler before its restart holds it, pinned to {@code worker}. */
    private static StoreRecord queuedFor(String jobId, UUID worker, long arrival) {
        return JournalRecords.queued(new QueuedJob<>(jobId, JobStart.of("sleep", ""), Constraints.NONE, List.of(),
                Optional.of(worker), 0, arrival, Instant.parse("2030-01-01T00:00:00Z"), Optional.empty()), null);
    }

    @Test
    void afterARestartAJobPinnedToAWorkerThatNeverRegistersAgainFailsOnceTheGraceEndsAndADownWorkersJobWaits(
            @TempDir Path dir) throws Exception {
        // The worker of this test is registered and down (no heartbeats): it may come back.
        clock.advance(Duration.ofSeconds(7));
        registry.sweep();
        assertInstanceOf(WorkerLookup.Down.class, registry.lookup(workerId));
        UUID gone = UUID.randomUUID();
        Duration grace = Duration.ofSeconds(18);   // 3 x the TTL of 6 s
        try (JournalStore before = new JournalStore(dir)) {
            before.load();
            before.append(queuedFor("for-gone", gone, 0));
            before.append(queuedFor("for-down", workerId, 1));
            // A dispatch recorded to the gone worker, never answered: it may have reached it.
            before.append(JournalRecords.queued(new QueuedJob<>("sent-to-gone", JobStart.of("sleep", ""), Constraints.NONE,
                    List.of(), Optional.empty(), 0, 2, Instant.parse("2030-01-01T00:00:00Z"), Optional.empty()), null));
            before.append(new StoreRecord.Dispatching("sent-to-gone", gone.toString(), null, null)).await();
        }
        JournalStore store = new JournalStore(dir);
        List<StoreRecord> journal = store.load();
        JobGateway restarted = new JobGateway(registry, table, Duration.ofSeconds(5), Duration.ofSeconds(5), clock,
                SchedulerMeters.NONE, new JobGateway.Queueing(100, new Wakeup(), store, journal, grace,
                Duration.ofHours(24)));
        try {
            assertEquals(JobState.QUEUED, restarted.query("for-gone", Optional.empty()).state(), "within the grace it waits");
            clock.advance(grace.plusSeconds(1));
            ScriptedWorker.await("the job of the worker that never came back failed",
                    () -> restarted.query("for-gone", Optional.empty()).state() == JobState.FAILED);
            Job failed = restarted.query("for-gone", Optional.empty());
            assertTrue(failed.errorText().contains("worker '" + gone + "'"), "the error names the worker: " + failed);
            assertEquals(gone, failed.workerId());
            assertTrue(failed.startedAt().isEmpty(), "it never started");
            Job lost = restarted.query("sent-to-gone", Optional.empty());
            assertEquals(JobState.LOST, lost.state(), "its start may have reached the worker: " + lost);
            assertEquals(gone, lost.workerId());
            // Both were looked at in the same pass: the down worker's job is still queued.
            assertEquals(JobState.QUEUED, restarted.query("for-down", Optional.empty()).state(),
                    "a down worker is still registered: its job waits for it");
            assertEquals(1, restarted.queued());
        } finally {
            restarted.endStreams();
            store.close();
        }
        // The end is journalled: a second restart answers it.
        try (JournalStore reopened = new JournalStore(dir)) {
            JournalRecords.Restored again = JournalRecords.replay(reopened.load());
            assertEquals(List.of("for-gone", "sent-to-gone"), again.ended().stream().map(e -> e.job().jobId()).toList());
            assertEquals(List.of(JobState.FAILED, JobState.LOST), again.ended().stream().map(JournalRecords.Ended::state).toList());
            assertEquals(List.of("for-down"), again.queue().stream().map(QueuedJob::jobId).toList());
        }
    }
}
