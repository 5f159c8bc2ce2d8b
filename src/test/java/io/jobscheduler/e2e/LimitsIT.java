package io.jobscheduler.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static io.jobscheduler.e2e.Cluster.object;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Job limits through the HTTP API on the packaged jar, with the real cgroups of this machine (the hybrid
 * layout on the development machines; cgroup v2 alone elsewhere): memory, pids, cpu and output limits, a
 * stop and a timeout that reach setsid descendants, no cgroup left behind. A worker that reports no cgroups
 * here (not root, read-only) skips the cgroup tests, saying why.
 */
class LimitsIT {
    private static final String PYTHON = "/usr/bin/python3";
    private static final Path CGROUPS = Path.of("/sys/fs/cgroup");
    @TempDir
    static Path dir;
    private static Cluster cluster;
    private static String worker;
    private static final List<String> JOBS = new ArrayList<>();

    @BeforeAll
    static void startCluster() {
        cluster = Cluster.start(dir, 1, Map.of(), Map.of(
                "JOBSCHEDULER_JOBS_STOP_GRACE", "1s",
                "JOBSCHEDULER_JOBS_MAX_LIMITS_MEMORY", "512M",
                "JOBSCHEDULER_JOBS_MAX_LIMITS_CPU", "1.5"));
        worker = cluster.workerId(0);
    }

    @AfterAll
    static void stopCluster() throws IOException {
        if (cluster != null) {
            cluster.close();
        }
        // After the suite: not one cgroup of any job of it, in any hierarchy.
        List<Path> left = cgroupsOf(JOBS);
        assertEquals(List.of(), left, "job cgroups left after the suite");
    }

    private static List<String> enforced() {
        JsonNode limits = cluster.get("/workers/" + worker).json().get("limits");
        List<String> words = new ArrayList<>();
        limits.forEach(word -> words.add(word.asText()));
        return words;
    }

    private static void skipUnlessEnforced(String limit) {
        List<String> enforced = enforced();
        if (!enforced.contains(limit)) {
            System.err.println("SKIPPED (missing on this machine): the worker does not enforce " + limit
                    + "; it enforces " + enforced + " (see its log line 'job limits: ...')");
        }
        Assumptions.assumeTrue(enforced.contains(limit), "worker does not enforce " + limit);
    }

    private static String start(Object... fields) {
        Object[] all = new Object[fields.length + 2];
        all[0] = "worker_id";
        all[1] = worker;
        System.arraycopy(fields, 0, all, 2, fields.length);
        Cluster.Reply reply = cluster.post("/start", object(all));
        assertEquals(201, reply.status(), reply.toString());
        String id = reply.json().get("job_id").asText();
        JOBS.add(id);
        return id;
    }

    /** The output so far (no follow). */
    private static byte[] output(String jobId) {
        Cluster.Reply reply = cluster.get("/jobs/" + jobId + "/output?follow=false");
        assertEquals(200, reply.status(), reply.toString());
        return reply.body();
    }

    /** Every directory named after one of these jobs in any cgroup hierarchy of this machine. */
    private static List<Path> cgroupsOf(List<String> jobIds) throws IOException {
        if (!Files.isDirectory(CGROUPS)) {
            return List.of();
        }
        try (Stream<Path> tree = Files.walk(CGROUPS, 8)) {
            return tree.filter(p -> p.getFileName() != null && jobIds.contains(p.getFileName().toString())).toList();
        }
    }

    private static void assertCgroupGone(String jobId) throws IOException {
        assertEquals(List.of(), cgroupsOf(List.of(jobId)), "the cgroup of job " + jobId + " is removed at its end");
    }

    @Test
    void theWorkerReportsWhatItEnforces() {
        List<String> enforced = enforced();
        System.out.println("GET /workers limits: " + enforced);
        assertTrue(enforced.contains("output"), "the output limit is the worker's own: " + enforced);
        assertTrue(enforced.stream().allMatch(w -> List.of("memory", "cpu", "pids", "output", "kill-tree").contains(w)),
                enforced.toString());
    }

    @Test
    void aJobPastItsMemoryLimitFailsOutOfMemory() throws IOException {
        skipUnlessEnforced("kill-tree"); // a memory cgroup, not the RLIMIT_AS stand-in
        skipUnlessEnforced("memory");
        String job = start("command", PYTHON, "args", List.of("-c", "s = 'x' * (256 << 20); print(len(s))"),
                "limits", Map.of("memory", "64M"));
        JsonNode done = cluster.awaitDone(job);
        assertEquals("FAILED", done.get("state").asText(), done.toString());
        assertEquals("out of memory (limit 64 MiB)", done.get("error_text").asText(), done.toString());
        assertCgroupGone(job);

        String fits = start("command", PYTHON, "args", List.of("-c", "s = 'x' * (16 << 20); print(len(s))"),
                "limits", Map.of("memory", "64M"));
        assertEquals("SUCCEEDED", cluster.awaitDone(fits).get("state").asText());
    }

