package io.jobscheduler.scheduler;

import io.grpc.Grpc;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.jobscheduler.config.Address;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WorkerRegistryTest {
    // Two gRPC servers with no service: their Watch answers UNIMPLEMENTED, so they count as alive.
    private static Server serverA;
    private static Server serverB;
    private static Address A;
    private static Address B;

    @BeforeAll
    static void servers() throws java.io.IOException {
        serverA = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create()).build().start();
        serverB = Grpc.newServerBuilderForPort(0, InsecureServerCredentials.create()).build().start();
        A = new Address("127.0.0.1", serverA.getPort());
        B = new Address("127.0.0.1", serverB.getPort());
    }

    @AfterAll
    static void stopServers() {
        serverA.shutdownNow();
        serverB.shutdownNow();
    }

    private final WorkerRegistry registry = registry(new StepClock());

    static WorkerRegistry registry(java.time.Clock clock) {
        JobTable table = new JobTable(100);
        return new WorkerRegistry(clock, new WorkerConnections.Factory(java.util.Optional.empty()),
                new WorkerWatch(Duration.ofSeconds(5), Duration.ofMinutes(1), clock,
                        new JobSync(table, Duration.ofSeconds(1), clock)));
    }

    @AfterEach
    void close() {
        registry.close();
    }

    private ManagedChannel channel(UUID id) {
        return ((WorkerLookup.Alive) registry.lookup(id)).channel();
    }

    @Test
    void registeringANewAddressGivesANewIdAndTheClocksTime() {
        WorkerRecord worker = registry.register(A, "", List.of());

        assertEquals(A, worker.address());
        assertEquals(StepClock.START, worker.registeredAt());
        assertEquals(List.of(worker), registry.list());
        assertEquals(worker, registry.find(worker.id()).orElseThrow());
        assertEquals(worker, ((WorkerLookup.Alive) registry.lookup(worker.id())).worker().record);
    }

    @Test
    void anUnknownRequestedIdIsGranted() {
        UUID wanted = UUID.randomUUID();

        assertEquals(wanted, registry.register(A, wanted.toString(), List.of()).id());
    }

    @Test
    void aRequestedIdKnownAtTheSameAddressIsGrantedAndTheRecordReplaced() {
        WorkerRecord first = registry.register(A, null, List.of());
        ManagedChannel old = channel(first.id());

        WorkerRecord again = registry.register(A, first.id().toString(), List.of());

        assertEquals(first.id(), again.id());
        assertTrue(again.registeredAt().isAfter(first.registeredAt()));
        assertEquals(List.of(again), registry.list());
        assertTrue(old.isShutdown(), "the replaced record's channels are closed");
        assertNotEquals(old, channel(again.id()));
    }

    @Test
    void aRequestedIdHeldByAnotherAddressIsRefusedWithANewId() {
        WorkerRecord holder = registry.register(A, null, List.of());

        WorkerRecord other = registry.register(B, holder.id().toString(), List.of());

        assertNotEquals(holder.id(), other.id());
        assertEquals(List.of(holder, other), registry.list());
    }

    private static final io.jobscheduler.security.Identity ALPHA =
            new io.jobscheduler.security.Identity(io.jobscheduler.security.PeerRole.WORKER, "alpha");

    @Test
    void anOwnedIdFollowsItsWorkerToANewAddressAndClosesTheOldRecord() {
        UUID owned = UUID.randomUUID();
        WorkerRecord first = registry.registerOwned(owned, ALPHA, A, List.of(), List.of());
        ManagedChannel old = channel(owned);

        WorkerRecord moved = registry.registerOwned(owned, ALPHA, B, List.of(), List.of());

        assertEquals(owned, moved.id());
        assertEquals(B, moved.address());
        assertEquals(List.of(moved), registry.list());
        assertTrue(old.isShutdown(), "the record at " + first.address() + " is retired");
    }

    @Test
    void anOwnedIdTakesItsAddressFromWhateverRecordHeldIt() {
        WorkerRecord before = registry.register(A, null, List.of());
        UUID owned = UUID.randomUUID();

        WorkerRecord worker = registry.registerOwned(owned, ALPHA, A, List.of(), List.of());

        assertEquals(List.of(worker), registry.list());
        assertTrue(registry.find(before.id()).isEmpty());
    }

    @Test
    void aRequestedIdThatIsNotAUuidIsIgnored() {
        WorkerRecord worker = registry.register(A, "not-a-uuid", List.of());

        assertEquals(List.of(worker), registry.list());
        assertEquals(36, worker.id().toString().length());
    }

    @Test
    void registeringAgainFromAnAddressReplacesItsRecordAndForgetsTheOldId() {
        WorkerRecord first = registry.register(A, null, List.of());
        ManagedChannel old = channel(first.id());

        WorkerRecord second = registry.register(A, null, List.of());

        assertNotEquals(first.id(), second.id());
        assertEquals(List.of(second), registry.list());
        assertTrue(registry.find(first.id()).isEmpty());
        assertInstanceOf(WorkerLookup.Unknown.class, registry.lookup(first.id()));
        assertTrue(old.isShutdown());
    }

    @Test
    void listIsInRegistrationOrder() {
        WorkerRecord a = registry.register(A, null, List.of());
        WorkerRecord b = registry.register(B, null, List.of());
        WorkerRecord a2 = registry.register(A, null, List.of());

        assertEquals(List.of(b, a2), registry.list());
        assertTrue(registry.find(a.id()).isEmpty());
    }

    @Test
    void deregisteringAKnownIdRemovesItAndClosesItsChannels() {
        WorkerRecord worker = registry.register(A, null, List.of());
        ManagedChannel old = channel(worker.id());

        assertTrue(registry.deregister(worker.id()));

        assertTrue(registry.list().isEmpty());
        assertTrue(registry.find(worker.id()).isEmpty());
        assertTrue(old.isShutdown());
        assertInstanceOf(WorkerLookup.Unknown.class, registry.lookup(worker.id()));
        // The address is free again: a new registration from it is a plain addition.
        WorkerRecord back = registry.register(A, worker.id().toString(), List.of());
        assertEquals(worker.id(), back.id());
        assertInstanceOf(WorkerLookup.Alive.class, registry.lookup(worker.id()));
    }

    @Test
    void deregisteringAnUnknownIdChangesNothing() {
        WorkerRecord worker = registry.register(A, null, List.of());

        assertFalse(registry.deregister(UUID.randomUUID()));

        assertEquals(List.of(worker), registry.list());
        assertFalse(channel(worker.id()).isShutdown());
    }

    @Test
    void manyVirtualThreadsRegisteringAndDeregisteringLoseAndDuplicateNothing() throws Exception {
        int threads = 100;
        int rounds = 20;
        WorkerRegistry shared = registry;
        List<Future<WorkerRecord>> kept = new ArrayList<>();
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int t = 0; t < threads; t++) {
                // Loopback addresses nobody listens on (not 127.0.0.1, whose ports other tests use).
                Address address = new Address("127.0.2." + (t + 1), 9);
                kept.add(executor.submit(() -> {
                    WorkerRecord last = null;
                    for (int r = 0; r < rounds; r++) {
                        WorkerRecord worker = shared.register(address, last == null ? null : last.id().toString(), List.of());
                        if (last != null) {
                            assertEquals(last.id(), worker.id(), "the same address keeps its id");
                        }
                        // The one lookup sees this record and its open channel, never a half-made one.
                        // (Down when its watch was refused already: nobody listens there.)
                        WorkerRecord seen = switch (shared.lookup(worker.id())) {
                            case WorkerLookup.Alive alive -> alive.worker().record;
                            case WorkerLookup.Down down -> down.worker();
                            case WorkerLookup.Unknown unknown -> null;
                        };
                        assertEquals(worker, seen);
                        if (r % 2 == 0) {
                            assertTrue(shared.deregister(worker.id()));
                            assertFalse(shared.deregister(worker.id()));
                        }
                        last = worker;
                    }
                    return last;
                }));
            }
        }
        Set<UUID> expected = new HashSet<>();
        for (Future<WorkerRecord> future : kept) {
            assertTrue(expected.add(future.get().id()), "an id was handed to two addresses");
        }
        List<WorkerRecord> listed = shared.list();
        assertEquals(threads, listed.size());
        assertEquals(expected, new HashSet<>(listed.stream().map(WorkerRecord::id).toList()));
        assertEquals(threads, listed.stream().map(WorkerRecord::address).distinct().count());
        listed.forEach(w -> assertFalse(shared.lookup(w.id()) instanceof WorkerLookup.Unknown, w.toString()));
        IntStream.range(1, listed.size()).forEach(i ->
                assertTrue(listed.get(i - 1).registeredAt().isBefore(listed.get(i).registeredAt())));
    }
}
