package io.jobscheduler.worker;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.jobscheduler.rpc.CapacityRefusal;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.WebServerConfig;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpServer;
import io.jobscheduler.grpc.Heartbeat;
import io.jobscheduler.grpc.ListJobsReq;
import io.jobscheduler.grpc.StartJobReq;
import io.jobscheduler.grpc.StartJobRes;
import io.jobscheduler.grpc.StopJobReq;
import io.jobscheduler.grpc.WatchReq;
import io.jobscheduler.grpc.WorkerGrpc;
import io.jobscheduler.worker.job.JobRunner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * What a start must pass on the worker (features {@code capacity} and {@code job_id}): no more
 * than {@code max_running} jobs at once, and a start naming a known id answers that job instead
 * of spawning a second process.
 */
@ServerTest
@Timeout(120)
class StartGateServerTest {
    private static final int MAX_RUNNING = 2;
    private static Path work;
    private static Path data;
    private static JobRunner runner;

    private final ManagedChannel channel;
    private final WorkerGrpc.WorkerBlockingStub stub;

    StartGateServerTest(WebServer server) {
        channel = TestWorkers.channel(server.port());
        stub = WorkerGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    @SetUpServer
    static void server(WebServerConfig.Builder server) throws Exception {
        work = Files.createTempDirectory("gate-work");
        data = Files.createTempDirectory("gate-data");
        runner = new JobRunner(work, data, Duration.ofMillis(300), 1000, 1L << 30);
        InJvmWorker.serve(server, runner, MAX_RUNNING);
    }

    @AfterEach
    void stopAll() throws InterruptedException {
        for (var job : stub.listJobs(ListJobsReq.getDefaultInstance()).getJobsList()) {
            stub.stopJob(StopJobReq.newBuilder().setJobID(job.getJobID()).build());
        }
        TestWorkers.close(channel);
    }

    @AfterAll
    static void cleanUp() {
        runner.close();
        InJvmWorker.deleteTree(work);
        InJvmWorker.deleteTree(data);
    }

    private static StartJobReq sleeper(String jobId) {
        StartJobReq.Builder start = StartJobReq.newBuilder().setCommand("sleep").setPath("1000");
        return jobId == null ? start.build() : start.setJobId(jobId).build();
    }

    @Test
    void aStartBeyondMaxRunningIsResourceExhaustedAndRoomFreedTakesTheNext() {
        String first = stub.startJob(sleeper(null)).getJobID();
        stub.startJob(sleeper(null));
        StatusRuntimeException full = assertThrows(StatusRuntimeException.class, () -> stub.startJob(sleeper(null)));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, full.getStatus().getCode());
        assertTrue(CapacityRefusal.isFull(full), "the refusal says it is about capacity, over the wire: " + full.getTrailers());
        assertTrue(full.getStatus().getDescription().contains("max_running of 2"), full.getStatus().toString());
        stub.stopJob(StopJobReq.newBuilder().setJobID(first).build());
        assertNotNull(stub.startJob(sleeper(null)).getJobID(), "a stopped job frees its room");
    }

    @Test
    void aStartNamingAKnownIdAnswersThatJobAndNeverSpawnsASecond() {
        String id = UUID.randomUUID().toString();
        StartJobRes started = stub.startJob(sleeper(id));
        assertEquals(id, started.getJobID(), "the id is adopted");
        StartJobRes again = stub.startJob(sleeper(id));
        assertEquals(id, again.getJobID());
        assertEquals(started.getStartedAtMillis(), again.getStartedAtMillis(), "the same job, not a new one");
        assertEquals(1, stub.listJobs(ListJobsReq.getDefaultInstance()).getJobsList().stream()
                .filter(j -> j.getJobID().equals(id)).count());
        assertEquals(1, runner.runningCount(), "one process");
    }

    @Test
    void aRepeatedStartOfAKnownIdIsAnsweredEvenWhenTheWorkerIsFull() {
        String id = UUID.randomUUID().toString();
        stub.startJob(sleeper(id));
        stub.startJob(sleeper(null));
        assertEquals(id, stub.startJob(sleeper(id)).getJobID());
    }

    @Test
    void anIdThatIsNotACanonicalUuidIsInvalid() {
        for (String bad : new String[]{"../escape", "ABCDEF00-0000-0000-0000-000000000000", "x"}) {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub.startJob(sleeper(bad)));
            assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode(), bad);
            assertTrue(e.getStatus().getDescription().contains("job_id"), e.getStatus().toString());
        }
    }

    @Test
    void everyHeartbeatCarriesMaxRunning() throws InterruptedException {
        BlockingQueue<Heartbeat> beats = new LinkedBlockingQueue<>();
        WorkerGrpc.newStub(channel).watch(WatchReq.newBuilder().setWorkerID(InJvmWorker.WORKER_ID)
                .setHeartbeatMillis(60_000).build(), new StreamObserver<>() {
            @Override
            public void onNext(Heartbeat beat) {
                beats.add(beat);
            }

            @Override
            public void onError(Throwable t) {
            }

            @Override
            public void onCompleted() {
            }
        });
        Heartbeat first = beats.poll(30, TimeUnit.SECONDS);
        assertNotNull(first);
        assertEquals(MAX_RUNNING, first.getMaxRunning());
    }
}