    @Test
    void pidsStopsFiftyForksAtTen() throws IOException {
        skipUnlessEnforced("pids");
        String forks = """
                import errno, os, time
                made = refused = 0
                for _ in range(50):
                    try:
                        pid = os.fork()
                    except OSError as e:
                        if e.errno != errno.EAGAIN:
                            raise
                        refused += 1
                        continue
                    if pid == 0:
                        time.sleep(300)
                        os._exit(0)
                    made += 1
                print(made, refused, flush=True)
                time.sleep(300)
                """;
        String job = start("command", PYTHON, "args", List.of("-c", forks), "limits", Map.of("pids", 10));
        Cluster.await("the fork counts", Duration.ofSeconds(60), () -> output(job).length > 0);
        String counts = new String(output(job), StandardCharsets.UTF_8).strip();
        System.out.println("pids 10, 50 forks: made and refused with EAGAIN: " + counts);
        assertEquals("9 41", counts, "the parent is the tenth process");
        assertEquals(200, cluster.post("/stop", object("job_id", job)).status());
        assertEquals("STOPPED", cluster.awaitDone(job).get("state").asText());
        assertCgroupGone(job);
    }

    @Test
    void aBusyLoopWithHalfACoreUsesAtMostSixTenthsOfOne() throws Exception {
        skipUnlessEnforced("cpu");
        String marker = "cpu-" + System.nanoTime();
        String job = start("command", "sh", "args", List.of("-c", "while :; do :; done", marker),
                "limits", Map.of("cpu", 0.5));
        long pid = awaitPid(marker);
        long ticksBefore = cpuTicks(pid);
        long start = System.nanoTime();
        // A measuring window, not a wait for an event: the quota is enforced per 100 ms period.
        Thread.sleep(3000);
        long ticks = cpuTicks(pid) - ticksBefore;
        double wall = (System.nanoTime() - start) / 1e9;
        double cores = ticks / 100.0 / wall; // USER_HZ is 100 on Linux
        System.out.printf("cpu 0.5: the loop used %.3f of a core over %.2f s (/proc/%d/stat)%n", cores, wall, pid);
        assertTrue(cores <= 0.6, "used " + cores + " of a core");
        assertTrue(cores > 0.0, "the loop never ran");
        assertEquals(200, cluster.post("/stop", object("job_id", job)).status());
        cluster.awaitDone(job);
        assertCgroupGone(job);
    }

    private static long awaitPid(String marker) {
        long[] found = {-1};
        Cluster.await("the process of " + marker, Duration.ofSeconds(30), () -> {
            found[0] = pidOf(marker).orElse(-1L);
            return found[0] > 0;
        });
        return found[0];
    }

