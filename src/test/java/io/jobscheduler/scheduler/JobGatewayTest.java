package io.jobscheduler.scheduler;

import io.jobscheduler.ManualClock;
import io.grpc.Status;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

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
}
