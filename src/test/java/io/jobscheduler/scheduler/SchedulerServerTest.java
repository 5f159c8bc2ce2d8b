package io.jobscheduler.scheduler;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.jobscheduler.config.ServerStartException;
import io.jobscheduler.grpc.DeregisterReq;
import io.jobscheduler.grpc.DeregisterRes;
import io.jobscheduler.grpc.RegisterReq;
import io.jobscheduler.grpc.RegisterRes;
import io.jobscheduler.grpc.SchedulerGrpc;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SchedulerServerTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void aWorkerRegistersIsListedAndDeregistersOverPlaintext() throws Exception {
        try (SchedulerServer server = SchedulerServer.start(TestServers.plaintext())) {
            registerListDeregister(server, InsecureChannelCredentials.create());
        }
    }

    @Test
    void aWorkerRegistersIsListedAndDeregistersOverTls() throws Exception {
        ChannelCredentials tls = TlsChannelCredentials.newBuilder()
                .trustManager(TestServers.tlsFile("ca.pem").toFile())
                .build();
        try (SchedulerServer server = SchedulerServer.start(TestServers.tls())) {
            registerListDeregister(server, tls);
        }
    }

    @Test
    void aPlaintextClientCannotTalkToTheTlsSocket() {
        try (SchedulerServer server = SchedulerServer.start(TestServers.tls())) {
            ManagedChannel channel = channel(server, InsecureChannelCredentials.create());
            try {
                StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub(channel)
                        .registerWorker(RegisterReq.newBuilder().setAddress("127.0.0.1:30000").build()));
                assertTrue(e.getStatus().getCode() == Status.Code.UNAVAILABLE
                        || e.getStatus().getCode() == Status.Code.INTERNAL, e.getStatus().toString());
                assertTrue(server.registry().list().isEmpty());
            } finally {
                close(channel);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "127.0.0.1", "127.0.0.1:0", "127.0.0.1:65536", "127.0.0.1:x", ":30000",
            "http://127.0.0.1:30000", "0.0.0.0:30000"})
    void anInvalidAddressIsInvalidArgumentAndRegistersNothing(String address) {
        try (SchedulerServer server = SchedulerServer.start(TestServers.plaintext())) {
            ManagedChannel channel = channel(server, InsecureChannelCredentials.create());
            try {
                StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub(channel)
                        .registerWorker(RegisterReq.newBuilder().setAddress(address).build()));
                assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
                assertTrue(e.getStatus().getDescription().startsWith("address: "), e.getStatus().getDescription());
                assertTrue(server.registry().list().isEmpty());
            } finally {
                close(channel);
            }
        }
    }

    @Test
    void aRegistrationWithTooManyOrOversizeLabelsOrANegativeCapacityIsRefused() {
        try (SchedulerServer server = SchedulerServer.start(TestServers.plaintext())) {
            ManagedChannel channel = channel(server, InsecureChannelCredentials.create());
            try {
                java.util.Map<String, String> many = new java.util.HashMap<>();
                for (int i = 0; i < 65; i++) {
                    many.put("l" + i, "v");
                }
                for (RegisterReq bad : List.of(
                        RegisterReq.newBuilder().setAddress("127.0.0.1:1").putAllLabels(many).build(),
                        RegisterReq.newBuilder().setAddress("127.0.0.1:1").putLabels("zone", "v".repeat(257)).build(),
                        RegisterReq.newBuilder().setAddress("127.0.0.1:1").setMaxRunning(-1).build())) {
                    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub(channel)
                            .withDeadlineAfter(10, TimeUnit.SECONDS).registerWorker(bad));
                    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getStatus().toString());
                }
                assertTrue(server.registry().list().isEmpty());
            } finally {
                close(channel);
            }
        }
    }

    /** A refusal quoting a huge address would hang Helidon's HPACK encoder (docs/helidon-notes.md, "HPACK"). */
    @Test
    void aRefusalQuotingAHugeAddressComesBackBoundedAndTheSchedulerKeepsServing() {
        try (SchedulerServer server = SchedulerServer.start(TestServers.plaintext())) {
            ManagedChannel channel = channel(server, InsecureChannelCredentials.create());
            try {
                for (String address : List.of("é".repeat(10_000) + ":1", "0.0.0.0:" + "9".repeat(50_000))) {
                    StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub(channel)
                            .withDeadlineAfter(10, TimeUnit.SECONDS)
                            .registerWorker(RegisterReq.newBuilder().setAddress(address).build()));
                    assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), e.getStatus().toString());
                    String description = e.getStatus().getDescription();
                    assertTrue(description.startsWith("address: ") && description.endsWith("…"), description);
                }
                RegisterRes registered = stub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                        .registerWorker(RegisterReq.newBuilder().setAddress("127.0.0.1:1").build());
                assertTrue(registered.getSuccess());
            } finally {
                close(channel);
            }
        }
    }

    @Test
    void reRegisteringKeepsTheRequestedIdAndAnotherAddressCannotTakeIt() {
        try (SchedulerServer server = SchedulerServer.start(TestServers.plaintext())) {
            ManagedChannel channel = channel(server, InsecureChannelCredentials.create());
            try {
                var stub = stub(channel);
                String wanted = UUID.randomUUID().toString();
                RegisterRes first = stub.registerWorker(RegisterReq.newBuilder()
                        .setAddress("127.0.0.1:30001").setWorkerID(wanted).build());
                RegisterRes again = stub.registerWorker(RegisterReq.newBuilder()
                        .setAddress("127.0.0.1:30001").setWorkerID(wanted).build());
                RegisterRes thief = stub.registerWorker(RegisterReq.newBuilder()
                        .setAddress("127.0.0.1:30002").setWorkerID(wanted).build());

                assertEquals(wanted, first.getWorkerID());
                assertEquals(wanted, again.getWorkerID());
                assertNotEquals(wanted, thief.getWorkerID());
                assertEquals(2, server.registry().list().size());
            } finally {
                close(channel);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "not-a-uuid", "6f1c1f3e-0000-0000-0000-000000000000"})
    void deregisteringAnUnknownOrMalformedIdFailsAndChangesNothing(String id) {
        try (SchedulerServer server = SchedulerServer.start(TestServers.plaintext())) {
            ManagedChannel channel = channel(server, InsecureChannelCredentials.create());
            try {
                var stub = stub(channel);
                stub.registerWorker(RegisterReq.newBuilder().setAddress("127.0.0.1:30001").build());

                assertFalse(stub.deregisterWorker(DeregisterReq.newBuilder().setWorkerID(id).build()).getSuccess());
                assertEquals(1, server.registry().list().size());
            } finally {
                close(channel);
            }
        }
    }

    @Test
    void startingOnATakenHttpPortThrowsNamingTheSetting() throws IOException {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress("127.0.0.1", 0));
            var settings = TestServers.settings(Optional.empty(), "127.0.0.1:" + taken.getLocalPort(), "127.0.0.1:0");

            ServerStartException e = assertThrows(ServerStartException.class, () -> SchedulerServer.start(settings));

            assertEquals("cannot bind http_server.addr 127.0.0.1:" + taken.getLocalPort() + ": address in use",
                    e.getMessage());
        }
    }

    @Test
    void startingOnATakenGrpcPortThrowsNamingTheSetting() throws IOException {
        try (ServerSocket taken = new ServerSocket()) {
            taken.bind(new InetSocketAddress("127.0.0.1", 0));
            var settings = TestServers.settings(Optional.empty(), "127.0.0.1:0", "127.0.0.1:" + taken.getLocalPort());

            ServerStartException e = assertThrows(ServerStartException.class, () -> SchedulerServer.start(settings));

            assertEquals("cannot bind grpc_server.addr 127.0.0.1:" + taken.getLocalPort() + ": address in use",
                    e.getMessage());
        }
    }

    @Test
    void startLogsOneLinePerSocketWithTheBoundAddress() {
        List<String> lines = new CopyOnWriteArrayList<>();
        Logger logger = Logger.getLogger(SchedulerServer.class.getName());
        Handler capture = new Handler() {
            @Override
            public void publish(LogRecord record) {
                lines.add(record.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        logger.addHandler(capture);
        try (SchedulerServer server = SchedulerServer.start(TestServers.tls())) {
            assertEquals(List.of("scheduler http listening on 127.0.0.1:" + server.httpPort(),
                    "scheduler grpc listening on 127.0.0.1:" + server.grpcPort() + " (tls)"), lines);
        } finally {
            logger.removeHandler(capture);
        }
    }

    @Test
    void healthIsUpOnTheHttpSocket() throws Exception {
        try (SchedulerServer server = SchedulerServer.start(TestServers.plaintext())) {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + server.httpPort() + "/observe/health")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertTrue(response.statusCode() == 200 || response.statusCode() == 204, response.toString());
        }
    }

    @Test
    void closeLetsADeregistrationInFlightFinishButAcceptsNoNewConnections() throws Exception {
        // A deregistration takes the leaving worker's final job states (ListJobs) before it
        // answers: a worker that holds its ListJobs answer holds the call in flight.
        CountDownLatch release = new CountDownLatch(1);
        SchedulerServer server = SchedulerServer.start(TestServers.plaintext());
        int grpcPort = server.grpcPort();
        ManagedChannel channel = channel(server, InsecureChannelCredentials.create());
        try (ScriptedWorker worker = new ScriptedWorker();
             ExecutorService threads = Executors.newVirtualThreadPerTaskExecutor()) {
            worker.listGate.set(release);
            String id = stub(channel).registerWorker(RegisterReq.newBuilder()
                    .setAddress(worker.address().toString()).build()).getWorkerID();
            Future<DeregisterRes> inFlight = threads.submit(() -> stub(channel)
                    .deregisterWorker(DeregisterReq.newBuilder().setWorkerID(id).build()));
            ScriptedWorker.await("the departing worker's ListJobs", () -> worker.lists.get() == 1);

            Future<?> closing = threads.submit(server::close);
            // While the call in flight drains, new ones are refused, not cut off.
            StatusRuntimeException refused = awaitRefusedCall(channel);
            assertEquals(Status.Code.UNAVAILABLE, refused.getStatus().getCode());
            assertEquals("the scheduler is shutting down", refused.getStatus().getDescription());
            release.countDown();

            assertTrue(inFlight.get(10, TimeUnit.SECONDS).getSuccess());
            closing.get(10, TimeUnit.SECONDS);
            assertTrue(server.registry().list().isEmpty());
            awaitRefused(grpcPort);
        } finally {
            close(channel);
        }
    }

    // Waits (bounded) until the listener no longer accepts: the sign that close() has begun.
    /** Registers until the scheduler refuses: close() runs on another thread and starts refusing soon. */
    private static StatusRuntimeException awaitRefusedCall(ManagedChannel channel) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        int port = 1;
        while (System.nanoTime() < deadline) {
            try {
                stub(channel).registerWorker(RegisterReq.newBuilder().setAddress("127.0.3.1:" + port++).build());
            } catch (StatusRuntimeException e) {
                return e;
            }
        }
        throw new AssertionError("close() never began refusing registrations");
    }

    private static void awaitRefused(int port) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            } catch (IOException refused) {
                return;
            }
            Thread.onSpinWait();
        }
        throw new AssertionError("port " + port + " still accepts connections after close()");
    }

    private void registerListDeregister(SchedulerServer server, ChannelCredentials credentials) throws Exception {
        ManagedChannel channel = channel(server, credentials);
        try {
            var stub = stub(channel);
            RegisterRes registered = stub.registerWorker(RegisterReq.newBuilder().setAddress("127.0.0.1:30000").build());
            assertTrue(registered.getSuccess());
            assertEquals(TestServers.TTL.toMillis(), registered.getTtlMillis());
            assertEquals(WorkerWatch.heartbeat(TestServers.TTL).toMillis(), registered.getHeartbeatMillis());
            UUID id = UUID.fromString(registered.getWorkerID());

            JsonNode workers = getJson(server, "/workers").get("workers");
            assertEquals(1, workers.size());
            assertEquals(id.toString(), workers.get(0).get("id").asText());
            assertEquals("127.0.0.1:30000", workers.get(0).get("address").asText());
            assertEquals(id.toString(), getJson(server, "/workers/" + id).get("id").asText());

            assertTrue(stub.deregisterWorker(DeregisterReq.newBuilder().setWorkerID(id.toString()).build()).getSuccess());
            assertEquals(0, getJson(server, "/workers").get("workers").size());
            assertFalse(stub.deregisterWorker(DeregisterReq.newBuilder().setWorkerID(id.toString()).build()).getSuccess());
        } finally {
            close(channel);
        }
    }

    private JsonNode getJson(SchedulerServer server, String path) throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + server.httpPort() + path)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, response.statusCode(), response.body());
        return JSON.readTree(response.body());
    }

    private static ManagedChannel channel(SchedulerServer server, ChannelCredentials credentials) {
        return Grpc.newChannelBuilderForAddress("127.0.0.1", server.grpcPort(), credentials).build();
    }

    private static SchedulerGrpc.SchedulerBlockingStub stub(ManagedChannel channel) {
        return SchedulerGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS);
    }

    private static void close(ManagedChannel channel) {
        channel.shutdownNow();
        try {
            channel.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
