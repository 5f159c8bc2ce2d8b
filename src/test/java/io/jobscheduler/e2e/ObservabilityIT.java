package io.jobscheduler.e2e;

import io.jobscheduler.observe.PrometheusText;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.io.TempDir;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.hasItems;
import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The packaged jar, scraped as README's prometheus.yml scrapes it: the scheduler's
 * {@code /observe/metrics}, a worker's {@code [observe] addr} socket, and {@code /openapi}.
 * Each process starts from zero, so the counts are exact.
 */
class ObservabilityIT {
    @TempDir
    Path dir;
    Cluster cluster;

    @RegisterExtension
    final TestWatcher logs = Cluster.logsOnFailure(() -> cluster);

    @AfterEach
    void stop() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void theSchedulerAndAWorkerServeTheirMetricsAndTheSchedulerItsOpenApiDocument() throws IOException {
        int observePort = Cluster.freeLoopbackPort();
        cluster = Cluster.start(dir, 1, Map.of(), Map.of("JOBSCHEDULER_OBSERVE_ADDR", "127.0.0.1:" + observePort));
        Files.writeString(cluster.workDir().resolve("hello.sh"), "echo hello\n");
        String workerId = cluster.workerId(0);

        String jobId = cluster.startJob(workerId, "sh", "hello.sh");
        assertEquals("SUCCEEDED", cluster.awaitDone(jobId).get("state").asText());
        assertEquals("hello\n", cluster.get("/jobs/" + jobId + "/output").text());

        PrometheusText scheduler = scrape(cluster.uri("/observe/metrics"));
        assertEquals(1, scheduler.value("jobscheduler_jobs_started_total", "jobscheduler_jobs_started_total", Map.of()));
        assertEquals(1, scheduler.value("jobscheduler_jobs_ended_total", "jobscheduler_jobs_ended_total",
                Map.of("state", "SUCCEEDED")));
        assertEquals(6, scheduler.value("jobscheduler_output_streamed_bytes_total",
                "jobscheduler_output_streamed_bytes_total", Map.of()));
        assertEquals(1, scheduler.value("jobscheduler_workers", "jobscheduler_workers", Map.of("state", "alive")));
        assertEquals(1, scheduler.value("jobscheduler_http_request_duration_seconds",
                "jobscheduler_http_request_duration_seconds_count",
                Map.of("method", "POST", "route", "/start", "status", "201")));
        assertThat(scheduler.families().keySet(), hasItems("jvm_uptime_seconds", "process_cpu_usage"));

        PrometheusText worker = scrape(URI.create("http://127.0.0.1:" + observePort + "/observe/metrics"));
        assertEquals(1, worker.value("jobscheduler_worker_spawn_duration_seconds",
                "jobscheduler_worker_spawn_duration_seconds_count", Map.of()));
        assertEquals(6, worker.value("jobscheduler_worker_output_written_bytes_total",
                "jobscheduler_worker_output_written_bytes_total", Map.of()));
        assertEquals(0, worker.value("jobscheduler_worker_jobs_running", "jobscheduler_worker_jobs_running", Map.of()));
        // Separate processes: the worker's registry holds no scheduler meters.
        assertEquals(Set.of(), Set.copyOf(worker.families().keySet().stream()
                .filter(name -> name.startsWith("jobscheduler_") && !name.startsWith("jobscheduler_worker_")).toList()));

        Cluster.Reply openapi = cluster.get("/openapi");
        assertEquals(200, openapi.status(), openapi.text());
        assertThat(openapi.text(), containsString("/jobs/{job_id}/output:"));
    }

    private PrometheusText scrape(URI uri) {
        Cluster.Reply reply = cluster.send(HttpRequest.newBuilder(uri).GET());
        assertEquals(200, reply.status(), reply.text());
        assertThat(reply.contentType(), containsString("text/plain"));
        return PrometheusText.parse(reply.text());
    }
}
