package io.jobscheduler.scheduler.placement;

import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * A registered worker as placement sees it at one moment.
 *
 * @param open       alive, not draining, and not counted full since it last refused a start
 * @param maxRunning 0: unlimited
 * @param running    jobs the scheduler counts on it: running, and dispatches in flight
 */
public record Candidate(UUID id, boolean open, Map<String, String> labels, Set<String> features, int maxRunning,
                        int running) {
    public Candidate {
        labels = Map.copyOf(labels);
        features = Set.copyOf(features);
    }

    public boolean hasRoom() {
        return maxRunning == 0 || running < maxRunning;
    }

    /** Free room, for ranking: an unlimited worker ranks above every limited one, by fewest running. */
    long free() {
        return maxRunning == 0 ? Integer.MAX_VALUE - (long) running : maxRunning - (long) running;
    }

    /** The same worker with one more job counted on it (a dispatch just chosen). */
    public Candidate withOneMore() {
        return new Candidate(id, open, labels, features, maxRunning, running + 1);
    }
}
