package io.jobscheduler.worker;

import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.WebServerConfig;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpServer;
import io.jobscheduler.grpc.Heartbeat;
import io.jobscheduler.grpc.JobEvent;
import io.jobscheduler.grpc.ListJobsReq;
import io.jobscheduler.grpc.ListJobsRes;
import io.jobscheduler.grpc.StartJobReq;
import io.jobscheduler.grpc.StartJobRes;
import io.jobscheduler.grpc.WatchReq;
import io.jobscheduler.grpc.WorkerGrpc;
import io.jobscheduler.worker.job.JobRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Job events on the wire (docs/architecture.md, "Job events"), against the worker's gRPC service in
 * this JVM: the Watch stream's first message at once, events pushed as they happen (the requested
 * heartbeat interval is a minute, so only a push can deliver them within the test), and ListJobs
 * with the sequence number it reflects.
 */
@ServerTest
@Timeout(120)
class WorkerEventsServerTest {
    private static Path work;
    private static Path data;
    private static JobRunner runner;

    private final ManagedChannel channel;
    private final WorkerGrpc.WorkerBlockingStub stub;

    WorkerEventsServerTest(WebServer server) {
        channel = TestWorkers.channel(server.port());
        stub = WorkerGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    @SetUpServer
    static void server(WebServerConfig.Builder server) throws Exception {
        work = Files.createTempDirectory("events-work");
        data = Files.createTempDirectory("events-data");
        runner = new JobRunner(work, data, Duration.ofMillis(300), 1000, 1L << 30);
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

    /** A watch's messages as they arrive; cancelled by closing the channel. */
    private BlockingQueue<Heartbeat> watch() {
        BlockingQueue<Heartbeat> messages = new LinkedBlockingQueue<>();
        WorkerGrpc.newStub(channel).watch(WatchReq.newBuilder().setWorkerID(InJvmWorker.WORKER_ID)
                .setHeartbeatMillis(60_000).build(), new StreamObserver<>() {
            @Override
            public void onNext(Heartbeat beat) {
                messages.add(beat);
            }

            @Override
            public void onError(Throwable t) {
            }

            @Override
            public void onCompleted() {
            }
        });
        return messages;
    }

    private static Heartbeat next(BlockingQueue<Heartbeat> messages) throws InterruptedException {
        Heartbeat beat = messages.poll(30, TimeUnit.SECONDS);
        assertNotNull(beat, "no message on the watch within 30 s (with heartbeats a minute apart)");
        return beat;
    }

    @Test
    void theWatchSendsItsFirstMessageAtOnceThenEachJobsStartAndEnd() throws Exception {
        BlockingQueue<Heartbeat> messages = watch();
        Heartbeat first = next(messages);
        assertEquals(runner.events().bootId(), first.getBootId());
        assertEquals(List.of(), first.getEventsList());
        long seq = first.getSeq();

        StartJobRes started = stub.startJob(StartJobReq.newBuilder().setCommand("sh").setPath("-c").build());
        List<JobEvent> mine = new ArrayList<>();
        while (mine.size() < 2) {
            Heartbeat beat = next(messages);
            assertEquals(first.getBootId(), beat.getBootId());
            // Contiguous: this message's events follow the previous message's, the last one numbered seq.
            assertEquals(seq + beat.getEventsCount(), beat.getSeq(), beat.toString());
            seq = beat.getSeq();
            beat.getEventsList().stream().filter(e -> e.getJobId().equals(started.getJobID())).forEach(mine::add);
        }
        assertEquals("RUNNING", mine.get(0).getState());
        assertEquals(started.getStartedAtMillis(), mine.get(0).getStartedAtMillis());
        JobEvent end = mine.get(1);
        assertEquals("FAILED", end.getState());
        assertEquals(2, end.getExitCode());
        assertTrue(end.getFinishedAtMillis() >= end.getStartedAtMillis());
        assertEquals("exit status 2", end.getErrorText());
    }

    @Test
    void listJobsAnswersTheSequenceNumberItReflects() throws Exception {
        String id = stub.startJob(StartJobReq.newBuilder().setCommand("true").build()).getJobID();
        runner.awaitEnd(id, Duration.ofSeconds(60));
        ListJobsRes list = stub.listJobs(ListJobsReq.getDefaultInstance());
        assertEquals(runner.snapshot().seq(), list.getSeq());
        assertTrue(list.getSeq() >= 2);
        assertEquals("SUCCEEDED", list.getJobsList().stream().filter(j -> j.getJobID().equals(id)).findFirst()
                .orElseThrow().getStatus().getState());
    }
}
