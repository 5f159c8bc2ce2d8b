package io.jobscheduler.scheduler;

import io.jobscheduler.config.Address;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The workers the scheduler knows: one record per address, found by id.
 *
 * <p>State lives in maps guarded by one {@link ReentrantLock}. Changes are reported to a
 * {@link Listener} after the lock is released, in the order they happened, so a listener may
 * make or close a per-worker resource (a gRPC channel) without ever blocking the registry.
 */
public final class WorkerRegistry {

    /**
     * Told about every record that joins or leaves the registry. Calls never overlap and come in
     * the order of the changes; when {@code register} or {@code deregister} returns, the listener
     * has seen its changes. Calls run on the thread that made (or raced with) the change, so keep
     * them short: making or closing a grpc-java channel is fine, a network call is not.
     */
    public interface Listener {
        Listener NONE = new Listener() {
        };

        /** A record joined: a new worker, or a worker that registered again (after its old record left). */
        default void added(WorkerRecord worker) {
        }

        /** A record left: deregistered, or replaced by a newer registration from the same address. */
        default void removed(WorkerRecord worker) {
        }
    }

    private sealed interface Change {
        record Added(WorkerRecord worker) implements Change {
        }

        record Removed(WorkerRecord worker) implements Change {
        }
    }

    private final Clock clock;
    private final Listener listener;

    private final ReentrantLock lock = new ReentrantLock();
    // Insertion order is registration order: list() answers in it.
    private final LinkedHashMap<UUID, WorkerRecord> byId = new LinkedHashMap<>();
    private final Map<Address, UUID> byAddress = new HashMap<>();
    private final Queue<Change> undelivered = new ArrayDeque<>();
    // Ids whose newest record the listener has not been told of yet. find and list hide them, so
    // no caller sees a worker before the listener has made its resources (its gRPC channel).
    private final Set<UUID> unannounced = new HashSet<>();

    // Held while changes are handed to the listener, never together with `lock` held by the same
    // thread for longer than polling one change.
    private final ReentrantLock delivery = new ReentrantLock();

    public WorkerRegistry(Clock clock, Listener listener) {
        this.clock = Objects.requireNonNull(clock, "clock");
        this.listener = Objects.requireNonNull(listener, "listener");
    }

    public WorkerRegistry(Clock clock) {
        this(clock, Listener.NONE);
    }

    /**
     * Records the worker at {@code address}. {@code requestedId} (may be null or empty) is the
     * id the worker held before: it is granted when the registry does not know it or knows it at
     * this same address; otherwise, or when it is not a UUID, the worker gets a new id. A record
     * already held by this address is replaced.
     */
    public WorkerRecord register(Address address, String requestedId) {
        Objects.requireNonNull(address, "address");
        Optional<UUID> requested = parseId(requestedId);
        WorkerRecord added;
        lock.lock();
        try {
            UUID id = requested
                    .filter(wanted -> {
                        WorkerRecord holder = byId.get(wanted);
                        return holder == null || holder.address().equals(address);
                    })
                    .orElseGet(UUID::randomUUID);
            UUID previous = byAddress.remove(address);
            if (previous != null) {
                unannounced.remove(previous);
                undelivered.add(new Change.Removed(byId.remove(previous)));
            }
            added = new WorkerRecord(id, address, clock.instant());
            byId.put(id, added);
            byAddress.put(address, id);
            unannounced.add(id);
            undelivered.add(new Change.Added(added));
        } finally {
            lock.unlock();
        }
        deliver();
        return added;
    }

    /** Removes the worker with this id; false, changing nothing, when the id is unknown. */
    public boolean deregister(UUID id) {
        WorkerRecord removed;
        lock.lock();
        try {
            removed = byId.remove(id);
            if (removed == null) {
                return false;
            }
            byAddress.remove(removed.address());
            unannounced.remove(id);
            undelivered.add(new Change.Removed(removed));
        } finally {
            lock.unlock();
        }
        deliver();
        return true;
    }

    public Optional<WorkerRecord> find(UUID id) {
        lock.lock();
        try {
            return unannounced.contains(id) ? Optional.empty() : Optional.ofNullable(byId.get(id));
        } finally {
            lock.unlock();
        }
    }

    /** Every worker, oldest registration first. */
    public List<WorkerRecord> list() {
        lock.lock();
        try {
            return byId.values().stream().filter(worker -> !unannounced.contains(worker.id())).toList();
        } finally {
            lock.unlock();
        }
    }

    /** Parses a worker id as sent by a peer; empty for anything that is not a UUID. */
    public static Optional<UUID> parseId(String text) {
        if (text == null || text.length() != 36) {
            return Optional.empty();
        }
        try {
            return Optional.of(UUID.fromString(text));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    // Whoever holds `delivery` hands over every pending change, its own and other threads', in
    // order; a thread that finds the queue already drained has had its changes delivered.
    private void deliver() {
        delivery.lock();
        try {
            Change change;
            while ((change = nextUndelivered()) != null) {
                switch (change) {
                    case Change.Added(WorkerRecord worker) -> {
                        listener.added(worker);
                        announced(worker);
                    }
                    case Change.Removed(WorkerRecord worker) -> listener.removed(worker);
                }
            }
        } finally {
            delivery.unlock();
        }
    }

    private void announced(WorkerRecord worker) {
        lock.lock();
        try {
            // A newer record under the same id waits for its own announcement.
            if (worker.equals(byId.get(worker.id()))) {
                unannounced.remove(worker.id());
            }
        } finally {
            lock.unlock();
        }
    }

    private Change nextUndelivered() {
        lock.lock();
        try {
            return undelivered.poll();
        } finally {
            lock.unlock();
        }
    }
}
