package io.jobscheduler.scheduler;

import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.Server;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.jobscheduler.config.Address;
import io.jobscheduler.grpc.Heartbeat;
import io.jobscheduler.grpc.JobEvent;
import io.jobscheduler.grpc.ListJobsReq;
import io.jobscheduler.grpc.ListJobsRes;
import io.jobscheduler.grpc.QueryJobReq;
import io.jobscheduler.grpc.QueryJobRes;
import io.jobscheduler.grpc.StartJobReq;
import io.jobscheduler.grpc.StartJobRes;
import io.jobscheduler.grpc.WatchReq;
import io.jobscheduler.grpc.WorkerGrpc;
import io.jobscheduler.rpc.CapacityRefusal;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A worker in the test JVM (grpc-java on a free port of 127.0.0.1) whose Watch streams the test
 * drives by hand, whose ListJobs answers the snapshot the test sets (held until released when
 * asked), and which counts the calls it gets.
 */
final class ScriptedWorker extends WorkerGrpc.WorkerImplBase implements AutoCloseable {
    final BlockingQueue<ServerCallStreamObserver<Heartbeat>> opened = new LinkedBlockingQueue<>();
    /** The request of each Watch, in the order the streams were opened. */
    final BlockingQueue<WatchReq> watchRequests = new LinkedBlockingQueue<>();
    final AtomicReference<ListJobsRes> snapshot = new AtomicReference<>(ListJobsRes.getDefaultInstance());
    final AtomicReference<CountDownLatch> listGate = new AtomicReference<>(new CountDownLatch(0));
    final AtomicInteger lists = new AtomicInteger();
    final AtomicInteger queries = new AtomicInteger();
    final AtomicInteger starts = new AtomicInteger();
    final AtomicReference<StartJobRes> started = new AtomicReference<>();
    /** How many starts, counted from the first, are refused as full (RESOURCE_EXHAUSTED with the capacity trailer). */
    final AtomicInteger refuseAsFull = new AtomicInteger();
    private final Server server;

    ScriptedWorker() throws IOException {
        server = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create()).addService(this).build().start();
    }

    Address address() {
        return new Address("127.0.0.1", server.getPort());
    }

    /** The next Watch stream the scheduler opens. */
    ServerCallStreamObserver<Heartbeat> nextStream() throws InterruptedException {
        ServerCallStreamObserver<Heartbeat> stream = opened.poll(10, TimeUnit.SECONDS);
        assertNotNull(stream, "the scheduler opened no watch within 10 s");
        return stream;
    }

    static Heartbeat beat(String bootId, long seq, JobEvent... events) {
        return Heartbeat.newBuilder().setBootId(bootId).setSeq(seq).addAllEvents(List.of(events)).build();
    }

    static JobEvent event(String jobId, String state) {
        JobEvent.Builder event = JobEvent.newBuilder().setJobId(jobId).setState(state).setStartedAtMillis(1_000);
        if (!state.equals("RUNNING")) {
            event.setExitCode(state.equals("SUCCEEDED") ? 0 : 1).setFinishedAtMillis(2_000);
        }
        return event.build();
    }

    /** Waits (polling, with a deadline) until {@code condition} holds. */
    static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, what + " not reached within 10 s");
            Thread.sleep(2);
        }
    }

    @Override
    public void watch(WatchReq request, StreamObserver<Heartbeat> response) {
        watchRequests.add(request);
        opened.add((ServerCallStreamObserver<Heartbeat>) response);
    }

    @Override
    public void listJobs(ListJobsReq request, StreamObserver<ListJobsRes> response) {
        lists.incrementAndGet();
        try {
            listGate.get().await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        response.onNext(snapshot.get());
        response.onCompleted();
    }

    @Override
    public void queryJob(QueryJobReq request, StreamObserver<QueryJobRes> response) {
        queries.incrementAndGet();
        response.onNext(QueryJobRes.newBuilder().setState("RUNNING").build());
        response.onCompleted();
    }

    @Override
    public void startJob(StartJobReq request, StreamObserver<StartJobRes> response) {
        if (starts.incrementAndGet() <= refuseAsFull.get()) {
            // What a worker at its max_running answers (the scheduler's view was stale).
            response.onError(CapacityRefusal.full("the worker runs its max_running of jobs"));
            return;
        }
        // A start that names its job (feature job_id) is answered with that id, else with the command.
        response.onNext(started.get() != null ? started.get()
                : StartJobRes.newBuilder().setJobID(request.getJobId().isEmpty() ? request.getCommand()
                        : request.getJobId()).build());
        response.onCompleted();
    }

    @Override
    public void close() throws InterruptedException {
        listGate.get().countDown();
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
}
