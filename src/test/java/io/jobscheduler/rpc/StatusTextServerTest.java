package io.jobscheduler.rpc;

import io.grpc.ManagedChannel;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.grpc.GrpcRouting;
import io.jobscheduler.grpc.StartJobReq;
import io.jobscheduler.grpc.StartJobRes;
import io.jobscheduler.grpc.WorkerGrpc;
import io.jobscheduler.worker.TestWorkers;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A real Helidon gRPC server whose method fails with whatever description the client asks for,
 * bound through {@link StatusText}, called by grpc-java: descriptions far beyond the length that
 * sends Helidon 4.5.0's HPACK encoder into its endless loop (docs/helidon-notes.md, "HPACK"), and
 * non-ASCII ones, arrive bounded and intact, and the server keeps answering. Without the bound
 * these calls would end in DEADLINE_EXCEEDED (bench/HpackLoopProbe.java shows it).
 */
class StatusTextServerTest {
    static WebServer server;
    static ManagedChannel channel;

    /** Fails every start with FAILED_PRECONDITION quoting the command, as the worker's start once did. */
    static final class Refusing implements WorkerGrpc.AsyncService, io.grpc.BindableService {
        @Override
        public ServerServiceDefinition bindService() {
            return StatusText.bound(WorkerGrpc.bindService(this));
        }

        @Override
        public void startJob(StartJobReq request, StreamObserver<StartJobRes> response) {
            if (request.getPath().equals("throw")) {
                throw Status.INTERNAL.withDescription(request.getCommand()).asRuntimeException();
            }
            response.onError(Status.FAILED_PRECONDITION.withDescription(request.getCommand()).asRuntimeException());
        }
    }

    @BeforeAll
    static void start() {
        server = WebServer.builder().host("127.0.0.1").port(0)
                .addRouting(GrpcRouting.builder().service(new Refusing()))
                .build().start();
        channel = TestWorkers.channel(server.port());
    }

    @AfterAll
    static void stop() throws InterruptedException {
        TestWorkers.close(channel);
        server.stop();
    }

    private static StatusRuntimeException refusal(String description, String path) {
        return assertThrows(StatusRuntimeException.class, () -> WorkerGrpc.newBlockingStub(channel)
                .withDeadlineAfter(10, TimeUnit.SECONDS)
                .startJob(StartJobReq.newBuilder().setCommand(description).setPath(path).build()));
    }

    @Test
    void longDescriptionsArriveBoundedAndTheServerKeepsAnswering() {
        for (int length : new int[] {1_000, 4_052, 4_053, 5_000, 100_000}) {
            String description = "c".repeat(length);
            StatusRuntimeException e = refusal(description, "");
            assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode(), length + ": " + e.getStatus());
            assertEquals(StatusTextTest.decode(StatusText.wireForm(description)), e.getStatus().getDescription());
        }
        StatusRuntimeException thrown = refusal("t".repeat(50_000), "throw");
        assertEquals(Status.Code.INTERNAL, thrown.getStatus().getCode(), thrown.getStatus().toString());
        assertEquals(1024 - 9 + 1, thrown.getStatus().getDescription().length());
        assertEquals("short", refusal("short", "").getStatus().getDescription());
    }

    @Test
    void nonAsciiDescriptionsArriveIntact() {
        assertEquals("command not found: échø", refusal("command not found: échø", "").getStatus().getDescription());
        String longUnicode = "ø€\uD83D\uDE00".repeat(3_000);
        String description = refusal(longUnicode, "").getStatus().getDescription();
        assertEquals(longUnicode.substring(0, description.length() - 1) + "…", description);
    }
}
