package io.jobscheduler.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The queue survives a SIGKILL of the scheduler, with the packaged jar as a user runs it: jobs
 * queued and one running, the scheduler killed and restarted on the same data folder, then the
 * queue is intact and dispatched in order, and every job ran exactly once, counted by the lines
 * the job processes themselves wrote.
 */
class QueueRestartIT {
    private static final Duration TTL = Duration.ofSeconds(2);

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
        Files.writeString(cluster.workDir().resolve("job.sh"),
                "echo \"$1\" >> ran.txt\nwhile [ ! -f go ]; do sleep 0.02; done\n");
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
        Files.writeString(cluster.workDir().resolve("go"), "");
        for (String id : queued) {
            assertEquals("SUCCEEDED", cluster.awaitDone(id).get("state").asText(), id);
        }
        // The running job answers LOST until its worker is back, then its real state.
        Cluster.await("the first job to answer SUCCEEDED", Cluster.READY_TIMEOUT, () ->
                cluster.post("/query", "{\"job_id\":\"" + first + "\"}").json().path("state").asText().equals("SUCCEEDED"));
        assertEquals(List.of("first", "p7", "p7-b", "p3", "p0-a", "p0-b"),
                Files.readAllLines(cluster.workDir().resolve("ran.txt")), "each job ran once, in order");
    }

    private String start(String name, int priority, int status) {
        Cluster.Reply reply = cluster.post("/start", "{\"command\":\"sh\",\"path\":\"job.sh\",\"args\":[\"" + name
                + "\"],\"priority\":" + priority + "}");
        assertEquals(status, reply.status(), reply.toString());
        return reply.json().get("job_id").asText();
    }
}
