package io.jobscheduler.worker;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.jobscheduler.config.Address;
import io.jobscheduler.config.ObserveSettings;
import io.jobscheduler.observe.Meters;
import io.jobscheduler.observe.PrometheusText;
import io.jobscheduler.scheduler.SchedulerServer;
import io.jobscheduler.scheduler.TestServers;
import io.jobscheduler.scheduler.http.RawHttp;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.greaterThan;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A worker's own metrics socket ({@code [observe] addr}): strict Prometheus text, its meters moving as jobs run. */
class WorkerMetricsServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path work;
    @TempDir
    Path data;

    @Test
    void theWorkerServesRunningJobsSpawnLatencyOutputWrittenAndFreeBytes() throws Exception {
        Files.writeString(work.resolve("hello.sh"), "echo hello\n");
        try (SchedulerServer scheduler = SchedulerServer.start(TestServers.plaintext());
             WorkerServer worker = WorkerServer.start(TestWorkers.settings(scheduler.grpcPort(), work, data),
                     new ObserveSettings(Optional.of(new Address("127.0.0.1", 0))), Meters.ofProcess())) {
            assertTrue(worker.awaitRegistered(Duration.ofSeconds(20)), "the worker did not register");
            String workerId = scheduler.registry().list().getFirst().id().toString();
            int port = worker.observePort().orElseThrow();
            PrometheusText before = scrape(port);

            String hello = start(scheduler, workerId, "\"command\":\"sh\",\"path\":\"hello.sh\"");
            assertEquals("hello\n", get(scheduler.httpPort(), "/jobs/" + hello + "/output").body());
            awaitState(scheduler, hello, "SUCCEEDED"); // so that only the sleeper runs below
            String sleeper = start(scheduler, workerId, "\"command\":\"sleep\",\"path\":\"60\"");
            PrometheusText during = scrape(port);

            assertEquals(1, during.value("jobscheduler_worker_jobs_running", "jobscheduler_worker_jobs_running", Map.of()));
            assertEquals(2, delta(before, during, "jobscheduler_worker_spawn_duration_seconds",
                    "jobscheduler_worker_spawn_duration_seconds_count"));
            assertEquals("histogram", during.family("jobscheduler_worker_spawn_duration_seconds").orElseThrow().type());
            assertEquals(6, delta(before, during, "jobscheduler_worker_output_written_bytes_total",
                    "jobscheduler_worker_output_written_bytes_total"));
            assertThat(during.value("jobscheduler_worker_data_dir_free_bytes", "jobscheduler_worker_data_dir_free_bytes",
                    Map.of()), greaterThan(0.0));
            assertEquals(204, get(port, "/observe/health/live").statusCode());
            assertEquals(404, get(port, "/start").statusCode(), "the metrics socket serves no API");

            HttpResponse<String> stopped = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + scheduler.httpPort() + "/stop")).POST(HttpRequest.BodyPublishers.ofString(
                    "{\"job_id\":\"" + sleeper + "\"}")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, stopped.statusCode(), stopped.body());
        }
    }

    @Test
    void withoutAnObserveAddressThereIsNoMetricsSocket() throws Exception {
        try (SchedulerServer scheduler = SchedulerServer.start(TestServers.plaintext());
             WorkerServer worker = WorkerServer.start(TestWorkers.settings(scheduler.grpcPort(), work, data))) {
            assertEquals(Optional.empty(), worker.observePort());
        }
    }

    /**
     * The metrics socket reads its connections through the API socket's guard: a connection that
     * asked for {@code Connection: close} ends after its answer (not at the 5 min idle timeout,
     * as Helidon 4.5.0 alone would; the read below gives up after 10 s), and a malformed request
     * head is refused with a JSON 400 before Helidon parses it.
     */
    @Test
    void theMetricsSocketClosesAConnectionThatAskedForItAndRefusesAMalformedHead() throws Exception {
        try (SchedulerServer scheduler = SchedulerServer.start(TestServers.plaintext());
             WorkerServer worker = WorkerServer.start(TestWorkers.settings(scheduler.grpcPort(), work, data),
                     new ObserveSettings(Optional.of(new Address("127.0.0.1", 0))), Meters.ofProcess())) {
            int port = worker.observePort().orElseThrow();
            try (Socket socket = RawHttp.connect(port)) {
                socket.getOutputStream().write("GET /observe/health/live HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                        .getBytes(StandardCharsets.US_ASCII));
                RawHttp.Response answer = RawHttp.read(socket.getInputStream());
                assertEquals(204, answer.status(), answer.toString());
                assertTrue(RawHttp.closedByServer(socket), "the connection stayed open after the answer");
            }
            RawHttp.Response refused = RawHttp.send(port, "GET /observe/metrics HTTP/1.1\rHost: x\r\n\r\n");
            assertEquals(400, refused.status(), refused.toString());
            assertEquals("malformed request: lines must end with CRLF, not a bare CR",
                    JSON.readTree(refused.body()).get("error").asText());
        }
    }

    private static void awaitState(SchedulerServer scheduler, String jobId, String state) throws Exception {
        Instant deadline = Instant.now().plusSeconds(30);
        String seen = null;
        while (Instant.now().isBefore(deadline)) {
            seen = JSON.readTree(get(scheduler.httpPort(), "/jobs/" + jobId).body()).get("state").asText();
            if (seen.equals(state)) {
                return;
            }
            LockSupport.parkNanos(Duration.ofMillis(20).toNanos()); // a poll with a deadline, not a synchronisation
        }
        throw new AssertionError("job " + jobId + " is " + seen + ", not " + state);
    }

    private static double delta(PrometheusText before, PrometheusText after, String family, String name) {
        return after.value(family, name, Map.of()) - before.value(family, name, Map.of());
    }

    private static String start(SchedulerServer scheduler, String workerId, String fields) throws Exception {
        HttpResponse<String> started = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + scheduler.httpPort() + "/start")).POST(HttpRequest.BodyPublishers.ofString(
                "{\"worker_id\":\"" + workerId + "\"," + fields + "}")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, started.statusCode(), started.body());
        return JSON.readTree(started.body()).get("job_id").asText();
    }

    private static PrometheusText scrape(int port) throws Exception {
        HttpResponse<String> response = get(port, "/observe/metrics");
        assertEquals(200, response.statusCode(), response.body());
        assertThat(response.headers().firstValue("Content-Type").orElseThrow(), containsString("text/plain"));
        return PrometheusText.parse(response.body());
    }

    private static HttpResponse<String> get(int port, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
