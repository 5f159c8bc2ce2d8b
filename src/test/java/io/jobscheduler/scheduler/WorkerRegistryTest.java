package io.jobscheduler.scheduler;

import io.jobscheduler.config.Address;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class WorkerRegistryTest {
    private static final Address A = new Address("127.0.0.1", 30001);
    private static final Address B = new Address("127.0.0.1", 30002);

    private final List<String> events = new CopyOnWriteArrayList<>();
    private final WorkerRegistry registry = new WorkerRegistry(new StepClock(), new WorkerRegistry.Listener() {
        @Override
        public void added(WorkerRecord worker) {
            events.add("added " + worker.id() + " " + worker.address());
        }

        @Override
        public void removed(WorkerRecord worker) {
            events.add("removed " + worker.id() + " " + worker.address());
        }
    });

    @Test
    void registeringANewAddressGivesANewIdAndTheClocksTime() {
        WorkerRecord worker = registry.register(A, "");

        assertEquals(A, worker.address());
        assertEquals(StepClock.START, worker.registeredAt());
        assertEquals(List.of(worker), registry.list());
        assertEquals(worker, registry.find(worker.id()).orElseThrow());
        assertEquals(List.of("added " + worker.id() + " " + A), events);
    }

    @Test
    void anUnknownRequestedIdIsGranted() {
        UUID wanted = UUID.randomUUID();

        assertEquals(wanted, registry.register(A, wanted.toString()).id());
    }

    @Test
    void aRequestedIdKnownAtTheSameAddressIsGrantedAndTheRecordReplaced() {
        WorkerRecord first = registry.register(A, null);

        WorkerRecord again = registry.register(A, first.id().toString());

        assertEquals(first.id(), again.id());
        assertTrue(again.registeredAt().isAfter(first.registeredAt()));
        assertEquals(List.of(again), registry.list());
        assertEquals(List.of("added " + first.id() + " " + A, "removed " + first.id() + " " + A,
                "added " + first.id() + " " + A), events);
    }

    @Test
    void aRequestedIdHeldByAnotherAddressIsRefusedWithANewId() {
        WorkerRecord holder = registry.register(A, null);

        WorkerRecord other = registry.register(B, holder.id().toString());

        assertNotEquals(holder.id(), other.id());
        assertEquals(List.of(holder, other), registry.list());
    }

    @Test
    void aRequestedIdThatIsNotAUuidIsIgnored() {
        WorkerRecord worker = registry.register(A, "not-a-uuid");

        assertEquals(List.of(worker), registry.list());
        assertEquals(36, worker.id().toString().length());
    }

    @Test
    void registeringAgainFromAnAddressReplacesItsRecordAndForgetsTheOldId() {
        WorkerRecord first = registry.register(A, null);

        WorkerRecord second = registry.register(A, null);

        assertNotEquals(first.id(), second.id());
        assertEquals(List.of(second), registry.list());
        assertTrue(registry.find(first.id()).isEmpty());
        assertEquals(List.of("added " + first.id() + " " + A, "removed " + first.id() + " " + A,
                "added " + second.id() + " " + A), events);
    }

    @Test
    void listIsInRegistrationOrder() {
        WorkerRecord a = registry.register(A, null);
        WorkerRecord b = registry.register(B, null);
        WorkerRecord a2 = registry.register(A, null);

        assertEquals(List.of(b, a2), registry.list());
        assertTrue(registry.find(a.id()).isEmpty());
    }

    @Test
    void deregisteringAKnownIdRemovesItAndTellsTheListener() {
        WorkerRecord worker = registry.register(A, null);

        assertTrue(registry.deregister(worker.id()));

        assertTrue(registry.list().isEmpty());
        assertTrue(registry.find(worker.id()).isEmpty());
        assertEquals("removed " + worker.id() + " " + A, events.getLast());
        // The address is free again: a new registration from it is a plain addition.
        WorkerRecord back = registry.register(A, worker.id().toString());
        assertEquals(worker.id(), back.id());
        assertEquals("added " + worker.id() + " " + A, events.getLast());
    }

    @Test
    void deregisteringAnUnknownIdChangesNothing() {
        WorkerRecord worker = registry.register(A, null);
        events.clear();

        assertFalse(registry.deregister(UUID.randomUUID()));

        assertEquals(List.of(worker), registry.list());
        assertTrue(events.isEmpty());
    }

    @Test
    void aWorkerIsFoundAndListedOnlyOnceTheListenerHasSeenIt() throws Exception {
        // The scheduler's listener makes the worker's channel: a worker visible before that
        // answered 503 "left the cluster" to the first requests after registration.
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        AtomicReference<WorkerRecord> seen = new AtomicReference<>();
        WorkerRegistry slow = new WorkerRegistry(new StepClock(), new WorkerRegistry.Listener() {
            @Override
            public void added(WorkerRecord worker) {
                seen.set(worker);
                entered.countDown();
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<WorkerRecord> registering = executor.submit(() -> slow.register(A, ""));
            assertTrue(entered.await(10, TimeUnit.SECONDS));
            try {
                assertTrue(slow.find(seen.get().id()).isEmpty(), "found before the listener has seen it");
                assertEquals(List.of(), slow.list());
            } finally {
                release.countDown();
            }
            WorkerRecord worker = registering.get(10, TimeUnit.SECONDS);
            assertEquals(worker, slow.find(worker.id()).orElseThrow());
            assertEquals(List.of(worker), slow.list());
        }
    }

    @Test
    void manyVirtualThreadsRegisteringAndDeregisteringLoseAndDuplicateNothing() throws Exception {
        int threads = 200;
        int rounds = 50;
        Set<String> live = java.util.concurrent.ConcurrentHashMap.newKeySet();
        WorkerRegistry shared = new WorkerRegistry(new StepClock(), new WorkerRegistry.Listener() {
            @Override
            public void added(WorkerRecord worker) {
                assertTrue(live.add(worker.id() + "@" + worker.address()), "added twice: " + worker);
            }

            @Override
            public void removed(WorkerRecord worker) {
                assertTrue(live.remove(worker.id() + "@" + worker.address()), "removed before added: " + worker);
            }
        });
        List<Future<WorkerRecord>> kept = new ArrayList<>();
        try (ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int t = 0; t < threads; t++) {
                Address address = new Address("10.0.0." + (t % 250 + 1), 20000 + t);
                kept.add(executor.submit(() -> {
                    WorkerRecord last = null;
                    for (int r = 0; r < rounds; r++) {
                        WorkerRecord worker = shared.register(address, last == null ? null : last.id().toString());
                        if (last != null) {
                            assertEquals(last.id(), worker.id(), "the same address keeps its id");
                        }
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
        // The listener saw exactly what the registry holds.
        assertEquals(new HashSet<>(listed.stream().map(w -> w.id() + "@" + w.address()).toList()), live);
        IntStream.range(1, listed.size()).forEach(i ->
                assertTrue(listed.get(i - 1).registeredAt().isBefore(listed.get(i).registeredAt())));
    }
}
