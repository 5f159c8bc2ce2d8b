package io.jobscheduler.worker;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.WebServerConfig;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpServer;
import io.jobscheduler.grpc.QueryJobReq;
import io.jobscheduler.grpc.StartJobReq;
import io.jobscheduler.grpc.StopJobReq;
import io.jobscheduler.grpc.StreamJobReq;
import io.jobscheduler.grpc.WorkerGrpc;
import io.jobscheduler.worker.job.JobRunner;
import io.jobscheduler.worker.job.TestRunners;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The worker's one error mapping as a client sees it, for unary and streaming calls alike, on a
 * runner whose spawn set-up fails (the worker's own fault): that is INTERNAL with its reason,
 * never the false "shutting down" of old; a runner that really closed is UNAVAILABLE.
 */
@ServerTest
@Timeout(60)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WorkerErrorsServerTest {
    private static final String UNKNOWN = "00000000-0000-0000-0000-000000000000";
    private static Path data;
    private static JobRunner runner;

    private final ManagedChannel channel;
    private final WorkerGrpc.WorkerBlockingStub stub;

    WorkerErrorsServerTest(WebServer server) {
        channel = TestWorkers.channel(server.port());
        stub = WorkerGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    @SetUpServer
    static void server(WebServerConfig.Builder server) throws Exception {
        data = Files.createTempDirectory("errors-data");
        runner = TestRunners.withFailingSpawnSetUp(data);
        InJvmWorker.serve(server, runner);
    }

    @AfterEach
    void closeChannel() throws InterruptedException {
        TestWorkers.close(channel);
    }

    @AfterAll
    static void cleanUp() {
        runner.close();
        InJvmWorker.deleteTree(data);
    }

    private static Status status(Runnable call) {
        return assertThrows(StatusRuntimeException.class, call::run).getStatus();
    }

    @Test
    @Order(1)
    void aSpawnSetUpFailureIsInternalWithItsReasonNotShuttingDown() {
        Status failed = status(() -> stub.startJob(StartJobReq.newBuilder().setCommand("true").build()));
        assertThat(failed.getCode(), is(Status.Code.INTERNAL));
        assertThat(failed.getDescription(), containsString("posix_spawnattr_init failed"));
        assertThat(failed.getDescription(), not(containsString("shutting down")));
    }

    @Test
    @Order(1)
    void unaryAndStreamingCallsMapAnUnknownJobAndABadIdAlike() {
        Status query = status(() -> stub.queryJob(QueryJobReq.newBuilder().setJobID(UNKNOWN).build()));
        Status stream = status(() -> stub.streamJob(StreamJobReq.newBuilder().setJobID(UNKNOWN).build()).hasNext());
        assertThat(query.getCode(), is(Status.Code.NOT_FOUND));
        assertThat(stream.getCode(), is(Status.Code.NOT_FOUND));
        assertThat(stream.getDescription(), is(query.getDescription()));

        String tooLong = "x".repeat(129);
        Status stop = status(() -> stub.stopJob(StopJobReq.newBuilder().setJobID(tooLong).build()));
        Status badStream = status(() -> stub.streamJob(StreamJobReq.newBuilder().setJobID(tooLong).build()).hasNext());
        assertThat(stop.getCode(), is(Status.Code.INVALID_ARGUMENT));
        assertThat(badStream.getCode(), is(Status.Code.INVALID_ARGUMENT));
        assertThat(badStream.getDescription(), is(stop.getDescription()));
    }

    @Test
    @Order(2)
    void aRunnerThatClosedIsUnavailable() {
        runner.close();
        Status closed = status(() -> stub.startJob(StartJobReq.newBuilder().setCommand("true").build()));
        assertThat(closed.getCode(), is(Status.Code.UNAVAILABLE));
        assertThat(closed.getDescription(), is("worker is shutting down"));
    }
}
