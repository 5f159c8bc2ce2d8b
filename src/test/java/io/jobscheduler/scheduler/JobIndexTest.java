package io.jobscheduler.scheduler;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

class JobIndexTest {
    private static final UUID WORKER = UUID.randomUUID();

    private static JobIndex.Entry job(String id, long startedSecond) {
        return new JobIndex.Entry(id, WORKER, "bash", "x.sh", Instant.ofEpochSecond(startedSecond), "RUNNING");
    }

    @Test
    void pagesWalkEveryJobNewestFirstExactlyOnce() {
        JobIndex index = new JobIndex(100);
        for (int i = 0; i < 25; i++) {
            index.put(job("job-" + i, 1000 + i / 3)); // several jobs share a start second
        }
        List<String> seen = new ArrayList<>();
        Optional<String> cursor = Optional.empty();
        do {
            JobIndex.Page page = index.page(10, cursor);
            page.entries().forEach(e -> seen.add(e.jobId()));
            cursor = page.next();
        } while (cursor.isPresent());
        List<String> expected = new ArrayList<>();
        for (int i = 24; i >= 0; i--) {
            expected.add("job-" + i);
        }
        assertThat(seen, is(expected));
    }

    @Test
    void newJobsArrivingBetweenPagesDoNotShiftLaterPages() {
        JobIndex index = new JobIndex(100);
        for (int i = 0; i < 4; i++) {
            index.put(job("old-" + i, i));
        }
        JobIndex.Page first = index.page(2, Optional.empty());
        index.put(job("new", 100));
        JobIndex.Page second = index.page(2, first.next());
        assertThat(second.entries().stream().map(JobIndex.Entry::jobId).toList(), contains("old-1", "old-0"));
        assertThat(second.next().isPresent(), is(false));
    }

    @Test
    void theOldestEntriesAreEvictedBeyondCapacity() {
        JobIndex index = new JobIndex(3);
        for (int i = 0; i < 5; i++) {
            index.put(job("job-" + i, i));
        }
        assertThat(index.size(), is(3));
        assertThat(index.find("job-1").isPresent(), is(false));
        assertThat(index.find("job-2").isPresent(), is(true));
    }

    @Test
    void refreshingAJobKeepsItsPlaceAndUpdatesItsState() {
        JobIndex index = new JobIndex(10);
        index.put(job("a", 1));
        index.put(job("b", 2));
        index.recordStatus(new JobView("a", WORKER, true, false, "", "SUCCEEDED", java.util.OptionalInt.of(0),
                java.util.OptionalInt.empty(), Optional.of(Instant.EPOCH), Optional.of(Instant.EPOCH)));
        assertThat(index.find("a").orElseThrow().state(), is("SUCCEEDED"));
        assertThat("a finished job's status is kept", index.find("a").orElseThrow().finished().exitCode().getAsInt(), is(0));
        assertThat(index.page(10, Optional.empty()).entries().stream().map(JobIndex.Entry::jobId).toList(),
                contains("b", "a"));
    }

    @Test
    void aCursorThatTheIndexDidNotMakeIsRejected() {
        JobIndex index = new JobIndex(10);
        assertThrows(IllegalArgumentException.class, () -> index.page(10, Optional.of("garbage")));
    }
}
