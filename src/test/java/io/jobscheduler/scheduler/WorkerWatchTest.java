package io.jobscheduler.scheduler;

import io.jobscheduler.ManualClock;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.jobscheduler.config.Address;
import io.jobscheduler.grpc.Heartbeat;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static io.jobscheduler.scheduler.ScriptedWorker.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/**
 * Liveness on a clock the test moves: the sweep runs when the test calls it, so no test waits for
 * a time-to-live to pass (it waits only for gRPC messages to arrive).
 */
class WorkerWatchTest {
    private static final Duration TTL = Duration.ofSeconds(6);
    private static final Duration HEARTBEAT = WorkerWatch.heartbeat(TTL);
    private static final Duration EXPIRY = Duration.ofMinutes(1);

    private final ManualClock clock = new ManualClock();
    private final WorkerRegistry registry = new WorkerRegistry(clock, new WorkerConnections.Factory(Optional.empty()),
            new WorkerWatch(TTL, EXPIRY, clock, new JobSync(new JobTable(10), Duration.ofSeconds(5), clock)));
    private ScriptedWorker worker;
    private Server original;

    @AfterEach
    void stop() throws Exception {
        registry.close();
        if (worker != null) {
            worker.close();
        }
        if (original != null) {
            original.shutdownNow();
        }
    }

    private UUID join() throws Exception {
        worker = new ScriptedWorker();
        return registry.register(worker.address(), null, List.of()).id();
    }

    private WorkerRegistry.Health health(UUID id) {
        return registry.overview(id).orElseThrow().health();
    }

    @Test
    void theHeartbeatRuleIsThreeBeatsPerTtlAndNeverBelow50Ms() {
        assertEquals(Duration.ofSeconds(2), HEARTBEAT);
        assertEquals(Duration.ofMillis(50), WorkerWatch.heartbeat(Duration.ofMillis(90)));
    }

    @Test
    void aWorkerIsAliveWhileItSendsHeartbeatsAndReportsItsRunningJobs() throws Exception {
        UUID id = join();
        var stream = worker.nextStream();
        stream.onNext(Heartbeat.newBuilder().setRunningJobs(7).build());
        await("7 running jobs", () -> health(id).runningJobs() == 7);
        clock.advance(TTL);
        registry.sweep();
        assertEquals(WorkerRegistry.State.ALIVE, health(id).state(), "silent for exactly the TTL is still alive");
    }

    @Test
    void aSilentWorkerIsDownAfterTheTtlAndAliveAgainAtItsNextHeartbeat() throws Exception {
        UUID id = join();
        var stream = worker.nextStream();
        clock.advance(TTL.plusMillis(1));
        registry.sweep();
        assertEquals(WorkerRegistry.State.DOWN, health(id).state());
        assertInstanceOf(WorkerLookup.Down.class, registry.lookup(id));

        stream.onNext(Heartbeat.getDefaultInstance());
        await("alive again", () -> health(id).state() == WorkerRegistry.State.ALIVE);
        assertEquals(clock.instant(), health(id).lastSeen());
    }

    @Test
    void aBrokenStreamMakesTheWorkerDownAtOnceAndTheSweepReopensItAfterAHeartbeat() throws Exception {
        UUID id = join();
        worker.nextStream().onError(io.grpc.Status.UNAVAILABLE.asRuntimeException());
        await("down", () -> health(id).state() == WorkerRegistry.State.DOWN);

        clock.advance(HEARTBEAT.minusMillis(1));
        registry.sweep();
        assertEquals(0, worker.opened.size(), "not reopened before a heartbeat has passed");
        clock.advance(Duration.ofMillis(1));
        registry.sweep();
        worker.nextStream().onNext(Heartbeat.getDefaultInstance());
        await("alive", () -> health(id).state() == WorkerRegistry.State.ALIVE);
    }

    @Test
    void aWorkerOfTheOriginalContractIsAliveWhileItAnswers() throws Exception {
        original = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create()).build().start();
        UUID id = registry.register(new Address("127.0.0.1", original.getPort()), null, List.of()).id();
        // Watch is UNIMPLEMENTED there: each answer counts, so it stays alive across several TTLs.
        for (int beat = 0; beat < 10; beat++) {
            var now = clock.instant();
            await("an answer at beat " + beat, () -> health(id).lastSeen().equals(now));
            clock.advance(HEARTBEAT);
            registry.sweep();
            assertEquals(WorkerRegistry.State.ALIVE, health(id).state());
        }
    }

    @Test
    void aWorkerDownBeyondTheExpiryIsRemoved() throws Exception {
        UUID id = join();
        worker.nextStream();
        clock.advance(TTL.plusMillis(1));
        registry.sweep();
        assertEquals(WorkerRegistry.State.DOWN, health(id).state());
        clock.advance(EXPIRY);
        registry.sweep();
        assertInstanceOf(WorkerLookup.Down.class, registry.lookup(id), "down for exactly the expiry is kept");
        clock.advance(Duration.ofMillis(1));
        registry.sweep();
        assertInstanceOf(WorkerLookup.Unknown.class, registry.lookup(id));
    }
}
