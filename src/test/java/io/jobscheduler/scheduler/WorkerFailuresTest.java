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
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a user reads when a call to a worker fails: real failures of real channels, in plain words. */
class WorkerFailuresTest {
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
            SchedulerException e = WorkerFailures.of(WORKER, "j", Duration.ofSeconds(5),
                    query(channel, Duration.ofSeconds(5)));
            assertInstanceOf(SchedulerException.WorkerUnavailable.class, e);
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
            SchedulerException e = WorkerFailures.of(WORKER, "j", Duration.ofMillis(300),
                    query(channel, Duration.ofMillis(300)));
            assertInstanceOf(SchedulerException.WorkerTooSlow.class, e);
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
            SchedulerException e = WorkerFailures.of(WORKER, "j", Duration.ofSeconds(30), cut);
            assertInstanceOf(SchedulerException.WorkerUnavailable.class, e);
            assertEquals("worker " + WORKER + " left the cluster or went down while the request was in flight",
                    e.getMessage());
        } finally {
            TestWorkers.close(channel);
            server.stop();
        }
    }

    private static SchedulerException failure(String jobId, Status status) {
        return WorkerFailures.of(WORKER, jobId, null, status.asRuntimeException());
    }

    @Test
    void theWorkersOwnAnswersKeepTheirMeaning() {
        SchedulerException exhausted = failure(null, Status.RESOURCE_EXHAUSTED
                .withDescription("the worker is out of file descriptors: x"));
        assertEquals(Duration.ofSeconds(5), assertInstanceOf(SchedulerException.WorkerOutOfResources.class, exhausted)
                .retryAfter());
        assertEquals("worker " + WORKER + " cannot take the request now, retry later: the worker is out of file"
                + " descriptors: x", exhausted.getMessage());

        SchedulerException unknown = failure("j1", Status.NOT_FOUND.withDescription("job 'j1' is not known to this worker"));
        assertInstanceOf(SchedulerException.UnknownJob.class, unknown);
        assertEquals("unknown job 'j1'", unknown.getMessage());

        SchedulerException shuttingDown = failure(null, Status.UNAVAILABLE.withDescription("worker is shutting down"));
        assertInstanceOf(SchedulerException.WorkerUnavailable.class, shuttingDown);
        assertEquals("worker " + WORKER + " is unavailable: worker is shutting down", shuttingDown.getMessage());

        for (Status.Code code : new Status.Code[] {Status.Code.FAILED_PRECONDITION, Status.Code.INVALID_ARGUMENT,
                Status.Code.UNIMPLEMENTED, Status.Code.INTERNAL, Status.Code.PERMISSION_DENIED}) {
            assertEquals(code, assertInstanceOf(SchedulerException.WorkerRefused.class,
                    failure(null, Status.fromCode(code))).code(), code.toString());
        }
        assertEquals("worker " + WORKER + " cannot start the command: command not found: x (ENOENT)",
                failure(null, Status.FAILED_PRECONDITION.withDescription("command not found: x (ENOENT)")).getMessage());
    }

    @Test
    void deadlinesAreSaidAsConfigured() {
        assertEquals("10s", WorkerFailures.words(Duration.ofSeconds(10)));
        assertEquals("250ms", WorkerFailures.words(Duration.ofMillis(250)));
        assertEquals("2m", WorkerFailures.words(Duration.ofMinutes(2)));
        assertEquals("1500ms", WorkerFailures.words(Duration.ofMillis(1500)));
    }

}
