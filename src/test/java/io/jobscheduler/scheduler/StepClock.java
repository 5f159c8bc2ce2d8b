package io.jobscheduler.scheduler;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicLong;

/** A clock that moves one second forward each time it is read, so every registration has its own time. */
final class StepClock extends Clock {
    static final Instant START = Instant.parse("2030-01-02T03:04:05Z");
    private final AtomicLong reads = new AtomicLong();

    @Override
    public Instant instant() {
        return START.plus(Duration.ofSeconds(reads.getAndIncrement()));
    }

    @Override
    public ZoneId getZone() {
        return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
        throw new UnsupportedOperationException();
    }
}
