package io.jobscheduler.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The queue survives a SIGKILL of the scheduler, with the packaged jar as a user runs it: jobs
 * queued and one running, the scheduler killed and restarted on the same data folder, then the
 * queue is intact and dispatched in order, and every job ran exactly once, counted by the lines
 * the job processes themselves wrote.
 */
class QueueRestartIT {
    /** Short, so the restart's hold is short; not so short that a loaded machine misses heartbeats. */
    private static final Duration TTL = Duration.ofSeconds(5);

    @TempDir
    Path dir;
    Cluster cluster;

    @RegisterExtension
    final TestWatcher logs = Cluster.logsOnFailure(() -> cluster);

    @AfterEach
    void stop() throws Exception {
        if (cluster != null) {
            Files.writeString(cluster.workDir().resolve("go"), "");   // nothing is left waiting
            cluster.close();
        }
    }

    @Test
    void aSigkilledSchedulerComesBackWithItsQueueAndRunsEveryJobExactlyOnce() throws Exception {
        cluster = Cluster.start(dir, 1,
                Map.of("JOBSCHEDULER_WORKERS_TTL", TTL.toMillis() + "ms",
                        "JOBSCHEDULER_STORE_DATA_DIR", dir.resolve("scheduler-data").toString()),
                Map.of("JOBSCHEDULER_JOBS_MAX_RUNNING", "1"));
        // Each run appends its name, then waits for the go-ahead: the order of the lines is the order of the starts.
        // The last to run (p0-b, whose event stream is read) waits for a go-ahead of its own too, so
        // its stream can be seen to say RUNNING before its end.
        Files.writeString(cluster.workDir().resolve("job.sh"),
                "echo \"$1\" >> ran.txt\nwhile [ ! -f go ] || { [ \"$1\" = p0-b ] && [ ! -f go-last ]; }; do sleep 0.02; done\n");
        // The first start must find the worker alive (its TTL is short): on a loaded machine its first
        // heartbeat can come after Cluster.start has seen it listed.
        cluster.awaitWorkerState(cluster.workerId(0), "alive", Cluster.READY_TIMEOUT);
        String first = start("first", 0, 201);
        String[] names = {"p0-a", "p7", "p3", "p0-b", "p7-b"};
        int[] priorities = {0, 7, 3, 0, 7};
        List<String> queued = new ArrayList<>();
        for (int i = 0; i < names.length; i++) {
            queued.add(start(names[i], priorities[i], 202));
        }

        cluster.killScheduler();
        cluster.restartScheduler();

        JsonNode listed = cluster.get("/jobs?state=QUEUED").json().get("jobs");
        assertEquals(List.of(queued.get(1), queued.get(4), queued.get(2), queued.get(0), queued.get(3)),
                listed.findValuesAsText("job_id"), "the queue after the restart, in dispatch order");
        // The event stream of the last job to run, as a client reads it: QUEUED, then, once it runs, its events.
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpResponse<java.util.stream.Stream<String>> events = http.send(HttpRequest.newBuilder(
                cluster.uri("/jobs/" + queued.get(3) + "/events")).timeout(Cluster.REQUEST_TIMEOUT).GET().build(),
                HttpResponse.BodyHandlers.ofLines());
        assertEquals(200, events.statusCode(), "a queued job has an event stream");
        BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        Thread reader = Thread.ofVirtual().start(() -> {
            events.body().forEach(lines::add);
            lines.add(END);
        });
        assertEquals("event: state", line(lines));
        line(lines);   // its id
        String queuedState = line(lines);
        assertTrue(queuedState.contains("\"state\":\"QUEUED\""), queuedState);
        Files.writeString(cluster.workDir().resolve("go"), "");
        List<String> rest = new ArrayList<>();
        String line;
        do {
            line = line(lines);
            rest.add(line);
        } while (!line.contains("\"state\":\"RUNNING\"") && !line.equals(END));
        Files.writeString(cluster.workDir().resolve("go-last"), "");
        for (String id : queued) {
            assertEquals("SUCCEEDED", cluster.awaitDone(id).get("state").asText(), id);
        }
        // The running job answers LOST until its worker is back, then its real state.
        Cluster.await("the first job to answer SUCCEEDED", Cluster.READY_TIMEOUT, () ->
                cluster.post("/query", "{\"job_id\":\"" + first + "\"}").json().path("state").asText().equals("SUCCEEDED"));
        assertEquals(List.of("first", "p7", "p7-b", "p3", "p0-a", "p0-b"),
                Files.readAllLines(cluster.workDir().resolve("ran.txt")), "each job ran once, in order");
        for (line = line(lines); !line.equals(END); line = line(lines)) {
            rest.add(line);
        }
        reader.join();
        List<String> named = rest.stream().filter(l -> l.startsWith("event: ")).toList();
        assertEquals(List.of("event: state", "event: end"), named, "RUNNING once dispatched, then its end: " + rest);
        assertTrue(rest.get(rest.indexOf("event: state") + 2).contains("\"state\":\"RUNNING\""), rest.toString());
        assertTrue(rest.get(rest.indexOf("event: end") + 2).contains("\"state\":\"SUCCEEDED\""), rest.toString());
    }

