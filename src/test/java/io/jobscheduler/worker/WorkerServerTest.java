package io.jobscheduler.worker;

import com.google.protobuf.ByteString;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.WebServerConfig;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpServer;
import io.jobscheduler.grpc.ListJobsReq;
import io.jobscheduler.grpc.QueryJobReq;
import io.jobscheduler.grpc.QueryJobRes;
import io.jobscheduler.grpc.StartJobReq;
import io.jobscheduler.grpc.StopJobReq;
import io.jobscheduler.grpc.StreamJobReq;
import io.jobscheduler.grpc.StreamJobRes;
import io.jobscheduler.grpc.WorkerGrpc;
import io.jobscheduler.worker.job.JobRunner;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The worker's gRPC contract, driven by a plain grpc-java client as any other peer would, against
 * the worker's service in this JVM, set up with the routing production uses (no scheduler).
 */
@ServerTest
class WorkerServerTest {
    private static Path work;
    private static Path data;
    private static JobRunner runner;

    private final ManagedChannel channel;
    private final WorkerGrpc.WorkerBlockingStub stub;

    WorkerServerTest(WebServer server) {
        channel = TestWorkers.channel(server.port());
        stub = WorkerGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    @SetUpServer
    static void server(WebServerConfig.Builder server) throws Exception {
        work = Files.createTempDirectory("worker-server-work");
        data = Files.createTempDirectory("worker-server-data");
        runner = new JobRunner(work, data, Duration.ofMillis(500), 1000, 1L << 30);
        InJvmWorker.serve(server, runner);
    }

    @AfterEach
    void closeChannel() throws InterruptedException {
        TestWorkers.close(channel);
    }

    @AfterAll
    static void cleanUp() {
        runner.close();
        InJvmWorker.deleteTree(work);
        InJvmWorker.deleteTree(data);
    }

    private String start(String command, String path) {
        return stub.startJob(StartJobReq.newBuilder().setCommand(command).setPath(path).build()).getJobID();
    }

    private Path script(String name, String body) throws Exception {
        return Files.writeString(work.resolve(name), "#!/bin/sh\n" + body);
    }

    private byte[] output(String jobId, long offset, boolean follow) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        long expected = offset;
        Iterator<StreamJobRes> chunks = WorkerGrpc.newBlockingStub(channel).streamJob(
                StreamJobReq.newBuilder().setJobID(jobId).setOffset(offset).setFollow(follow).build());
        while (chunks.hasNext()) {
            StreamJobRes chunk = chunks.next();
            assertThat("chunks carry the offset of their first byte", chunk.getOffset(), is(expected));
            assertThat(chunk.getOutput().size(), lessThanOrEqualTo(64 * 1024));
            expected += chunk.getOutput().size();
            bytes.writeBytes(chunk.getOutput().toByteArray());
        }
        return bytes.toByteArray();
    }

    private QueryJobRes awaitDone(String jobId) {
        // Following the output to its end is the signal that the job has ended.
        output(jobId, 0, true);
        return stub.queryJob(QueryJobReq.newBuilder().setJobID(jobId).build());
    }

    @Test
    void aJobThatSucceedsReportsDoneWithoutError() throws Exception {
        script("ok.sh", "echo hello\n");
        String id = start("sh", "ok.sh");
        QueryJobRes status = awaitDone(id);
        assertThat(status.getDone(), is(true));
        assertThat(status.getError(), is(false));
        assertThat(status.getState(), is("SUCCEEDED"));
        assertThat(status.getExitCode(), is(0));
        assertTrue(status.getFinishedAtMillis() >= status.getStartedAtMillis());
        assertThat(new String(output(id, 0, false)), is("hello\n"));
    }

    @Test
    void aNonZeroExitIsAnErrorWithItsStatus() throws Exception {
        script("fail.sh", "exit 3\n");
        QueryJobRes status = awaitDone(start("sh", "fail.sh"));
        assertThat(status.getError(), is(true));
        assertThat(status.getState(), is("FAILED"));
        assertThat(status.getErrorText(), is("exit status 3"));
        assertThat(status.getExitCode(), is(3));
    }

    @Test
    void aJobKilledByASignalSaysWhichSignal() throws Exception {
        script("die.sh", "kill -9 $$\n");
        QueryJobRes status = awaitDone(start("sh", "die.sh"));
        assertThat(status.getErrorText(), is("killed by signal 9"));
        assertThat(status.getSignal(), is(9));
        assertThat(status.hasExitCode(), is(false));
    }

    @Test
    void malformedRequestsAreInvalidArgument() {
        var empty = assertThrows(StatusRuntimeException.class, () -> start("", ""));
        assertThat(empty.getStatus().getCode(), is(Status.Code.INVALID_ARGUMENT));
        assertThat(empty.getStatus().getDescription(), containsString("command"));
        var noId = assertThrows(StatusRuntimeException.class,
                () -> stub.queryJob(QueryJobReq.newBuilder().setJobID("").build()));
        assertThat(noId.getStatus().getCode(), is(Status.Code.INVALID_ARGUMENT));
    }

    @Test
    void anUnknownJobIsNotFoundOnEveryMethod() {
        String id = "00000000-0000-0000-0000-000000000000";
        for (Runnable call : List.<Runnable>of(
                () -> stub.queryJob(QueryJobReq.newBuilder().setJobID(id).build()),
                () -> stub.stopJob(StopJobReq.newBuilder().setJobID(id).build()),
                () -> output(id, 0, false))) {
            var e = assertThrows(StatusRuntimeException.class, call::run);
            assertThat(e.getStatus().getCode(), is(Status.Code.NOT_FOUND));
        }
    }

