package io.jobscheduler.scheduler.placement;

import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/**
 * Picks a worker for a job. Eligible: open (alive, not draining), meeting the job's constraints,
 * advertising every feature the job needs, with room. Best: the most free room (an unlimited
 * worker: the fewest running), then the fewest recent placements, so equal workers take turns,
 * then the order given (registration). Not thread-safe: its owner calls it under its own lock.
 */
public final class Placement {
    /** When a worker's count of placements reaches this, every count is halved: "recent" decays. */
    private static final int DECAY_AT = 1024;

    private final Map<UUID, Integer> recent = new HashMap<>();

    /**
     * The best worker for a job needing {@code features} under {@code constraints}, among
     * {@code candidates} (in registration order); {@code pinned} narrows it to that one worker.
     * Only {@link #placed} counts a choice as a placement.
     */
    public Optional<Candidate> choose(List<Candidate> candidates, Constraints constraints, Collection<String> features,
                                      Optional<UUID> pinned) {
        Candidate best = null;
        for (Candidate c : candidates) {
            if (!c.hasRoom() || !fits(c, constraints, features, pinned)) {
                continue;
            }
            if (best == null || better(c, best)) {
                best = c;
            }
        }
        return Optional.ofNullable(best);
    }

    /** Whether the worker could take the job, room aside. */
    public static boolean fits(Candidate c, Constraints constraints, Collection<String> features, Optional<UUID> pinned) {
        return c.open() && pinned.map(p -> p.equals(c.id())).orElse(true) && c.features().containsAll(features)
                && constraints.satisfiedBy(c.labels());
    }

    private boolean better(Candidate c, Candidate best) {
        int byRoom = Long.compare(c.free(), best.free());
        return byRoom != 0 ? byRoom > 0 : recent.getOrDefault(c.id(), 0) < recent.getOrDefault(best.id(), 0);
    }

    /** The job went to this worker: it counts towards its recent placements. */
    public void placed(UUID id) {
        if (recent.merge(id, 1, Integer::sum) >= DECAY_AT) {
            recent.replaceAll((k, v) -> v / 2);
        }
    }

    /** A worker left: its count goes with it. */
    public void forget(UUID id) {
        recent.remove(id);
    }
}
