package io.jobscheduler.worker;

import io.grpc.ManagedChannel;
import io.jobscheduler.config.Address;
import io.jobscheduler.grpc.ListJobsReq;
import io.jobscheduler.grpc.WorkerGrpc;
import io.jobscheduler.scheduler.SchedulerServer;
import io.jobscheduler.scheduler.TestServers;
import io.jobscheduler.scheduler.WorkerRecord;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A worker joins the cluster whatever the start order, keeps its id, and leaves on close. */
class SchedulerLinkTest {
    @TempDir
    Path work;
    @TempDir
    Path data;

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    @Test
    void aWorkerRegistersWithASchedulerThatStartsAfterItAndDeregistersOnClose() throws Exception {
        int grpcPort = freePort();
        try (WorkerServer worker = WorkerServer.start(TestWorkers.settings(grpcPort, work, data))) {
            assertThat(worker.awaitRegistered(Duration.ofMillis(300)), is(false));
            // Not registered, and still serving jobs: the registration retries in the background.
            ManagedChannel channel = TestWorkers.channel(worker.port());
            try {
                assertThat(WorkerGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                        .listJobs(ListJobsReq.getDefaultInstance()).getJobsCount(), is(0));
            } finally {
                TestWorkers.close(channel);
            }
            try (SchedulerServer scheduler = SchedulerServer.start(
                    TestServers.settings(Optional.empty(), "127.0.0.1:0", "127.0.0.1:" + grpcPort))) {
                assertTrue(worker.awaitRegistered(Duration.ofSeconds(10)), "registered once the scheduler is up");
                WorkerRecord record = scheduler.registry().list().getFirst();
                assertThat(record.address(), is(new Address("127.0.0.1", worker.port())));
                assertThat(Files.readString(data.resolve("worker-id")).strip(), is(record.id().toString()));

                worker.close();
                assertThat(scheduler.registry().list().isEmpty(), is(true));
            }
        }
    }

    @Test
    void aRestartedWorkerAsksForAndKeepsItsId() throws Exception {
        try (SchedulerServer scheduler = SchedulerServer.start(TestServers.plaintext())) {
            UUID first;
            try (WorkerServer worker = WorkerServer.start(TestWorkers.settings(scheduler.grpcPort(), work, data))) {
                assertTrue(worker.awaitRegistered(Duration.ofSeconds(10)));
                first = scheduler.registry().list().getFirst().id();
            }
            try (WorkerServer again = WorkerServer.start(TestWorkers.settings(scheduler.grpcPort(), work, data))) {
                assertTrue(again.awaitRegistered(Duration.ofSeconds(10)));
                assertThat(scheduler.registry().list().getFirst().id(), is(first));
            }
        }
    }
}
