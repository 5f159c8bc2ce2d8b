package io.jobscheduler.scheduler;

import io.jobscheduler.worker.TestWorkers;
import io.jobscheduler.worker.WorkerServer;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.endsWith;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A scheduler that shuts down ends follow streams so that their clients see an aborted body. */
class GatewayShutdownTest {
    @TempDir
    Path work;
    @TempDir
    Path data;

    @Test
    void shuttingDownAbortsAFollowInsteadOfEndingItCleanly() throws Exception {
        Files.writeString(work.resolve("talk.sh"), "echo started\nsleep 1000\n");
        SchedulerServer scheduler = SchedulerServer.start(TestServers.plaintext());
        try (WorkerServer worker = WorkerServer.start(TestWorkers.settings(scheduler.grpcPort(), work, data))) {
            assertTrue(worker.awaitRegistered(Duration.ofSeconds(10)));
            String workerId = scheduler.registry().list().getFirst().id().toString();
            HttpResponse<String> started = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                            URI.create("http://127.0.0.1:" + scheduler.httpPort() + "/start"))
                    .POST(HttpRequest.BodyPublishers.ofString(
                            "{\"worker_id\":\"" + workerId + "\",\"command\":\"sh\",\"path\":\"talk.sh\"}"))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(started.body(), started.statusCode(), is(201));
            String jobId = started.body().strip().replaceAll(".*\"job_id\":\"([^\"]+)\".*", "$1");

            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", scheduler.httpPort()));
                socket.setSoTimeout(30_000); // a bound on a broken server, not a synchronisation
                socket.getOutputStream().write(("GET /jobs/" + jobId + "/output HTTP/1.1\r\nHost: x\r\n\r\n")
                        .getBytes(StandardCharsets.US_ASCII));
                InputStream in = socket.getInputStream();
                ByteArrayOutputStream received = new ByteArrayOutputStream();
                while (!received.toString(StandardCharsets.ISO_8859_1).contains("started\n")) {
                    int b = in.read();
                    assertTrue(b >= 0, "stream ended before the first output: " + received);
                    received.write(b);
                }
                scheduler.close();
                received.writeBytes(in.readAllBytes());
                String response = received.toString(StandardCharsets.ISO_8859_1);
                assertThat(response, containsString("Transfer-Encoding: chunked"));
                assertThat("no final chunk: the client can tell the body was cut off",
                        response, not(endsWith("0\r\n\r\n")));
            }
        } finally {
            scheduler.close();
        }
    }
}
