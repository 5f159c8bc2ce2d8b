package io.jobscheduler.worker;

import io.grpc.stub.StreamObserver;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.WebServerConfig;
import io.helidon.webserver.grpc.GrpcRouting;
import io.helidon.webserver.testing.junit5.ServerTest;
import io.helidon.webserver.testing.junit5.SetUpServer;
import io.jobscheduler.config.Address;
import io.jobscheduler.grpc.DeregisterReq;
import io.jobscheduler.grpc.DeregisterRes;
import io.jobscheduler.grpc.RegisterReq;
import io.jobscheduler.grpc.RegisterRes;
import io.jobscheduler.grpc.SchedulerGrpc;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a worker tells the scheduler it supports, as a scheduler of our own in this JVM receives it. */
@ServerTest
@Timeout(60)
class SchedulerLinkFeaturesTest {
    private static final CompletableFuture<RegisterReq> RECEIVED = new CompletableFuture<>();

    @TempDir
    Path data;

    private final WebServer scheduler;

    SchedulerLinkFeaturesTest(WebServer scheduler) {
        this.scheduler = scheduler;
    }

    @SetUpServer
    static void server(WebServerConfig.Builder server) {
        server.addRouting(GrpcRouting.builder().service(SchedulerGrpc.bindService(new SchedulerGrpc.AsyncService() {
            @Override
            public void registerWorker(RegisterReq request, StreamObserver<RegisterRes> response) {
                RECEIVED.complete(request);
                response.onNext(RegisterRes.newBuilder().setSuccess(true).setWorkerID("w-1").build());
                response.onCompleted();
            }

            @Override
            public void deregisterWorker(DeregisterReq request, StreamObserver<DeregisterRes> response) {
                response.onNext(DeregisterRes.newBuilder().setSuccess(true).build());
                response.onCompleted();
            }
        })));
    }

    @Test
    void aWorkerAdvertisesJobEventsAndTheShapesOfAStart() throws Exception {
        var settings = TestWorkers.settings(scheduler.port(), data, data);
        try (SchedulerLink link = new SchedulerLink(settings, new SchedulerContact(Clock.systemUTC()),
                List.of("memory", "output"))) {
            link.start(new Address("127.0.0.1", 1234));
            assertTrue(link.awaitRegistered(Duration.ofSeconds(30)));
            RegisterReq request = RECEIVED.get(30, TimeUnit.SECONDS);
            assertEquals(List.of("events", "args", "env", "timeout", "user", "limits"), request.getFeaturesList());
            assertEquals(List.of("memory", "output"), request.getEnforcedLimitsList());
            assertEquals("127.0.0.1:1234", request.getAddress());
        }
    }
}
