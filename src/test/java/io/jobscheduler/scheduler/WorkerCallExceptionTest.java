package io.jobscheduler.scheduler;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.grpc.GrpcRouting;
import io.jobscheduler.grpc.QueryJobReq;
import io.jobscheduler.grpc.QueryJobRes;
import io.jobscheduler.grpc.WorkerGrpc;
import io.jobscheduler.worker.TestWorkers;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a user reads when a call to a worker fails: real failures of real channels, in plain words. */
class WorkerCallExceptionTest {
    private static final UUID WORKER = UUID.fromString("f35283ff-c08a-4a31-9b96-c23d795d70ed");

    private static StatusRuntimeException query(ManagedChannel channel, Duration deadline) {
        return assertThrows(StatusRuntimeException.class, () -> WorkerGrpc.newBlockingStub(channel)
                .withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS)
                .queryJob(QueryJobReq.newBuilder().setJobID("j").build()));
    }

    @Test
    void aWorkerNobodyListensForCouldNotBeReached() throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        ManagedChannel channel = TestWorkers.channel(port);
        try {
            WorkerCallException e = WorkerCallException.of(WORKER, "j", Duration.ofSeconds(5),
                    query(channel, Duration.ofSeconds(5)));
            assertEquals(503, e.httpStatus());
            assertEquals("worker " + WORKER + " could not be reached: connection refused", e.getMessage());
        } finally {
            TestWorkers.close(channel);
        }
    }

    /** A worker that never answers QueryJob; {@code called} counts down when a call arrives. */
    private static WebServer silentWorker(CountDownLatch called) {
        class Silent implements WorkerGrpc.AsyncService, io.grpc.BindableService {
            @Override
            public io.grpc.ServerServiceDefinition bindService() {
                return WorkerGrpc.bindService(this);
            }

            @Override
            public void queryJob(QueryJobReq request, StreamObserver<QueryJobRes> response) {
                called.countDown();
            }
        }
        return WebServer.builder().host("127.0.0.1").port(0)
                .addRouting(GrpcRouting.builder().service(new Silent())).build().start();
    }

    @Test
    void aSlowWorkerDidNotAnswerWithinTheDeadline() throws Exception {
        WebServer server = silentWorker(new CountDownLatch(1));
        ManagedChannel channel = TestWorkers.channel(server.port());
        try {
            WorkerCallException e = WorkerCallException.of(WORKER, "j", Duration.ofMillis(300),
                    query(channel, Duration.ofMillis(300)));
            assertEquals(504, e.httpStatus());
            assertEquals("worker " + WORKER + " did not answer within 300ms", e.getMessage());
        } finally {
            TestWorkers.close(channel);
            server.stop();
        }
    }

    @Test
    void aChannelClosedUnderACallSaysTheWorkerWentAwayNotChannelShutdownNow() throws Exception {
        CountDownLatch called = new CountDownLatch(1);
        WebServer server = silentWorker(called);
        ManagedChannel channel = TestWorkers.channel(server.port());
        try {
            var failure = CompletableFuture.supplyAsync(() -> query(channel, Duration.ofSeconds(30)));
            assertTrue(called.await(30, TimeUnit.SECONDS));
            channel.shutdownNow();
            StatusRuntimeException cut = failure.get(30, TimeUnit.SECONDS);
            assertEquals("Channel shutdownNow invoked", cut.getStatus().getDescription(), "grpc-java's wording changed");
            WorkerCallException e = WorkerCallException.of(WORKER, "j", Duration.ofSeconds(30), cut);
            assertEquals(503, e.httpStatus());
            assertEquals("worker " + WORKER + " left the cluster or went down while the request was in flight",
                    e.getMessage());
        } finally {
            TestWorkers.close(channel);
            server.stop();
        }
    }

    @Test
    void theWorkersOwnAnswersKeepTheirMeaning() {
        WorkerCallException exhausted = WorkerCallException.of(WORKER, Status.RESOURCE_EXHAUSTED
                .withDescription("the worker is out of file descriptors: x").asRuntimeException());
        assertEquals(503, exhausted.httpStatus());
        assertEquals(Map.of("Retry-After", "5"), exhausted.headers());
        assertEquals("worker " + WORKER + " cannot take the request now, retry later: the worker is out of file"
                + " descriptors: x", exhausted.getMessage());

        WorkerCallException unknown = WorkerCallException.of(WORKER, "j1", null,
                Status.NOT_FOUND.withDescription("job 'j1' is not known to this worker").asRuntimeException());
        assertEquals(404, unknown.httpStatus());
        assertEquals("job 'j1' is not known to worker " + WORKER, unknown.getMessage());

        WorkerCallException shuttingDown = WorkerCallException.of(WORKER,
                Status.UNAVAILABLE.withDescription("worker is shutting down").asRuntimeException());
        assertEquals("worker " + WORKER + " is unavailable: worker is shutting down", shuttingDown.getMessage());
        assertEquals(Map.of(), shuttingDown.headers());

        assertEquals(422, WorkerCallException.of(WORKER, Status.FAILED_PRECONDITION
                .withDescription("command not found: x (ENOENT)").asRuntimeException()).httpStatus());
        assertEquals(400, WorkerCallException.of(WORKER, Status.INVALID_ARGUMENT.asRuntimeException()).httpStatus());
        assertEquals(501, WorkerCallException.of(WORKER, Status.UNIMPLEMENTED.asRuntimeException()).httpStatus());
        assertEquals(502, WorkerCallException.of(WORKER, Status.INTERNAL.asRuntimeException()).httpStatus());
    }

    @Test
    void deadlinesAreSaidAsConfigured() {
        assertEquals("10s", WorkerCallException.words(Duration.ofSeconds(10)));
        assertEquals("250ms", WorkerCallException.words(Duration.ofMillis(250)));
        assertEquals("2m", WorkerCallException.words(Duration.ofMinutes(2)));
        assertEquals("1500ms", WorkerCallException.words(Duration.ofMillis(1500)));
    }

}
