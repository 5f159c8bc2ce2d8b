package io.jobscheduler.scheduler;

import java.time.Instant;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.UUID;

/** A job's status as the gateway answers it: what its worker said, plus where it runs. */
public record JobView(String jobId, UUID workerId, boolean done, boolean error, String errorText, String state,
                      OptionalInt exitCode, OptionalInt signal, Optional<Instant> startedAt,
                      Optional<Instant> finishedAt) {
}