    /** Marks the end of an event stream in {@link #line}'s queue. */
    private static final String END = "\u0000end of stream";

    /** The next line of an event stream, waited for with a bound on a broken scheduler. */
    private static String line(BlockingQueue<String> lines) throws InterruptedException {
        String line = lines.poll(Cluster.READY_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        assertNotNull(line, "a line of the event stream within " + Cluster.READY_TIMEOUT.toSeconds() + " s");
        return line;
    }

    @Test
    void aSchedulerKilledBetweenRecordingADispatchAndItsAnswerSendsItOnceMoreAndTheJobRunsOnce() throws Exception {
        // A TTL long enough that the paused worker is still alive when the queued job is sent to it.
        Path data = dir.resolve("scheduler-data");
        cluster = Cluster.start(dir, 1, Map.of("JOBSCHEDULER_WORKERS_TTL", "10s",
                "JOBSCHEDULER_STORE_DATA_DIR", data.toString()), Map.of());
        Files.writeString(cluster.workDir().resolve("job.sh"), "echo \"$1\" >> ran.txt\n");
        String worker = cluster.workerId(0);
        // Drained, the worker takes nothing: the job waits in the queue until the worker is resumed.
        assertEquals(200, cluster.post("/workers/" + worker + "/drain", "").status());
        String job = start("once", 0, 202);
        try {
            cluster.pauseWorker(0);
            assertEquals(200, cluster.post("/workers/" + worker + "/resume", "").status());
            // The dispatch is recorded (and synced) before the call, which the paused worker never answers.
            Path journal = data.resolve("journal");
            String dispatching = "\"t\":\"dispatching\",\"jobId\":\"" + job + "\"";
            Cluster.await("the dispatch of " + job + " in the journal", Cluster.READY_TIMEOUT, () -> {
                try {
                    return Files.exists(journal) && new String(Files.readAllBytes(journal), StandardCharsets.ISO_8859_1)
                            .contains(dispatching);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            });
            assertEquals("QUEUED", cluster.post("/query", "{\"job_id\":\"" + job + "\"}").json().get("state").asText(),
                    "being sent: no answer yet");
            cluster.killScheduler();
        } finally {
            cluster.resumeWorker(0);
        }
        cluster.restartScheduler();

        JsonNode done = cluster.awaitDone(job);
        assertEquals("SUCCEEDED", done.get("state").asText(), done.toString());
        assertEquals(worker, done.get("worker_id").asText(), "sent to the worker it was recorded for");
        assertEquals(List.of("once"), Files.readAllLines(cluster.workDir().resolve("ran.txt")),
                "one process ran, whether the worker got the first call or only the repeated one");
    }

    private String start(String name, int priority, int status) {
        Cluster.Reply reply = cluster.post("/start", "{\"command\":\"sh\",\"path\":\"job.sh\",\"args\":[\"" + name
                + "\"],\"priority\":" + priority + "}");
        assertEquals(status, reply.status(), reply.toString());
        return reply.json().get("job_id").asText();
    }
}
