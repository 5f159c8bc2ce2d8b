package io.jobscheduler.scheduler.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jobscheduler.observe.Meters;
import io.jobscheduler.observe.PrometheusText;
import io.jobscheduler.scheduler.SchedulerServer;
import io.jobscheduler.scheduler.TestServers;
import io.jobscheduler.worker.TestWorkers;
import io.jobscheduler.worker.WorkerServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.hasItems;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code /observe/metrics} of a real scheduler with a real worker: strict Prometheus text, and
 * the scheduler's meters moving as a job runs. The registry is the JVM's (Helidon's), so every
 * check compares a scrape after with one before.
 */
class SchedulerMetricsServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final String REQUESTS = "jobscheduler_http_request_duration_seconds";

    @TempDir
    static Path work;
    @TempDir
    static Path data;
    private static SchedulerServer scheduler;
    private static WorkerServer worker;
    private static String workerId;

    @BeforeAll
    static void start() throws Exception {
        Files.writeString(work.resolve("hello.sh"), "echo hello\n");
        scheduler = SchedulerServer.start(TestServers.plaintext());
        worker = WorkerServer.start(TestWorkers.settings(scheduler.grpcPort(), work, data));
        assertTrue(worker.awaitRegistered(Duration.ofSeconds(20)), "the worker did not register");
        workerId = scheduler.registry().list().getFirst().id().toString();
    }

    @AfterAll
    static void stop() {
        if (worker != null) {
            worker.close();
        }
        if (scheduler != null) {
            scheduler.close();
        }
    }

    @Test
    void metricsArePrometheusTextWithHelpTypeAndTheJvmAndProcessMeters() throws Exception {
        HttpResponse<String> response = get("/observe/metrics");

        assertEquals(200, response.statusCode());
        assertThat(response.headers().firstValue("Content-Type").orElseThrow(), containsString("text/plain"));
        PrometheusText text = PrometheusText.parse(response.body());
        assertThat(text.families().keySet(), hasItems("jobscheduler_jobs_started_total", "jobscheduler_jobs_ended_total",
                "jobscheduler_jobs_queued", "jobscheduler_job_start_duration_seconds", REQUESTS, "jobscheduler_workers",
                "jobscheduler_worker_heartbeats_missed_total", "jobscheduler_output_streamed_bytes_total",
                "jobscheduler_worker_calls_total", "memory_usedHeap_bytes", "thread_count", "jvm_uptime_seconds",
                "process_cpu_usage", "process_files_open_files"));
        assertEquals("counter", text.family("jobscheduler_jobs_started_total").orElseThrow().type());
        assertEquals("histogram", text.family("jobscheduler_job_start_duration_seconds").orElseThrow().type());
        assertEquals("gauge", text.family("jobscheduler_workers").orElseThrow().type());
        assertEquals(1, text.value("jobscheduler_workers", "jobscheduler_workers", Map.of("state", "alive")));
        assertEquals(0, text.value("jobscheduler_jobs_queued", "jobscheduler_jobs_queued", Map.of()));
    }

    @Test
    void aJobMovesTheJobOutputCallAndRequestMeters() throws Exception {
        PrometheusText before = scrape();

        HttpResponse<String> started = post("/start", "{\"worker_id\":\"" + workerId
                + "\",\"command\":\"sh\",\"path\":\"hello.sh\"}");
        assertEquals(201, started.statusCode(), started.body());
        String jobId = JSON.readTree(started.body()).get("job_id").asText();
        // A follow ends when the job has ended and every byte is sent.
        assertEquals("hello\n", get("/jobs/" + jobId + "/output").body());
        awaitState(jobId, "SUCCEEDED");
        PrometheusText after = scrapeUntil(text -> delta(before, text, REQUESTS, REQUESTS + "_count",
                Map.of("method", "GET", "route", "/jobs/{job_id}/output", "status", "200")) >= 1);

        assertEquals(1, delta(before, after, "jobscheduler_jobs_started_total", "jobscheduler_jobs_started_total", Map.of()));
        assertEquals(1, delta(before, after, "jobscheduler_jobs_ended_total", "jobscheduler_jobs_ended_total",
                Map.of("state", "SUCCEEDED")));
        assertEquals(1, delta(before, after, "jobscheduler_job_start_duration_seconds",
                "jobscheduler_job_start_duration_seconds_count", Map.of()));
        assertEquals(6, delta(before, after, "jobscheduler_output_streamed_bytes_total",
                "jobscheduler_output_streamed_bytes_total", Map.of()));
        assertEquals(1, delta(before, after, "jobscheduler_worker_calls_total", "jobscheduler_worker_calls_total",
                Map.of("method", "StartJob", "code", "OK")));
        assertEquals(1, delta(before, after, "jobscheduler_worker_calls_total", "jobscheduler_worker_calls_total",
                Map.of("method", "StreamJob", "code", "OK")));
        assertEquals(1, delta(before, after, REQUESTS, REQUESTS + "_count",
                Map.of("method", "POST", "route", "/start", "status", "201")));
        assertEquals(1, delta(before, after, REQUESTS, REQUESTS + "_count",
                Map.of("method", "GET", "route", "/jobs/{job_id}/output", "status", "200")));
    }

    @Test
    void requestDurationsAreSecondsWithBucketsFromAMillisecondToTenSeconds() throws Exception {
        get("/workers");
        PrometheusText text = scrapeUntil(t -> t.value(REQUESTS, REQUESTS + "_count",
                Map.of("method", "GET", "route", "/workers", "status", "200")) >= 1);

        List<Double> bounds = text.family(REQUESTS).orElseThrow()
                .find(REQUESTS + "_bucket", Map.of("method", "GET", "route", "/workers", "status", "200")).stream()
                .map(s -> s.labels().get("le")).map(le -> le.equals("+Inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(le))
                .toList();
        List<Double> expected = new java.util.ArrayList<>(Meters.SECONDS.stream().map(d -> d.toNanos() / 1e9).toList());
        expected.add(Double.POSITIVE_INFINITY);
        assertEquals(expected, bounds);
        assertEquals(0.001, bounds.getFirst());
        assertThat(bounds.get(bounds.size() - 2), greaterThanOrEqualTo(10.0));
        double sum = text.value(REQUESTS, REQUESTS + "_sum", Map.of("method", "GET", "route", "/workers", "status", "200"));
        assertTrue(sum > 0 && sum < 60, "a request's duration in seconds, was " + sum);
    }

    @Test
    void unknownPathsAndMethodsShareOneSeriesSoTheyCannotAddLabels() throws Exception {
        String hostile = "/no-such-" + UUID.randomUUID();
        PrometheusText before = scrape();

        assertEquals(404, get(hostile).statusCode());
        assertEquals(404, get(hostile + "/deeper").statusCode());
        HttpResponse<String> brew = HTTP.send(request("/workers").method("BREW", HttpRequest.BodyPublishers.noBody()).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(405, brew.statusCode(), brew.body());
        PrometheusText after = scrapeUntil(text -> delta(before, text, REQUESTS, REQUESTS + "_count",
                Map.of("method", "other", "route", "/workers", "status", "405")) >= 1
                && delta(before, text, REQUESTS, REQUESTS + "_count",
                Map.of("method", "GET", "route", "unmatched", "status", "404")) >= 2);

        assertEquals(2, delta(before, after, REQUESTS, REQUESTS + "_count",
                Map.of("method", "GET", "route", "unmatched", "status", "404")));
        assertEquals(1, delta(before, after, REQUESTS, REQUESTS + "_count",
                Map.of("method", "other", "route", "/workers", "status", "405")));
        List<String> leaked = after.families().values().stream().flatMap(f -> f.samples().stream())
                .flatMap(s -> s.labels().values().stream()).filter(v -> v.contains("no-such") || v.contains("BREW")).toList();
        assertThat(leaked, is(empty()));
    }

    @Test
    void observeRoutesAreLabelledByTheirOwnPath() throws Exception {
        PrometheusText before = scrape();
        assertEquals(204, get("/observe/health").statusCode());
        PrometheusText after = scrapeUntil(text -> delta(before, text, REQUESTS, REQUESTS + "_count",
                Map.of("method", "GET", "route", "/observe/health", "status", "204")) >= 1);

        assertEquals(1, delta(before, after, REQUESTS, REQUESTS + "_count",
                Map.of("method", "GET", "route", "/observe/health", "status", "204")));
    }

    private static double delta(PrometheusText before, PrometheusText after, String family, String name,
                                Map<String, String> labels) {
        return after.value(family, name, labels) - before.value(family, name, labels);
    }

    private static void awaitState(String jobId, String state) throws Exception {
        Instant deadline = Instant.now().plusSeconds(30);
        String seen = null;
        while (Instant.now().isBefore(deadline)) {
            JsonNode job = JSON.readTree(get("/jobs/" + jobId).body());
            seen = job.get("state").asText();
            if (seen.equals(state)) {
                return;
            }
            LockSupport.parkNanos(Duration.ofMillis(20).toNanos()); // a poll with a deadline, not a synchronisation
        }
        throw new AssertionError("job " + jobId + " is " + seen + ", not " + state);
    }

    /**
     * Scrapes until {@code reached} holds (30 s at most): a request is counted once its last byte
     * is written, which its client may see a moment before the server has counted it.
     */
    private static PrometheusText scrapeUntil(Predicate<PrometheusText> reached) throws Exception {
        Instant deadline = Instant.now().plusSeconds(30);
        PrometheusText text = scrape();
        while (!reached.test(text) && Instant.now().isBefore(deadline)) {
            LockSupport.parkNanos(Duration.ofMillis(20).toNanos()); // a poll with a deadline, not a synchronisation
            text = scrape();
        }
        return text;
    }

    private static PrometheusText scrape() throws Exception {
        HttpResponse<String> response = get("/observe/metrics");
        assertEquals(200, response.statusCode(), response.body());
        return PrometheusText.parse(response.body());
    }

    private static HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + scheduler.httpPort() + path));
    }

    private static HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(request(path).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> post(String path, String body) throws Exception {
        return HTTP.send(request(path).POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
