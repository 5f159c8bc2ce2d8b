package io.jobscheduler.worker;

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.jobscheduler.config.Address;
import io.jobscheduler.config.JobRules;
import io.jobscheduler.config.WorkerCapacity;
import io.jobscheduler.config.WorkerSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** Worker settings on a free port of 127.0.0.1, and a plain grpc-java channel to dial one. */
public final class TestWorkers {
    private TestWorkers() {
    }

    public static WorkerSettings settings(int schedulerPort, Path workDir, Path dataDir) {
        return new WorkerSettings(Address.parse("127.0.0.1:0", true), Address.parse("127.0.0.1:0", true),
                Optional.empty(), new Address("127.0.0.1", schedulerPort), Optional.empty(), Duration.ofSeconds(2),
                workDir, dataDir, Duration.ofMillis(500), 1000, 1L << 30, JobRules.OPEN, false, WorkerCapacity.UNLIMITED);
    }

    public static ManagedChannel channel(int port) {
        return Grpc.newChannelBuilder("127.0.0.1:" + port, InsecureChannelCredentials.create()).build();
    }

    public static void close(ManagedChannel channel) throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
}
