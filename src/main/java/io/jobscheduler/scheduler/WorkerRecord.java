package io.jobscheduler.scheduler;

import io.jobscheduler.config.Address;
import java.time.Instant;
import java.util.Objects;
import java.util.UUID;

/** A registered worker: the id the scheduler knows it by and the address it is dialled at. */
public record WorkerRecord(UUID id, Address address, Instant registeredAt) {
    public WorkerRecord {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(address, "address");
        Objects.requireNonNull(registeredAt, "registeredAt");
    }
}
