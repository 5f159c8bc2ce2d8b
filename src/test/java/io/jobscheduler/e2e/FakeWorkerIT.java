package io.jobscheduler.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.jobscheduler.grpc.QueryJobReq;
import io.jobscheduler.grpc.QueryJobRes;
import io.jobscheduler.grpc.RegisterReq;
import io.jobscheduler.grpc.SchedulerGrpc;
import io.jobscheduler.grpc.StartJobReq;
import io.jobscheduler.grpc.StartJobRes;
import io.jobscheduler.grpc.WorkerGrpc;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.io.TempDir;

import static io.jobscheduler.e2e.Cluster.object;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The packaged scheduler against a worker that is not ours: a grpc-java server in the test JVM
 * that speaks only part of the contract (no StreamJob, no StopJob, only the original QueryJob
 * fields) and answers some jobs with a refusal or not in time.
 */
class FakeWorkerIT {
    @TempDir
    static Path dir;
    static Cluster cluster;
    static Server fake;
    static String fakeId;
    /** Holds the slow QueryJob until the test is over (or the scheduler gives up on it). */
    static final CountDownLatch release = new CountDownLatch(1);

    @RegisterExtension
    final TestWatcher logs = Cluster.logsOnFailure(() -> cluster);

    @BeforeAll
    static void start() throws IOException {
        cluster = Cluster.start(dir, 0, Map.of("JOBSCHEDULER_WORKERS_CALL_TIMEOUT", "500ms"), Map.of());
        fake = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                .addService(new PartialWorker())
                .build()
                .start();
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", cluster.grpcPort()).usePlaintext().build();
        try {
            fakeId = SchedulerGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS)
                    .registerWorker(RegisterReq.newBuilder().setAddress("127.0.0.1:" + fake.getPort()).build())
                    .getWorkerID();
        } finally {
            channel.shutdownNow();
        }
        assertEquals(fakeId, cluster.get("/workers/" + fakeId).json().get("id").asText());
        // The first call on the scheduler's new channel connects it (and loads Netty in a cold
        // JVM), which can take longer than the short call timeout: warm it up first.
        Cluster.await("a first answer from the fake worker", Duration.ofSeconds(30),
                () -> cluster.get("/jobs/warm-up?worker_id=" + fakeId).status() == 200);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        release.countDown();
        if (fake != null) {
            fake.shutdownNow().awaitTermination(10, TimeUnit.SECONDS);
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    /** Every StartJob the fake worker was sent. */
    static final List<StartJobReq> starts = new CopyOnWriteArrayList<>();

    /** StartJob answers the command as the job id; QueryJob's answer depends on the job id. */
    static final class PartialWorker extends WorkerGrpc.WorkerImplBase {
        @Override
        public void startJob(StartJobReq request, StreamObserver<StartJobRes> response) {
            starts.add(request);
            response.onNext(StartJobRes.newBuilder().setJobID(request.getCommand()).build());
            response.onCompleted();
        }

        @Override
        public void queryJob(QueryJobReq request, StreamObserver<QueryJobRes> response) {
            Status refusal = switch (request.getJobID()) {
                case "invalid" -> Status.INVALID_ARGUMENT.withDescription("malformed job id");
                case "missing" -> Status.NOT_FOUND.withDescription("job missing not found");
                case "precondition" -> Status.FAILED_PRECONDITION.withDescription("cannot");
                case "unavailable" -> Status.UNAVAILABLE.withDescription("going away");
                case "internal" -> Status.INTERNAL.withDescription("disk on fire");
                case "permission" -> Status.PERMISSION_DENIED;
                default -> null;
            };
            if (refusal != null) {
                response.onError(refusal.asRuntimeException());
                return;
            }
            if (request.getJobID().equals("slow")) {
                var call = (ServerCallStreamObserver<QueryJobRes>) response;
                call.setOnCancelHandler(() -> { });
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                if (call.isCancelled()) {
                    return;
                }
            }
            // The original contract: no state, exit code or times.
            response.onNext(QueryJobRes.newBuilder().setDone(true).setError(false).build());
            response.onCompleted();
        }
    }

    @Test
    void aWorkerWithoutStreamJobIs501WithAJsonBodyNotAHang() {
        String jobId = cluster.startJob(fakeId, "job-1", "");
        assertEquals("job-1", jobId);
        cluster.get("/jobs/" + jobId + "/output").assertError(501);
        cluster.get("/jobs/" + jobId + "/output?follow=false&offset=5").assertError(501);
        cluster.post("/stop", object("job_id", jobId).toString()).assertError(501);
        // The scheduler is none the worse for it.
        assertEquals(200, cluster.get("/jobs/" + jobId).status());
    }

    @Test
    void aWorkerOfTheOriginalContractIsNeverSentWhatItDoesNotAdvertise() {
        int before = starts.size();
        Map<String, ObjectNode> byFeature = Map.of(
                "args", object("worker_id", fakeId, "command", "printf", "args", List.of("%s", "x")),
                "env", object("worker_id", fakeId, "command", "env", "env", Map.of("A", "1")),
                "timeout", object("worker_id", fakeId, "command", "sleep", "path", "5", "timeout", "1s"),
                "user", object("worker_id", fakeId, "command", "id", "user", "nobody"),
                "limits", object("worker_id", fakeId, "command", "true", "limits", Map.of("memory", "64M")));
        byFeature.forEach((feature, body) -> {
            JsonNode error = cluster.post("/start", body).assertError(501);
            assertEquals("worker '" + fakeId + "' does not support '" + feature + "' (it does not advertise the feature)",
                    error.get("error").asText());
        });
        assertEquals(before, starts.size(), "no StartJob reached the worker");
        // Empty args and env ask for nothing new: the original contract's start.
        assertEquals("plain", cluster.post("/start", object("worker_id", fakeId, "command", "plain",
                "args", List.of(), "env", Map.of())).json().get("job_id").asText());
        assertEquals(0, starts.getLast().getArgsCount());
    }

    @Test
    void aStartWithoutAWorkerIsPlacedOnAWorkerOfTheOriginalContractWhichIsNeverAskedToAdoptAnId() {
        // The fake is the cluster's one worker: it advertises nothing, so it has no capacity to
        // respect and cannot adopt ids; a placed start is sent at once, as the original contract's.
        Cluster.Reply placed = cluster.post("/start", object("command", "placed"));
        assertEquals(201, placed.status(), placed.toString());
        assertEquals(fakeId, placed.json().get("worker_id").asText(), "the answer names the worker it chose");
        assertEquals("placed", placed.json().get("job_id").asText(), "the job has the id the worker made");
        StartJobReq sent = starts.getLast();
        assertEquals("placed", sent.getCommand());
        assertEquals("", sent.getJobId(), "no job_id is sent to a worker that does not advertise it");
        // A start needing a feature no registered worker advertises could never be placed.
        cluster.post("/start", object("command", "printf", "args", List.of("x"))).assertError(422);
    }

    @Test
    void aWorkerSlowerThanTheCallTimeoutIs504() {
        cluster.post("/query", object("job_id", "slow", "worker_id", fakeId).toString()).assertError(504);
        cluster.get("/jobs/slow?worker_id=" + fakeId).assertError(504);
        assertEquals(200, cluster.get("/workers").status());
    }

    @Test
    void eachRefusalOfAWorkerKeepsItsMeaning() {
        Map<String, Integer> expected = Map.of("invalid", 400, "missing", 404, "precondition", 422,
                "unavailable", 503, "internal", 502, "permission", 403);
        expected.forEach((jobId, status) -> {
            JsonNode error = cluster.post("/query", object("job_id", jobId, "worker_id", fakeId).toString())
                    .assertError(status);
            if (status != 404 && status != 502) {
                assertTrue(error.get("error").asText().contains(fakeId), error.toString());
            }
            cluster.get("/jobs/" + jobId + "?worker_id=" + fakeId).assertError(status);
        });
    }

    @Test
    void aWorkerOfTheOriginalContractIsQueriedWithStatesDerivedAndNullsForWhatItDoesNotSay() {
        String jobId = cluster.startJob(fakeId, "job-2", "");
        JsonNode status = cluster.get("/jobs/" + jobId).json();
        assertEquals(jobId, status.get("job_id").asText());
        assertEquals(fakeId, status.get("worker_id").asText());
        assertEquals("SUCCEEDED", status.get("state").asText(), status.toString());
        assertTrue(status.get("done").asBoolean());
        for (String field : new String[] {"exit_code", "signal", "started_at", "finished_at"}) {
            assertTrue(status.has(field) && status.get(field).isNull(), field + " in " + status);
        }
    }
}
