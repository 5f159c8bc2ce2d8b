package io.jobscheduler.worker;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.jobscheduler.grpc.Heartbeat;
import io.jobscheduler.grpc.WatchReq;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntSupplier;

/**
 * The worker's end of a scheduler's {@code Watch}: a heartbeat (with the running-job count) at
 * once and then every {@code heartbeat_millis} the scheduler asked for, until the scheduler
 * cancels or goes away. Each watch has its own virtual thread, since a write to a stalled
 * scheduler blocks (HELIDON-NOTES.md).
 */
final class WatchService {
    private static final Duration MIN_INTERVAL = Duration.ofMillis(50);
    private static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(1);

    /** The worker's id once any registration in flight has been answered. */
    interface WorkerId {
        Optional<String> settled() throws InterruptedException;
    }

    private final WorkerId workerId;
    private final IntSupplier runningJobs;
    private final SchedulerContact contact;

    WatchService(WorkerId workerId, IntSupplier runningJobs, SchedulerContact contact) {
        this.workerId = workerId;
        this.runningJobs = runningJobs;
        this.contact = contact;
    }

    void watch(WatchReq request, ServerCallStreamObserver<Heartbeat> call) {
        Optional<String> mine;
        try {
            mine = workerId.settled();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            call.onError(Status.CANCELLED.withDescription("worker is shutting down").asRuntimeException());
            return;
        }
        if (mine.isEmpty() || !mine.get().equals(request.getWorkerID())) {
            contact.unknownId();
            call.onError(Status.NOT_FOUND.withDescription("this worker is " + mine.orElse("not registered")
                    + ", not " + request.getWorkerID()).asRuntimeException());
            return;
        }
        Duration interval = request.getHeartbeatMillis() > 0
                ? Duration.ofMillis(Math.max(MIN_INTERVAL.toMillis(), request.getHeartbeatMillis()))
                : DEFAULT_INTERVAL;
        ReentrantLock lock = new ReentrantLock();
        Condition cancelled = lock.newCondition();
        boolean[] done = {false};
        call.setOnCancelHandler(() -> {
            lock.lock();
            try {
                done[0] = true;
                cancelled.signalAll();
            } finally {
                lock.unlock();
            }
        });
        contact.watchOpened();
        Thread.ofVirtual().name("watch").start(() -> {
            try {
                while (true) {
                    call.onNext(Heartbeat.newBuilder().setRunningJobs(runningJobs.getAsInt()).build());
                    lock.lock();
                    try {
                        long nanos = interval.toNanos();
                        while (!done[0] && nanos > 0) {
                            nanos = cancelled.awaitNanos(nanos);
                        }
                        if (done[0]) {
                            return;
                        }
                    } finally {
                        lock.unlock();
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                // The scheduler went away mid-write: the watch is over.
            } finally {
                contact.watchClosed();
            }
        });
    }
}
