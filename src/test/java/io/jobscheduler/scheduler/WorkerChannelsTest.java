package io.jobscheduler.scheduler;

import io.grpc.ManagedChannel;
import io.jobscheduler.config.Address;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.sameInstance;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The per-worker channels: one for calls, one for the watch, and a reused pool for output streams. */
class WorkerChannelsTest {
    private final WorkerChannels channels = new WorkerChannels(Optional.empty());
    // Channels connect lazily: no worker needs to listen for these tests.
    private final WorkerRecord worker = new WorkerRecord(UUID.randomUUID(), new Address("127.0.0.1", 9), Instant.now());

    @AfterEach
    void close() {
        channels.close();
    }

    @Test
    void callsTheWatchAndEachConcurrentStreamGetAConnectionOfTheirOwn() {
        channels.added(worker);
        ManagedChannel calls = channels.channel(worker.id()).orElseThrow();
        ManagedChannel watch = channels.watchChannel(worker.id()).orElseThrow();
        Set<ManagedChannel> streams = new HashSet<>();
        List<WorkerChannels.Lease> leases = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            WorkerChannels.Lease lease = channels.leaseStreamChannel(worker.id()).orElseThrow();
            leases.add(lease);
            streams.add(lease.channel());
        }
        assertThat(calls, not(sameInstance(watch)));
        assertThat("five streams at once, five connections", streams.size(), is(5));
        assertTrue(!streams.contains(calls) && !streams.contains(watch));
        leases.forEach(WorkerChannels.Lease::close);
    }

    @Test
    void aReturnedStreamChannelIsReusedByTheNextStream() {
        channels.added(worker);
        WorkerChannels.Lease first = channels.leaseStreamChannel(worker.id()).orElseThrow();
        ManagedChannel channel = first.channel();
        first.close();
        first.close(); // returning twice changes nothing
        WorkerChannels.Lease second = channels.leaseStreamChannel(worker.id()).orElseThrow();
        WorkerChannels.Lease third = channels.leaseStreamChannel(worker.id()).orElseThrow();
        assertThat(second.channel(), sameInstance(channel));
        assertThat(third.channel(), not(sameInstance(channel)));
        second.close();
        third.close();
    }

    @Test
    void idleStreamChannelsBeyondTheCapAreShutDown() {
        channels.added(worker);
        List<WorkerChannels.Lease> leases = new ArrayList<>();
        for (int i = 0; i < WorkerChannels.MAX_IDLE_STREAM_CHANNELS + 3; i++) {
            leases.add(channels.leaseStreamChannel(worker.id()).orElseThrow());
        }
        leases.forEach(WorkerChannels.Lease::close);
        long shut = leases.stream().filter(lease -> lease.channel().isShutdown()).count();
        assertThat(shut, is(3L));
    }

    @Test
    void aWorkerThatLeavesTakesAllItsChannelsWithIt() {
        channels.added(worker);
        ManagedChannel calls = channels.channel(worker.id()).orElseThrow();
        WorkerChannels.Lease lease = channels.leaseStreamChannel(worker.id()).orElseThrow();
        channels.removed(worker);
        assertTrue(calls.isShutdown() && lease.channel().isShutdown());
        assertThat(channels.leaseStreamChannel(worker.id()).isPresent(), is(false));
        assertThat(channels.channel(worker.id()).isPresent(), is(false));
        lease.close(); // a stream ending after its worker left returns nothing to any pool
    }
}