    private static Optional<Long> pidOf(String marker) {
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            return procs.filter(p -> p.getFileName().toString().matches("\\d+")).filter(p -> {
                try {
                    return new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8)
                            .contains("\0" + marker);
                } catch (IOException gone) {
                    return false;
                }
            }).map(p -> Long.parseLong(p.getFileName().toString())).findFirst();
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static long cpuTicks(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[11]) + Long.parseLong(fields[12]); // utime, stime (fields 14, 15)
    }

    @Test
    void anOutputLimitKeepsExactlyItsBytesAndFailsTheJob() throws IOException {
        String job = start("command", "yes", "args", List.of("0123456789"), "limits", Map.of("output", "10K"));
        JsonNode done = cluster.awaitDone(job);
        assertEquals("FAILED", done.get("state").asText(), done.toString());
        assertEquals("output limit of 10240 bytes exceeded", done.get("error_text").asText());
        byte[] kept = output(job);
        assertEquals(10240, kept.length);
        byte[] expected = "0123456789\n".repeat(1000).substring(0, 10240).getBytes(StandardCharsets.US_ASCII);
        assertArrayEquals(expected, kept, "the first 10240 bytes, exactly");
        assertCgroupGone(job);

        String under = start("command", "printf", "args", List.of("%s", "x".repeat(100)),
                "limits", Map.of("output", 100));
        assertEquals("SUCCEEDED", cluster.awaitDone(under).get("state").asText(), "exactly the limit is allowed");
        assertEquals(100, output(under).length);
    }

    @Test
    void aStopEndsDescendantsThatCalledSetsid() throws Exception {
        skipUnlessEnforced("kill-tree");
        String marker = "418." + (System.nanoTime() % 1_000_000);
        // One descendant keeps the job's output open, the other lets go of it: neither may survive.
        String job = start("command", "sh", "args", List.of("-c", "setsid sleep " + marker + " & setsid -f sleep "
                + marker + " >/dev/null 2>&1; exec sleep " + marker));
        Cluster.await("three sleeps", Duration.ofSeconds(30), () -> survivors(marker) == 3);
        assertEquals(200, cluster.post("/stop", object("job_id", job)).status());
        assertEquals(0, survivors(marker), "survivors of the stop, counted with ps");
        assertEquals("STOPPED", cluster.awaitDone(job).get("state").asText());
        assertCgroupGone(job);
        System.out.println("stop: 3 sleeps in 3 sessions, survivors counted with ps: 0");
    }

    @Test
    void aTimeoutEndsDescendantsThatCalledSetsid() throws Exception {
        skipUnlessEnforced("kill-tree");
        String marker = "419." + (System.nanoTime() % 1_000_000);
        String job = start("command", "sh", "args", List.of("-c", "setsid sleep " + marker + " >/dev/null 2>&1 & "
                + "setsid -f sleep " + marker + "; exec sleep " + marker), "timeout", "3s");
        Cluster.await("three sleeps", Duration.ofSeconds(30), () -> survivors(marker) == 3);
        JsonNode done = cluster.awaitDone(job);
        assertEquals("FAILED", done.get("state").asText(), done.toString());
        assertEquals("timed out after 3s", done.get("error_text").asText());
        assertEquals(0, survivors(marker), "survivors of the timeout, counted with ps");
        assertCgroupGone(job);
    }

    @Test
    void aRestartedWorkerEndsWhatTheKilledOneLeftInItsJobCgroups() throws Exception {
        skipUnlessEnforced("kill-tree");
        String marker = "422." + (System.nanoTime() % 1_000_000);
        String job = start("command", "sh", "args", List.of("-c", "setsid -f sleep " + marker
                + " >/dev/null 2>&1; exec sleep " + marker));
        Cluster.await("two sleeps", Duration.ofSeconds(30), () -> survivors(marker) == 2);
        cluster.killWorker(0);
        cluster.awaitWorkerState(worker, "down", Duration.ofSeconds(30));
        assertEquals(2, survivors(marker), "a killed worker's job runs on until the worker is back");

        cluster.restartWorker(0);
        cluster.awaitWorkerState(worker, "alive", Cluster.READY_TIMEOUT);
        // The restarted worker ends its leftover job cgroups before it serves.
        assertEquals(0, survivors(marker), "survivors of the restart, counted with ps");
        assertCgroupGone(job);
        JsonNode done = cluster.awaitDone(job);
        assertEquals("FAILED", done.get("state").asText(), done.toString());
        assertEquals("worker restarted while the job was running", done.get("error_text").asText());
    }

    @Test
    void aLimitOverTheMaximumIs422AndBadSyntaxIs400() {
        JsonNode over = cluster.post("/start", object("worker_id", worker, "command", "true",
                "limits", Map.of("memory", "1G"))).assertError(422);
        assertTrue(over.get("error").asText().endsWith(
                ": limits.memory: 1 GiB is more than the maximum of 512 MiB (this worker's max_limits)"), over.toString());
        JsonNode cpu = cluster.post("/start", object("worker_id", worker, "command", "true",
                "limits", Map.of("cpu", 2))).assertError(422);
        assertTrue(cpu.get("error").asText().contains("limits.cpu: 2 cores is more than the maximum of 1.5 cores"),
                cpu.toString());
        JsonNode syntax = cluster.post("/start", object("worker_id", worker, "command", "true",
                "limits", Map.of("memory", "256X"))).assertError(400);
        assertTrue(syntax.get("error").asText().contains("limits.memory"), syntax.toString());
        JsonNode unknown = cluster.post("/start", object("worker_id", worker, "command", "true",
                "limits", Map.of("disk", "1G"))).assertError(400);
        assertTrue(unknown.get("error").asText().contains("disk"), unknown.toString());
        assertFalse(cluster.get("/jobs").text().contains("\"command\":\"true\""), "no refused start ran");
    }

    /** Processes {@code sleep <marker>} not yet dead (zombies count as dead), from ps. */
    private static long survivors(String marker) {
        try {
            Process ps = new ProcessBuilder("ps", "-eo", "stat=,args=").start();
            String table = new String(ps.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            ps.waitFor();
            return table.lines().map(line -> line.strip().split("\\s+", 2))
                    .filter(row -> row.length == 2 && row[1].equals("sleep " + marker) && !row[0].startsWith("Z"))
                    .count();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
