package io.jobscheduler.scheduler;

import io.jobscheduler.ManualClock;
import io.jobscheduler.grpc.Heartbeat;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static io.jobscheduler.scheduler.ScriptedWorker.await;
import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.hasItem;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The meters the liveness watch and the worker channels feed, on a clock the test moves: a missed
 * heartbeat counts once per silence (not once per sweep), and every call to a worker is counted
 * by method and status.
 */
class WorkerWatchMetersTest {
    private static final Duration TTL = Duration.ofSeconds(6);

    private final ManualClock clock = new ManualClock();
    private final List<String> seen = new CopyOnWriteArrayList<>();
    private final SchedulerMeters meters = new SchedulerMeters() {
        @Override
        public void heartbeatMissed() {
            seen.add("missed");
        }

        @Override
        public void workerCall(String method, io.grpc.Status.Code code) {
            seen.add(method + " " + code);
        }
    };
    private final WorkerRegistry registry = new WorkerRegistry(clock,
            new WorkerConnections.Factory(Optional.empty(), meters),
            new WorkerWatch(TTL, Duration.ofMinutes(1), clock, new JobSync(new JobTable(10), Duration.ofSeconds(5), clock),
                    meters));
    private ScriptedWorker worker;

    @AfterEach
    void stop() throws Exception {
        registry.close();
        if (worker != null) {
            worker.close();
        }
    }

    @Test
    void aSilenceCountsOneMissedHeartbeatHoweverManySweepsSeeIt() throws Exception {
        worker = new ScriptedWorker();
        UUID id = registry.register(worker.address(), null, List.of()).id();
        var stream = worker.nextStream();
        clock.advance(TTL.plusMillis(1));
        registry.sweep();
        registry.sweep();
        assertEquals(List.of("missed"), misses());

        stream.onNext(Heartbeat.getDefaultInstance());
        await("alive again", () -> registry.overview(id).orElseThrow().health().state() == WorkerRegistry.State.ALIVE);
        clock.advance(TTL.plusMillis(1));
        registry.sweep();
        assertEquals(List.of("missed", "missed"), misses());
    }

    @Test
    void aBrokenWatchIsCountedAsAWatchCallEndingUnavailable() throws Exception {
        worker = new ScriptedWorker();
        registry.register(worker.address(), null, List.of());
        worker.nextStream().onError(io.grpc.Status.UNAVAILABLE.asRuntimeException());

        await("the watch's end counted", () -> seen.contains("Watch UNAVAILABLE"));
        assertThat(new ArrayList<>(seen), hasItem("Watch UNAVAILABLE"));
    }

    private List<String> misses() {
        return seen.stream().filter(s -> s.equals("missed")).toList();
    }
}
