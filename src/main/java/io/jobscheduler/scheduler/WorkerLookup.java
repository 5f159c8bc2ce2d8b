package io.jobscheduler.scheduler;

import io.grpc.ManagedChannel;
import java.time.Instant;
import java.util.UUID;

/** Where a worker stands, read at one moment under its lock: the one lookup the gateway makes. */
sealed interface WorkerLookup {
    /** No worker of this id is registered (it never was, or it left). */
    record Unknown(UUID workerId) implements WorkerLookup {
    }

    /** Registered but down: its jobs answer {@code LOST}. */
    record Down(WorkerRecord worker, Instant lastSeen) implements WorkerLookup {
    }

    /**
     * Registered and alive. {@code synced}: it pushes job events and the scheduler holds its
     * jobs' current state, so they are answered without a call.
     */
    record Alive(Worker worker, boolean synced) implements WorkerLookup {
        ManagedChannel channel() {
            return worker.connections.unary();
        }
    }
}
