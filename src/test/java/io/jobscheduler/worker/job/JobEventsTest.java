package io.jobscheduler.worker.job;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static io.jobscheduler.worker.job.JobFixtures.GENEROUS;
import static io.jobscheduler.worker.job.JobFixtures.awaitOutput;
import static io.jobscheduler.worker.job.JobFixtures.script;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The events a runner publishes for its jobs, and the snapshot ListJobs answers. */
@Timeout(180)
class JobEventsTest {
    @TempDir
    Path work;
    @TempDir
    Path data;
    private JobRunner runner;

    @BeforeEach
    void open() throws Exception {
        runner = newRunner();
    }

    @AfterEach
    void close() {
        runner.close();
    }

    private JobRunner newRunner() throws Exception {
        return new JobRunner(work, data, Duration.ofMillis(300), 10_000, 1L << 30);
    }

    /** Every event from the first on (the log's buffer is far larger than these tests' events). */
    private List<EventLog.Event> all() throws InterruptedException {
        return runner.events().next(0, Duration.ZERO, () -> false).events();
    }

    @Test
    void aJobPublishesItsStartThenItsEnd() throws Exception {
        JobStatus started = runner.start("sh", "-c");   // sh -c without a script: exit status 2
        runner.awaitEnd(started.id(), GENEROUS);
        List<EventLog.Event> events = all();
        assertEquals(2, events.size(), events.toString());
        assertEquals(List.of(1L, 2L), events.stream().map(EventLog.Event::seq).toList());
        JobStatus start = events.get(0).status();
        JobStatus end = events.get(1).status();
        assertEquals(started.id(), start.id());
        assertEquals(JobState.RUNNING, start.state());
        assertEquals(started.startedAt(), start.startedAt());
        assertEquals(started.id(), end.id());
        assertEquals(JobState.FAILED, end.state());
        assertEquals(2, end.exitCode().orElseThrow());
        assertEquals("exit status 2", end.errorText());
        assertTrue(end.finishedAt() != null);
        assertEquals(2, runner.snapshot().seq());
    }

    @Test
    void aStoppedJobEndsAsStoppedWithItsSignal() throws Exception {
        JobStatus job = runner.start("sleep", "1000");
        runner.stop(job.id());
        JobStatus end = all().getLast().status();
        assertEquals(job.id(), end.id());
        assertEquals(JobState.STOPPED, end.state());
        assertEquals(15, end.signal().orElseThrow());
    }

    @Test
    void aRestartedWorkerHasANewBootIdAndNumbersFromZeroAgain() throws Exception {
        script(work, "long.sh", "echo started\nexec sleep 1000");
        JobStatus finished = runner.start("true", "");
        runner.awaitEnd(finished.id(), GENEROUS);
        JobStatus left = runner.start("sh", "long.sh");
        awaitOutput(runner.output(left.id()), "started");
        String firstBoot = runner.events().bootId();
        assertEquals(3, runner.snapshot().seq());
        runner.abandon();

        runner = newRunner();
        assertNotEquals(firstBoot, runner.events().bootId());
        // Recovery (the leftover killed and failed) happened before the first event: the
        // snapshot at 0 already shows it.
        EventLog.Snapshot<List<JobStatus>> snapshot = runner.snapshot();
        assertEquals(0, snapshot.seq());
        Map<String, JobState> states = new HashMap<>();
        snapshot.value().forEach(s -> states.put(s.id(), s.state()));
        assertEquals(Map.of(finished.id(), JobState.SUCCEEDED, left.id(), JobState.FAILED), states);
        assertEquals(List.of(), all());
    }

    /**
     * Many short jobs end while snapshots are taken: each snapshot must show exactly what the
     * events up to its sequence number say, no event before it missing and none after it applied.
     */
    @Test
    void aSnapshotIsConsistentWithItsSequenceNumberWhileJobsEnd() throws Exception {
        int jobs = 300;
        AtomicBoolean starting = new AtomicBoolean(true);
        List<EventLog.Snapshot<List<JobStatus>>> snapshots = new ArrayList<>();
        Thread snapshotter = Thread.ofVirtual().start(() -> {
            // One snapshot per sequence number seen: hundreds, not the hundred thousand taken.
            long last = -1;
            while (starting.get()) {
                EventLog.Snapshot<List<JobStatus>> snapshot = runner.snapshot();
                if (snapshot.seq() != last) {
                    snapshots.add(snapshot);
                    last = snapshot.seq();
                }
            }
        });
        List<String> ids;
        try (ExecutorService starters = Executors.newFixedThreadPool(4)) {
            List<Future<String>> started = new ArrayList<>();
            for (int i = 0; i < jobs; i++) {
                started.add(starters.submit(() -> runner.start("true", "").id()));
            }
            ids = new ArrayList<>();
            for (Future<String> f : started) {
                ids.add(f.get());
            }
        }
        for (String id : ids) {
            runner.awaitEnd(id, GENEROUS);
        }
        starting.set(false);
        snapshotter.join();
        snapshots.add(runner.snapshot());

        List<EventLog.Event> events = all();
        assertEquals(2 * jobs, events.size());
        for (int i = 0; i < events.size(); i++) {
            assertEquals(i + 1, events.get(i).seq());
        }
        int racing = 0;
        for (EventLog.Snapshot<List<JobStatus>> snapshot : snapshots) {
            Map<String, JobState> replayed = new HashMap<>();
            for (EventLog.Event event : events.subList(0, (int) snapshot.seq())) {
                replayed.put(event.status().id(), event.status().state());
            }
            Map<String, JobState> seen = new HashMap<>();
            for (JobStatus s : snapshot.value()) {
                seen.put(s.id(), s.state());
            }
            Set<String> known = new HashSet<>(replayed.keySet());
            known.addAll(seen.keySet());
            List<String> disagree = known.stream().filter(id -> replayed.get(id) != seen.get(id))
                    .map(id -> id + ": events up to it say " + replayed.get(id) + ", it says " + seen.get(id))
                    .toList();
            assertEquals(List.of(), disagree, "snapshot at seq " + snapshot.seq());
            if (seen.containsValue(JobState.RUNNING)) {
                racing++;
            }
        }
        assertTrue(snapshots.getLast().value().stream().allMatch(JobStatus::done));
        // The race was real: some snapshots were taken while jobs ran (reported, not asserted
        // beyond one: how many depends on the machine).
        assertTrue(racing > 0, "no snapshot saw a running job");
        System.out.println("JobEventsTest: " + snapshots.size() + " snapshots, " + racing + " with jobs running");
    }
}
