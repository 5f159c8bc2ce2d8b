package io.jobscheduler.scheduler;

import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.jobscheduler.config.Address;
import io.jobscheduler.grpc.Heartbeat;
import io.jobscheduler.grpc.WatchReq;
import io.jobscheduler.grpc.WorkerGrpc;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Liveness against fake workers whose heartbeats the test controls. */
class WorkerLivenessTest {
    private static final Duration TTL = Duration.ofMillis(600);

    private final WorkerChannels channels = new WorkerChannels(Optional.empty());
    private final WorkerLiveness liveness = new WorkerLiveness(channels, TTL, Duration.ofSeconds(3), Clock.systemUTC());
    private final BlockingQueue<UUID> expired = new LinkedBlockingQueue<>();
    private Server worker;

    /** A worker whose Watch streams the test drives by hand. */
    private static final class ManualWatch extends WorkerGrpc.WorkerImplBase {
        final BlockingQueue<ServerCallStreamObserver<Heartbeat>> opened = new LinkedBlockingQueue<>();

        @Override
        public void watch(WatchReq request, StreamObserver<Heartbeat> response) {
            opened.add((ServerCallStreamObserver<Heartbeat>) response);
        }
    }

    @AfterEach
    void stop() throws InterruptedException {
        liveness.close();
        channels.close();
        if (worker != null) {
            worker.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    private WorkerRecord join(WorkerGrpc.WorkerImplBase service) throws Exception {
        worker = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create()).addService(service).build().start();
        WorkerRecord record = new WorkerRecord(UUID.randomUUID(), new Address("127.0.0.1", worker.getPort()), Instant.now());
        liveness.start(expired::add);
        channels.added(record);
        liveness.added(record);
        return record;
    }

    private WorkerLiveness.State state(WorkerRecord worker) {
        return liveness.health(worker.id()).orElseThrow().state();
    }

    private static void await(BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "condition not reached within 10 s");
            Thread.onSpinWait();
            Thread.sleep(5);
        }
    }

    @Test
    void aWorkerIsAliveWhileItSendsHeartbeatsAndReportsItsRunningJobs() throws Exception {
        ManualWatch watch = new ManualWatch();
        WorkerRecord record = join(watch);
        var stream = watch.opened.poll(10, TimeUnit.SECONDS);
        stream.onNext(Heartbeat.newBuilder().setRunningJobs(7).build());
        await(() -> liveness.health(record.id()).orElseThrow().runningJobs() == 7);
        assertThat(state(record), is(WorkerLiveness.State.ALIVE));
    }

    @Test
    void aSilentWorkerIsDownAfterTheTtlAndAliveAgainAtItsNextHeartbeat() throws Exception {
        ManualWatch watch = new ManualWatch();
        WorkerRecord record = join(watch);
        var stream = watch.opened.poll(10, TimeUnit.SECONDS);
        await(() -> state(record) == WorkerLiveness.State.DOWN);
        assertTrue(Duration.between(liveness.health(record.id()).orElseThrow().lastSeen(), Instant.now())
                .compareTo(TTL) >= 0, "down only once silent for the TTL");

        stream.onNext(Heartbeat.getDefaultInstance());
        await(() -> state(record) == WorkerLiveness.State.ALIVE);
    }

    @Test
    void aBrokenStreamMakesTheWorkerDownAtOnceAndAReopenedOneRevivesIt() throws Exception {
        ManualWatch watch = new ManualWatch();
        WorkerRecord record = join(watch);
        var first = watch.opened.poll(10, TimeUnit.SECONDS);
        first.onError(io.grpc.Status.UNAVAILABLE.asRuntimeException());
        await(() -> state(record) == WorkerLiveness.State.DOWN);

        var second = watch.opened.poll(10, TimeUnit.SECONDS);
        second.onNext(Heartbeat.getDefaultInstance());
        await(() -> state(record) == WorkerLiveness.State.ALIVE);
    }

    @Test
    void aWorkerOfTheOriginalContractIsAliveWhileItAnswers() throws Exception {
        WorkerRecord record = join(new WorkerGrpc.WorkerImplBase() {
        });
        // Watch is UNIMPLEMENTED there: each answer counts, so it stays alive across several TTLs.
        long until = System.nanoTime() + TTL.multipliedBy(4).toNanos();
        while (System.nanoTime() < until) {
            assertThat(state(record), is(WorkerLiveness.State.ALIVE));
            Thread.sleep(50);
        }
    }

    @Test
    void aWorkerDownBeyondTheExpiryIsHandedOverForRemoval() throws Exception {
        WorkerRecord record = join(new ManualWatch());
        worker.shutdownNow();
        assertThat(expired.poll(15, TimeUnit.SECONDS), is(record.id()));
    }
}
