package io.jobscheduler;

import io.jobscheduler.config.Address;
import io.jobscheduler.config.ClientTls;
import io.jobscheduler.config.SchedulerSettings;
import io.jobscheduler.config.ServerTls;
import io.jobscheduler.config.JobRules;
import io.jobscheduler.config.WorkerSettings;
import io.jobscheduler.scheduler.SchedulerServer;
import io.jobscheduler.scheduler.TestServers;
import io.jobscheduler.worker.WorkerServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Both gRPC directions over TLS: the worker registers over TLS, the scheduler calls it over TLS. */
class TlsClusterTest {
    @TempDir
    Path work;
    @TempDir
    Path data;

    @Test
    void aJobStartsAndStreamsWhenEveryGrpcHopIsTls() throws Exception {
        ServerTls serverTls = new ServerTls(TestServers.tlsFile("server.pem"), TestServers.tlsFile("server.key"));
        ClientTls trustCa = new ClientTls(TestServers.tlsFile("ca.pem"));
        SchedulerSettings plain = TestServers.tls();
        SchedulerSettings schedulerSettings = new SchedulerSettings(plain.httpAddress(), plain.grpcAddress(),
                Optional.of(serverTls), Optional.of(trustCa), plain.callTimeout(), plain.stopTimeout(),
                plain.drainTimeout(), plain.workerTtl(), plain.workerExpiry(), plain.jobIndexSize(),
                plain.headerTimeout(), plain.idleTimeout());
        Files.writeString(work.resolve("hello.sh"), "echo over tls\n");
        try (SchedulerServer scheduler = SchedulerServer.start(schedulerSettings);
             WorkerServer worker = WorkerServer.start(new WorkerSettings(Address.parse("127.0.0.1:0", true),
                     Address.parse("127.0.0.1:0", true), Optional.of(serverTls),
                     new Address("127.0.0.1", scheduler.grpcPort()), Optional.of(trustCa), Duration.ofSeconds(3),
                     work, data, Duration.ofSeconds(1), 100, 1L << 20, JobRules.OPEN))) {
            assertTrue(worker.awaitRegistered(Duration.ofSeconds(10)), "registered over TLS");
            String workerId = scheduler.registry().list().getFirst().id().toString();
            HttpClient http = HttpClient.newHttpClient();
            String base = "http://127.0.0.1:" + scheduler.httpPort();
            HttpResponse<String> started = http.send(HttpRequest.newBuilder(URI.create(base + "/start"))
                    .POST(HttpRequest.BodyPublishers.ofString(
                            "{\"worker_id\":\"" + workerId + "\",\"command\":\"sh\",\"path\":\"hello.sh\"}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(started.body(), started.statusCode(), is(201));
            String jobId = started.body().strip().replaceAll(".*\"job_id\":\"([^\"]+)\".*", "$1");
            HttpResponse<String> output = http.send(HttpRequest.newBuilder(
                    URI.create(base + "/jobs/" + jobId + "/output")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(output.statusCode(), is(200));
            assertThat(output.body(), is("over tls\n"));
        }
    }
}
