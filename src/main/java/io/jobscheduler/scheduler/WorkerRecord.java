package io.jobscheduler.scheduler;

import io.jobscheduler.config.Address;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * A registered worker: the id the scheduler knows it by, the address it is dialled at, and the limits it
 * said it enforces ({@code RegisterReq.enforced_limits}; none from a worker of the original contract).
 */
public record WorkerRecord(UUID id, Address address, Instant registeredAt, List<String> limits) {
    public WorkerRecord {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(registeredAt, "registeredAt");
        limits = List.copyOf(limits);
    }

    public WorkerRecord(UUID id, Address address, Instant registeredAt) {
        this(id, address, registeredAt, List.of());
    }
}
