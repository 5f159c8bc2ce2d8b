package io.jobscheduler.worker.job;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The event log on its own: numbering, the bounded buffer, waking a waiting stream. */
@Timeout(60)
class EventLogTest {
    private static JobStatus status(String id) {
        return new JobStatus(id, "true", "", JobState.RUNNING, OptionalInt.empty(), OptionalInt.empty(), "",
                Instant.EPOCH, null);
    }

    private static void publish(EventLog log, String id) {
        assertTrue(log.change(() -> Optional.of(status(id))));
    }

    private static List<Long> numbers(EventLog.Batch batch) {
        return batch.events().stream().map(EventLog.Event::seq).toList();
    }

    @Test
    void numbersEventsFromOneContiguously() throws InterruptedException {
        EventLog log = new EventLog();
        assertEquals(0, log.current().seq());
        assertEquals(List.of(), log.current().events());
        publish(log, "a");
        publish(log, "b");
        publish(log, "c");
        EventLog.Batch all = log.next(0, Duration.ZERO, () -> false);
        assertEquals(3, all.seq());
        assertEquals(List.of(1L, 2L, 3L), numbers(all));
        assertEquals(List.of("a", "b", "c"), all.events().stream().map(e -> e.status().id()).toList());
        assertEquals(List.of(3L), numbers(log.next(2, Duration.ZERO, () -> false)));
        assertEquals(List.of(), log.next(3, Duration.ZERO, () -> false).events());
    }

    @Test
    void aChangeThatDidNotHappenIsNoEvent() {
        EventLog log = new EventLog();
        assertFalse(log.change(Optional::empty));
        assertEquals(0, log.current().seq());
    }

    @Test
    void aStreamThatFellBehindTheBufferSkipsAheadAndSeesTheGap() throws InterruptedException {
        EventLog log = new EventLog(4);
        for (int i = 1; i <= 10; i++) {
            publish(log, "job-" + i);
        }
        EventLog.Batch behind = log.next(2, Duration.ZERO, () -> false);
        assertEquals(10, behind.seq());
        // Kept: the newest four; the first is beyond 3, which the scheduler takes for a gap.
        assertEquals(List.of(7L, 8L, 9L, 10L), numbers(behind));
        assertEquals(List.of(9L, 10L), numbers(log.next(8, Duration.ZERO, () -> false)));
    }

    @Test
    void aWaitingStreamWakesOnTheNextEventAndOnItsStop() throws Exception {
        EventLog log = new EventLog();
        CompletableFuture<EventLog.Batch> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                return log.next(0, Duration.ofMinutes(1), () -> false);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        publish(log, "a");
        assertEquals(List.of(1L), numbers(waiting.get(30, TimeUnit.SECONDS)));

        boolean[] stop = {false};
        CompletableFuture<EventLog.Batch> stopped = CompletableFuture.supplyAsync(() -> {
            try {
                return log.next(1, Duration.ofMinutes(1), () -> stop[0]);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        });
        stop[0] = true;   // read under the log's lock, which wake() takes before it signals
        log.wake();
        assertEquals(List.of(), stopped.get(30, TimeUnit.SECONDS).events());
    }

    @Test
    void aWaitWithNothingNewEndsAtItsTimeoutAsAHeartbeat() throws InterruptedException {
        EventLog log = new EventLog();
        publish(log, "a");
        EventLog.Batch beat = log.next(1, Duration.ofMillis(20), () -> false);
        assertEquals(1, beat.seq());
        assertEquals(List.of(), beat.events());
    }

    @Test
    void everyLogHasABootIdOfItsOwn() {
        assertNotEquals(new EventLog().bootId(), new EventLog().bootId());
    }
}
