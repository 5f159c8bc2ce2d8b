package io.jobscheduler.scheduler;

import io.jobscheduler.ManualClock;
import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.jobscheduler.config.Address;
import io.jobscheduler.grpc.Heartbeat;
import io.grpc.ConnectivityState;
import io.jobscheduler.grpc.QueryJobReq;
import io.jobscheduler.grpc.WatchReq;
import io.jobscheduler.grpc.WorkerGrpc;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static io.jobscheduler.scheduler.ScriptedWorker.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
    private WorkerRegistry crowded;
    private final List<ScriptedWorker> others = new ArrayList<>();

    @AfterEach
    void stop() throws Exception {
        registry.close();
        if (crowded != null) {
            crowded.close();
        }
        for (ScriptedWorker other : others) {
            other.close();
        }
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
    void theIntervalGrowsWithTheClusterSoThatItSendsAtMostFiftyHeartbeatsASecond() {
        Duration ttl = Duration.ofSeconds(5);
        assertEquals(Duration.ofMillis(1_666), WorkerWatch.heartbeat(ttl, 1, 50));
        assertEquals(Duration.ofMillis(1_666), WorkerWatch.heartbeat(ttl, 83, 50), "a small cluster beats at ttl / 3");
        assertEquals(Duration.ofSeconds(20), WorkerWatch.heartbeat(ttl, 1_000, 50));
        assertEquals(Duration.ofSeconds(200), WorkerWatch.heartbeat(ttl, 10_000, 50));
        for (int workers : new int[] {84, 999, 1_001, 4_321, 10_000, 100_000}) {
            double perSecond = workers * 1000.0 / WorkerWatch.heartbeat(ttl, workers, 50).toMillis();
            assertTrue(perSecond <= 50, workers + " workers would send " + perSecond + " heartbeats a second");
        }
    }

    /** A scheduler capped at one heartbeat a second, so that three workers make a "large" cluster. */
    private WorkerRegistry crowded(Duration ttl) {
        crowded = new WorkerRegistry(clock, new WorkerConnections.Factory(Optional.empty()),
                new WorkerWatch(ttl, EXPIRY, clock, new JobSync(new JobTable(10), Duration.ofSeconds(5), clock),
                        SchedulerMeters.NONE, new Wakeup(), 1));
        return crowded;
    }

    private List<ScriptedWorker> join(WorkerRegistry into, int count) throws Exception {
        List<ScriptedWorker> joined = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            ScriptedWorker w = new ScriptedWorker();
            others.add(w);
            into.register(w.address(), null, List.of());
            joined.add(w);
        }
        return joined;
    }

    private static long askedMillis(ScriptedWorker w) throws InterruptedException {
        WatchReq request = w.watchRequests.poll(10, TimeUnit.SECONDS);
        assertNotNull(request, "no watch opened within 10 s");
        return request.getHeartbeatMillis();
    }

    private static WorkerRegistry.State state(WorkerRegistry in, ScriptedWorker w) {
        return in.overview().stream().filter(l -> l.worker().address().equals(w.address())).findFirst()
                .orElseThrow().health().state();
    }

    @Test
    void aWorkerOfALargeClusterIsAskedForTheSpreadIntervalAndMayBeSilentForThreeOfThem() throws Exception {
        WorkerRegistry large = crowded(Duration.ofMillis(600));
        List<ScriptedWorker> w = join(large, 3);
        assertEquals(1_000, askedMillis(w.get(0)), "alone at one beat a second (more than ttl / 3)");
        assertEquals(2_000, askedMillis(w.get(1)), "two workers at one beat a second");
        assertEquals(3_000, askedMillis(w.get(2)));

        large.sweep();
        assertEquals(3_000, askedMillis(w.get(0)), "the first stream, off by more than twice, is asked again");
        assertNull(w.get(1).watchRequests.poll(), "2 s is within a factor of two of 3 s: kept");
        assertEquals(WorkerRegistry.State.ALIVE, state(large, w.get(0)), "asking again is no sign of death");

        w.get(0).opened.poll();     // the stream that was replaced
        for (ScriptedWorker each : w) {
            each.opened.take().onNext(Heartbeat.getDefaultInstance());
        }
        Instant beat = clock.instant();
        await("three heartbeats", () -> large.overview().stream().allMatch(l -> l.health().lastSeen().equals(beat)));
        // The first heartbeat of an unknown boot makes the scheduler list the worker's jobs; that
        // listing's answer is a sign of life too, so it must be in before the silence is counted.
        await("the first listings", () -> w.stream().allMatch(each -> each.lists.get() >= 1));
        clock.advance(Duration.ofSeconds(9));
        large.sweep();
        assertEquals(List.of(WorkerRegistry.State.ALIVE, WorkerRegistry.State.DOWN, WorkerRegistry.State.ALIVE),
                w.stream().map(each -> state(large, each)).toList(), "3 x 3 s of silence is allowed, 3 x 2 s is not");
        clock.advance(Duration.ofMillis(1));
        large.sweep();
        assertEquals(WorkerRegistry.State.DOWN, state(large, w.get(2)));
    }

    @Test
    void aShrinkingClusterAsksItsWorkersForTheShorterIntervalAgain() throws Exception {
        WorkerRegistry large = crowded(Duration.ofMillis(600));
        List<ScriptedWorker> w = join(large, 3);
        assertEquals(3_000, askedMillis(w.get(2)));
        for (var listed : large.overview()) {
            if (!listed.worker().address().equals(w.get(2).address())) {
                large.deregister(listed.worker().id());
            }
        }
        w.get(2).watchRequests.clear();
        large.sweep();
        assertEquals(1_000, askedMillis(w.get(2)), "alone at one beat a second: 1 s");
    }

    @Test
    void aBrokenStreamIsReopenedAfterTheSmallClustersIntervalNotTheLargeOnes() throws Exception {
        WorkerRegistry large = crowded(Duration.ofMillis(600));
        List<ScriptedWorker> w = join(large, 3);
        ScriptedWorker last = w.get(2);
        assertEquals(3_000, askedMillis(last));
        last.opened.take().onError(io.grpc.Status.UNAVAILABLE.asRuntimeException());
        await("down", () -> state(large, last) == WorkerRegistry.State.DOWN);
        clock.advance(Duration.ofMillis(200));
        large.sweep();
        assertEquals(3_000, askedMillis(last), "reopened 200 ms later, asking for the large cluster's interval");
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
    void afterTheFirstListingTheUnaryConnectionIsLetGoAndTheNextCallMakesANewOne() throws Exception {
        UUID id = join();
        worker.nextStream().onNext(Heartbeat.getDefaultInstance());
        await("the first-contact listing", () -> worker.lists.get() == 1);
        var unary = assertInstanceOf(WorkerLookup.Alive.class, registry.lookup(id)).channel();
        await("the unary channel idle", () -> unary.getState(false) == ConnectivityState.IDLE);

        var answer = WorkerGrpc.newBlockingStub(unary).withDeadlineAfter(10, TimeUnit.SECONDS)
                .queryJob(QueryJobReq.newBuilder().setJobID("j").build());
        assertEquals("RUNNING", answer.getState());
        assertEquals(WorkerRegistry.State.ALIVE, health(id).state(), "the watch rides its own connection");
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