    @Test
    void aCommandThatCannotStartIsFailedPreconditionWithTheReason() throws Exception {
        var missing = assertThrows(StatusRuntimeException.class, () -> start("no-such-program-here", ""));
        assertThat(missing.getStatus().getCode(), is(Status.Code.FAILED_PRECONDITION));
        assertThat(missing.getStatus().getDescription(), containsString("no-such-program-here"));

        script("not-executable.sh", "echo never\n");
        var denied = assertThrows(StatusRuntimeException.class, () -> start("./not-executable.sh", ""));
        assertThat(denied.getStatus().getCode(), is(Status.Code.FAILED_PRECONDITION));
    }

    @Test
    void stopEndsARunningJobAndStoppingAgainSucceeds() throws Exception {
        script("long.sh", "trap '' TERM\nsleep 1000 &\nwhile true; do sleep 1; done\n");
        String id = start("sh", "long.sh");
        stub.stopJob(StopJobReq.newBuilder().setJobID(id).build());
        QueryJobRes status = stub.queryJob(QueryJobReq.newBuilder().setJobID(id).build());
        assertThat(status.getState(), is("STOPPED"));
        assertThat(status.getErrorText(), is("stopped"));
        stub.stopJob(StopJobReq.newBuilder().setJobID(id).build());
        assertThat(stub.queryJob(QueryJobReq.newBuilder().setJobID(id).build()).getState(), is("STOPPED"));
    }

    @Test
    void concurrentFollowersReceiveTheIdenticalCompleteBytesFromAnyOffset() throws Exception {
        byte[] expected = new byte[12 * 1024 * 1024];
        new Random(42).nextBytes(expected); // not UTF-8
        Files.write(work.resolve("blob.bin"), expected);
        // Slowly enough that followers attach while the job is still writing.
        script("emit.sh", "head -c 6000000 blob.bin\nsleep 0.3\ntail -c +6000001 blob.bin\n");
        String id = start("sh", "emit.sh");
        try (ExecutorService readers = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<byte[]>> results = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                results.add(readers.submit(() -> output(id, 0, true)));
            }
            Future<byte[]> fromOffset = readers.submit(() -> output(id, 5_000_001, true));
            for (Future<byte[]> result : results) {
                assertArrayEquals(expected, result.get(60, TimeUnit.SECONDS));
            }
            byte[] tail = java.util.Arrays.copyOfRange(expected, 5_000_001, expected.length);
            assertArrayEquals(tail, fromOffset.get(60, TimeUnit.SECONDS));
        }
    }

    @Test
    void aClientThatCancelsAFollowIsReleasedAndTheJobGoesOn() throws Exception {
        script("slow.sh", "echo first\nsleep 1000\n");
        String id = start("sh", "slow.sh");
        Context.CancellableContext context = Context.current().withCancellation();
        Context previous = context.attach();
        Iterator<StreamJobRes> chunks;
        try {
            chunks = WorkerGrpc.newBlockingStub(channel).streamJob(
                    StreamJobReq.newBuilder().setJobID(id).setFollow(true).build());
        } finally {
            context.detach(previous);
        }
        assertThat(chunks.next().getOutput(), is(ByteString.copyFromUtf8("first\n")));
        context.cancel(null);
        var cancelled = assertThrows(StatusRuntimeException.class, chunks::hasNext);
        assertThat(cancelled.getStatus().getCode(), is(Status.Code.CANCELLED));
        assertThat(stub.queryJob(QueryJobReq.newBuilder().setJobID(id).build()).getState(), is("RUNNING"));
        stub.stopJob(StopJobReq.newBuilder().setJobID(id).build());
    }

    @Test
    void manyCancelledFollowsDoNotCutTheConnectionOtherStreamsShare() throws Exception {
        // A follow is cancelled when its HTTP reader leaves; the worker must not take many such
        // resets for a rapid-reset attack and close the connection every other call rides.
        script("waiting.sh", "echo ready\nsleep 1000\n");
        String waiting = start("sh", "waiting.sh");
        script("chatty.sh", "echo one\nsleep 1\necho two\n");
        String chatty = start("sh", "chatty.sh");
        try (ExecutorService readers = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<byte[]> whole = readers.submit(() -> output(chatty, 0, true));
            for (int i = 0; i < 120; i++) {
                Context.CancellableContext context = Context.current().withCancellation();
                Context previous = context.attach();
                try {
                    var chunks = WorkerGrpc.newBlockingStub(channel).streamJob(
                            StreamJobReq.newBuilder().setJobID(waiting).setFollow(true).build());
                    assertThat(chunks.next().getOutput(), is(ByteString.copyFromUtf8("ready\n")));
                } finally {
                    context.detach(previous);
                    context.cancel(null);
                }
            }
            assertThat(new String(whole.get(60, TimeUnit.SECONDS)), is("one\ntwo\n"));
        }
        assertThat(stub.queryJob(QueryJobReq.newBuilder().setJobID(waiting).build()).getState(), is("RUNNING"));
        stub.stopJob(StopJobReq.newBuilder().setJobID(waiting).build());
    }

    @Test
    void listJobsAnswersEveryJobWithItsCommandAndStatus() throws Exception {
        script("ok.sh", "true\n");
        String id = start("sh", "ok.sh");
        awaitDone(id);
        // Newest first: the job just started heads the list of every job this worker ran.
        var jobs = stub.listJobs(ListJobsReq.getDefaultInstance()).getJobsList();
        assertThat(jobs.getFirst().getJobID(), is(id));
        assertThat(jobs.getFirst().getCommand(), is("sh"));
        assertThat(jobs.getFirst().getPath(), is("ok.sh"));
        assertThat(jobs.getFirst().getStatus().getState(), is("SUCCEEDED"));
    }
}
