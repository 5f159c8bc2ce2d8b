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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The command-line client of the packaged jar against a real scheduler and one worker: what it
 * prints and, above all, its exit status (the README's table).
 */
class CliIT {
    private static final Duration KILL_TIMEOUT = Duration.ofSeconds(30);

    @TempDir
    static Path dir;
    static Cluster cluster;

    @RegisterExtension
    final TestWatcher logs = Cluster.logsOnFailure(() -> cluster);

    @BeforeAll
    static void startCluster() {
        cluster = Cluster.start(dir, 1, Map.of(), Map.of("JOBSCHEDULER_JOBS_STOP_GRACE", "1s"));
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void runPrintsTheOutputAndExitsWithTheJobsExitCode() throws Exception {
        script("exit3.sh", "echo hi; exit 3\n");
        Cluster.CliRun run = cluster.cli("run", "--", "bash", "exit3.sh");
        assertEquals(3, run.status(), run.toString());
        assertEquals("hi\n", run.out());
        assertEquals("", run.stderr(), "nothing on stderr when it is not a terminal");
    }

    @Test
    void runPassesEveryArgumentAfterTheCommand() throws Exception {
        Cluster.CliRun run = cluster.cli("run", "--", "sh", "-c", "echo hi; exit 3");
        assertEquals(3, run.status(), run.toString());
        assertEquals("hi\n", run.out());
    }

    @Test
    void aJobThatTimesOutExits124() throws Exception {
        Cluster.CliRun run = cluster.cli("run", "--timeout", "1s", "--", "sleep", "30");
        assertEquals(124, run.status(), run.toString());
    }

    @Test
    void envVariablesArrive() throws Exception {
        Cluster.CliRun run = cluster.cli("run", "--env", "GREETING=hello there", "--env", "OTHER=2", "--",
                "sh", "-c", "echo \"$GREETING/$OTHER\"");
        assertEquals(0, run.status(), run.toString());
        assertEquals("hello there/2\n", run.out());
    }

    @Test
    void logsFollowOfAJobKilledBySigkillExits137() throws Exception {
        String marker = Processes.marker();
        script(marker + ".sh", "echo ready; while :; do sleep 0.1; done\n");
        String job = cluster.startJob(cluster.workerId(0), "bash", marker + ".sh");
        Path out = dir.resolve(marker + ".out");
        Process logs = cluster.startCli(out, dir.resolve(marker + ".err"), "logs", "-f", job);
        try {
            Cluster.await("logs -f to print the job's first line", KILL_TIMEOUT, () -> read(out).equals("ready\n"));
            // The job's bash, and perhaps its fork for the next sleep before that has exec'd (same command line).
            List<Long> pids = Processes.withMarker(marker);
            assertFalse(pids.isEmpty(), "the job's bash is running");
            List<String> kill = new ArrayList<>(List.of("kill", "-9"));
            pids.forEach(pid -> kill.add(pid.toString()));
            Process killing = new ProcessBuilder(kill).inheritIO().start();
            assertTrue(killing.waitFor(10, TimeUnit.SECONDS), "kill -9 " + pids);
            assertTrue(logs.waitFor(KILL_TIMEOUT.toSeconds(), TimeUnit.SECONDS), "logs -f ended with the job");
            assertEquals(137, logs.exitValue(), read(dir.resolve(marker + ".err")));
            assertEquals("ready\n", read(out));
        } finally {
            logs.destroyForcibly();
            Processes.kill(marker);
        }
    }

    @Test
    void aStoppedJobExits75AndStopPrintsWhatItStopped() throws Exception {
        String marker = Processes.marker();
        script(marker + ".sh", "echo ready; while :; do sleep 0.1; done\n");
        Path out = dir.resolve(marker + ".out");
        Process run = cluster.startCli(out, dir.resolve(marker + ".err"), "run", "--", "bash", marker + ".sh");
        try {
            Cluster.await("run to print the job's first line", KILL_TIMEOUT, () -> read(out).equals("ready\n"));
            String job = null;
            // The one running job of the class's tests (they run one at a time), found by the filters.
            for (JsonNode entry : Cluster.JSON.readTree(cluster.cli("jobs", "--json", "--state", "RUNNING", "--worker",
                    cluster.workerId(0)).stdout()).get("jobs")) {
                assertEquals("RUNNING", entry.get("state").asText(), entry.toString());
                job = entry.get("job_id").asText();
            }
            assertTrue(job != null, "jobs --json lists the job");
            Cluster.CliRun stop = cluster.cli("stop", job);
            assertEquals(0, stop.status(), stop.toString());
            assertEquals("stopped " + job + "\n", stop.out());
            assertTrue(run.waitFor(KILL_TIMEOUT.toSeconds(), TimeUnit.SECONDS), "run ended with the job");
            assertEquals(75, run.exitValue(), read(dir.resolve(marker + ".err")));
            Cluster.CliRun follow = cluster.cli("logs", "-f", job);
            assertEquals(75, follow.status(), "logs -f of the stopped job: " + follow);
            assertEquals("ready\n", follow.out());
        } finally {
            run.destroyForcibly();
            Processes.kill(marker);
        }
    }

    /** Its own cluster: the worker dies. */
    @Test
    void aJobWhoseWorkerDiesIsLostAndExits69(@TempDir Path own) throws Exception {
        String marker = Processes.marker();
        try (Cluster dying = Cluster.start(own, 1, Map.of(), Map.of())) {
            Files.writeString(dying.workDir().resolve(marker + ".sh"), "echo ready; while :; do sleep 0.1; done\n");
            String job = dying.startJob(dying.workerId(0), "bash", marker + ".sh");
            Path out = own.resolve("logs.out");
            Path err = own.resolve("logs.err");
            Process logs = dying.startCli(out, err, "logs", "-f", job);
            try {
                Cluster.await("logs -f to print the job's first line", KILL_TIMEOUT, () -> read(out).equals("ready\n"));
                dying.killWorker(0);
                assertTrue(logs.waitFor(KILL_TIMEOUT.toSeconds(), TimeUnit.SECONDS), "logs -f ended with the worker");
                assertEquals(69, logs.exitValue(), read(err));
                assertTrue(read(err).contains("the output of job " + job + " was cut off after 6 bytes"), read(err));
                assertTrue(read(err).contains("job " + job + " is LOST"), read(err));
                Cluster.CliRun again = dying.cli("logs", "-f", job);
                assertEquals(69, again.status(), "logs -f while the worker is down: " + again);
                assertEquals(1, again.stderr().lines().count(), again.stderr());
            } finally {
                logs.destroyForcibly();
            }
        } finally {
            Processes.kill(marker);
        }
    }

    @Test
    void aCommandThatCannotStartExits126WithOneLine() throws Exception {
        Cluster.CliRun run = cluster.cli("run", "--", "no-such-command-" + Processes.marker());
        assertEquals(126, run.status(), run.toString());
        assertEquals(1, run.stderr().lines().count(), run.stderr());
        assertTrue(run.stderr().startsWith("jobscheduler: the scheduler answered 422: "), run.stderr());
        assertEquals(126, cluster.cli("start", "--", "no-such-command-" + Processes.marker()).status());
    }

    @Test
    void aSchedulerThatIsNotThereIsOneLineAnd125() throws Exception {
        String url = "http://127.0.0.1:" + Cluster.freeLoopbackPort();
        for (String[] args : List.of(new String[] {"workers", "--server", url}, new String[] {"run", "--server", url, "--", "true"})) {
            Cluster.CliRun run = cluster.cli(args);
            assertEquals(125, run.status(), run.toString());
            assertEquals("jobscheduler: cannot reach the scheduler at " + url + ": connection refused\n", run.stderr());
            assertEquals("", run.out());
        }
    }

    @Test
    void jsonIsTheApisJson() throws Exception {
        script("ok.sh", "echo ok\n");
        JsonNode workers = Cluster.JSON.readTree(cluster.cli("workers", "--json").stdout());
        assertEquals(cluster.workerId(0), workers.get("workers").get(0).get("id").asText());
        assertEquals("alive", workers.get("workers").get(0).get("state").asText());

        JsonNode started = Cluster.JSON.readTree(cluster.cli("start", "--json", "--", "bash", "ok.sh").stdout());
        String job = started.get("job_id").asText();
        assertEquals(cluster.workerId(0), started.get("worker_id").asText());
        JsonNode done = cluster.awaitDone(job);

        JsonNode status = Cluster.JSON.readTree(cluster.cli("status", "--json", job).stdout());
        assertEquals(done, status, "status --json is POST /query's answer");
        JsonNode jobs = Cluster.JSON.readTree(cluster.cli("jobs", "--json", "--all", "--limit", "1").stdout());
        assertTrue(jobs.get("next").isNull(), jobs.toString());
        assertEquals(cluster.get("/jobs?limit=1000").json().get("jobs"), jobs.get("jobs"), "--all pages through every job");

        Cluster.CliRun table = cluster.cli("status", job);
        assertTrue(table.out().contains("STATE      SUCCEEDED\n"), table.out());
        assertTrue(table.out().contains("EXIT       0\n"), table.out());
    }

    @Test
    void binaryOutputThroughLogsIsByteExact() throws Exception {
        byte[] every = new byte[256];
        StringBuilder printf = new StringBuilder("printf '");
        for (int b = 0; b < 256; b++) {
            every[b] = (byte) b;
            printf.append(String.format("\\%03o", b));
        }
        script("bytes.sh", printf.append("'\n").toString());
        Cluster.CliRun run = cluster.cli("run", "--", "bash", "bytes.sh");
        assertEquals(0, run.status(), run.toString());
        assertArrayEquals(every, run.stdout(), "run");
        String job = cluster.startJob(cluster.workerId(0), "bash", "bytes.sh");
        cluster.awaitDone(job);
        assertArrayEquals(every, cluster.cli("logs", job).stdout(), "logs");
        Cluster.CliRun follow = cluster.cli("logs", "-f", job);
        assertEquals(0, follow.status(), follow.toString());
        assertArrayEquals(every, follow.stdout(), "logs -f");
    }

    @Test
    void usageErrorsExit2AndHelpExits0() throws Exception {
        for (String[] args : List.of(new String[] {"run"}, new String[] {"jobs", "--limit", "many"},
                new String[] {"status"}, new String[] {"logs", "--bogus", "j"}, new String[] {"start", "--env", "NOVALUE", "--", "true"})) {
            Cluster.CliRun run = cluster.cli(args);
            assertEquals(2, run.status(), String.join(" ", args) + ": " + run);
            assertTrue(run.stderr().startsWith("jobscheduler " + args[0] + ": "), run.stderr());
        }
        for (String command : List.of("workers", "jobs", "status", "stop", "start", "logs", "run", "completion")) {
            Cluster.CliRun help = cluster.cli(command, "--help");
            assertEquals(0, help.status(), command + ": " + help);
            assertTrue(help.out().startsWith("Usage: jobscheduler " + command), help.out());
        }
        Cluster.CliRun completion = cluster.cli("completion");
        assertEquals(0, completion.status());
        assertTrue(completion.out().contains("complete -F"), "a bash completion script");
    }

    private static void script(String name, String text) throws IOException {
        Files.writeString(cluster.workDir().resolve(name), text);
    }

    private static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file, StandardCharsets.ISO_8859_1) : "";
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
