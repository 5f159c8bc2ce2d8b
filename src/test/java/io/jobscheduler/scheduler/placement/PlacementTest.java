package io.jobscheduler.scheduler.placement;

import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PlacementTest {
    private static final UUID A = new UUID(0, 1);
    private static final UUID B = new UUID(0, 2);

    private static Candidate worker(UUID id, int maxRunning, int running, Map<String, String> labels) {
        return new Candidate(id, true, labels, Set.of("args", "job_id"), maxRunning, running);
    }

    @Test
    void theWorkerWithTheMostFreeRoomIsChosen() {
        Placement placement = new Placement();
        var chosen = placement.choose(List.of(worker(A, 8, 6, Map.of()), worker(B, 4, 1, Map.of())),
                Constraints.NONE, List.of(), Optional.empty());
        assertEquals(B, chosen.orElseThrow().id());
    }

    @Test
    void equalWorkersTakeTurns() {
        Placement placement = new Placement();
        Map<UUID, Integer> counts = new HashMap<>();
        for (int i = 0; i < 10; i++) {
            UUID id = placement.choose(List.of(worker(A, 0, 0, Map.of()), worker(B, 0, 0, Map.of())),
                    Constraints.NONE, List.of(), Optional.empty()).orElseThrow().id();
            placement.placed(id);
            counts.merge(id, 1, Integer::sum);
        }
        assertEquals(Map.of(A, 5, B, 5), counts);
    }

    @Test
    void aFullClosedOrUnfitWorkerIsNeverChosen() {
        Placement placement = new Placement();
        assertTrue(placement.choose(List.of(worker(A, 2, 2, Map.of())), Constraints.NONE, List.of(), Optional.empty())
                .isEmpty(), "full");
        assertTrue(placement.choose(List.of(new Candidate(A, false, Map.of(), Set.of(), 0, 0)), Constraints.NONE,
                List.of(), Optional.empty()).isEmpty(), "draining or down");
        assertTrue(placement.choose(List.of(worker(A, 0, 0, Map.of())), Constraints.NONE, List.of("user"),
                Optional.empty()).isEmpty(), "lacks a feature");
        assertTrue(placement.choose(List.of(worker(A, 0, 0, Map.of())), Constraints.NONE, List.of(), Optional.of(B))
                .isEmpty(), "pinned elsewhere");
    }

    @Test
    void constraintsMatchLabelsAndNotValues() {
        Constraints zoneA = new Constraints(Map.of("zone", "a"));
        Constraints notA = new Constraints(Map.of("zone", "!a"));
        assertTrue(zoneA.satisfiedBy(Map.of("zone", "a", "x", "y")));
        assertFalse(zoneA.satisfiedBy(Map.of("zone", "b")));
        assertFalse(zoneA.satisfiedBy(Map.of()));
        assertTrue(notA.satisfiedBy(Map.of("zone", "b")));
        assertTrue(notA.satisfiedBy(Map.of()), "a worker without the label is not 'a'");
        assertFalse(notA.satisfiedBy(Map.of("zone", "a")));
        assertEquals(Optional.of("zone=a"), zoneA.unmetByAll(List.of(Map.of("zone", "b"), Map.of())));
        assertEquals(Optional.empty(), zoneA.unmetByAll(List.of(Map.of("zone", "b"), Map.of("zone", "a"))));
    }

    @Test
    void theQueueIsInPriorityThenArrivalOrderAndBounded() {
        JobQueue<String> queue = new JobQueue<>(3);
        List<QueuedJob<String>> jobs = new ArrayList<>();
        int[] priorities = {0, 5, 0};
        for (int i = 0; i < 3; i++) {
            jobs.add(new QueuedJob<>("j" + i, "start", Constraints.NONE, List.of(), Optional.empty(), priorities[i], i,
                    Instant.EPOCH, Optional.empty()));
            assertTrue(queue.offer(jobs.get(i)));
        }
        assertFalse(queue.offer(new QueuedJob<>("j3", "start", Constraints.NONE, List.of(), Optional.empty(), 9, 3,
                Instant.EPOCH, Optional.empty())), "full");
        assertEquals(List.of("j1", "j0", "j2"), queue.inOrder().stream().map(QueuedJob::jobId).toList());
        queue.remove("j1");
        queue.putBack(jobs.get(1));
        assertEquals(List.of("j1", "j0", "j2"), queue.inOrder().stream().map(QueuedJob::jobId).toList(),
                "a job put back keeps its place");
    }
}
