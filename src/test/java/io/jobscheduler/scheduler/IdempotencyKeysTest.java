package io.jobscheduler.scheduler;

import io.jobscheduler.ManualClock;
import java.time.Duration;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IdempotencyKeysTest {
    private final ManualClock clock = new ManualClock();
    private final IdempotencyKeys keys = new IdempotencyKeys(Duration.ofHours(24), clock);
    private final IdempotencyKeys.Scoped key = new IdempotencyKeys.Scoped("anonymous", "k-1");

    @Test
    void aKeyInFlightIsAConflictOfItsOwnKindAndARepeatAfterItAnswersTheJob() {
        var granted = assertInstanceOf(IdempotencyKeys.Claim.Granted.class, keys.claim(key, "aa"));
        var inFlight = assertThrows(SchedulerException.IdempotencyConflict.class, () -> keys.claim(key, "aa"));
        assertTrue(inFlight.inFlight(), "409");
        keys.complete(key, granted.jobId());
        assertEquals(new IdempotencyKeys.Claim.Repeat(granted.jobId()), keys.claim(key, "aa"));
        var other = assertThrows(SchedulerException.IdempotencyConflict.class, () -> keys.claim(key, "bb"));
        assertTrue(!other.inFlight(), "422: another request");
    }

    @Test
    void aReleasedOrExpiredKeyIsNewAgainAndScopesNeverMeet() {
        keys.claim(key, "aa");
        keys.release(key);
        assertInstanceOf(IdempotencyKeys.Claim.Granted.class, keys.claim(key, "aa"));
        keys.complete(key, "job");
        assertInstanceOf(IdempotencyKeys.Claim.Granted.class,
                keys.claim(new IdempotencyKeys.Scoped("someone-else", "k-1"), "zz"));
        clock.advance(Duration.ofHours(25));
        assertInstanceOf(IdempotencyKeys.Claim.Granted.class, keys.claim(key, "bb"));
    }
}
