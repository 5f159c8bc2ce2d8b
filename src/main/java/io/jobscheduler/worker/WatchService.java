package io.jobscheduler.worker;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.jobscheduler.grpc.Heartbeat;
import io.jobscheduler.grpc.WatchReq;
import io.jobscheduler.worker.job.EventLog;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntSupplier;

/**
 * The worker's end of a scheduler's {@code Watch} (docs/architecture.md, "Job events"): the first
 * message at once (boot id, current sequence number, no events), then every job event as soon as
 * it is published, and a plain heartbeat whenever {@code heartbeat_millis} passed without one,
 * until the scheduler cancels or goes away. Each watch has its own virtual thread, since a write to
 * a stalled scheduler blocks (docs/helidon-notes.md, "Helidon's HTTP/2 server").
 */
final class WatchService {
    private static final System.Logger LOG = System.getLogger(WatchService.class.getName());
    /** The fastest heartbeat a scheduler may ask for: a guard against a peer asking for a flood. */
    private static final Duration MIN_INTERVAL = Duration.ofMillis(50);
    /** For a scheduler that names no interval (the original contract has none). */
    private static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(1);

    /** The worker's id once any registration in flight has been answered. */
    interface WorkerId {
        Optional<String> settled() throws InterruptedException;
    }

    private final WorkerId workerId;
    private final IntSupplier runningJobs;
    private final int maxRunning;
    private final EventLog events;
    private final SchedulerContact contact;

    WatchService(WorkerId workerId, IntSupplier runningJobs, int maxRunning, EventLog events, SchedulerContact contact) {
        this.workerId = workerId;
        this.runningJobs = runningJobs;
        this.maxRunning = maxRunning;
        this.events = events;
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
        AtomicBoolean cancelled = new AtomicBoolean();
        call.setOnCancelHandler(() -> {
            cancelled.set(true);
            events.wake();
        });
        contact.watchOpened();
        Thread.ofVirtual().name("watch").start(() -> {
            try {
                EventLog.Batch batch = events.current();
                while (!cancelled.get()) {
                    call.onNext(JobProtos.heartbeat(batch, runningJobs.getAsInt(), maxRunning));
                    batch = events.next(batch.seq(), interval, cancelled::get);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                // Whatever made a write fail (the scheduler went away, the stream was reset), the
                // watch is over, and its end is what tells the scheduler.
                LOG.log(System.Logger.Level.DEBUG, "watch ended: " + e);
            } finally {
                contact.watchClosed();
            }
        });
    }
}
