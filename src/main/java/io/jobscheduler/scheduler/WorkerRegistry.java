package io.jobscheduler.scheduler;

import io.jobscheduler.config.Address;
import io.jobscheduler.security.Identity;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;

/**
 * The workers the scheduler knows: one {@link Worker} per address, found by id, each holding its
 * record, channels, health and job-event state. {@link #lookup} is the one question the gateway
 * asks. A worker's channels are made before it is visible and closed after it is gone; its watch
 * opens once it is visible. The maps are guarded by one {@link ReentrantLock}, never held across a
 * network call (making a grpc-java channel does no I/O).
 */
public final class WorkerRegistry implements AutoCloseable {
    public enum State { ALIVE, DOWN }

    /** What the scheduler knows of a worker's liveness. */
    public record Health(State state, Instant lastSeen, int runningJobs, int maxRunning, boolean draining) {
    }

    /**
     * Told of every worker that joins, once it is visible and its watch is open: for an observer
     * outside the scheduler (the {@code dev} command's readiness). Keep it short; it runs on the
     * registering call's thread, under no lock.
     */
    public interface Listener {
        Listener NONE = new Listener() {
        };

        default void added(WorkerRecord worker) {
        }
    }

    /** A worker as {@code /workers} shows it. */
    public record Listed(WorkerRecord worker, Health health, Map<String, String> labels) {
    }

    private final Clock clock;
    private final WorkerConnections.Factory channels;
    private final WorkerWatch watch;
    private final Listener observer;

    private final ReentrantLock lock = new ReentrantLock();
    // Insertion order is registration order: list() answers in it.
    private final LinkedHashMap<UUID, Worker> byId = new LinkedHashMap<>();   // guarded by lock
    private final Map<Address, UUID> byAddress = new HashMap<>();             // guarded by lock

    WorkerRegistry(Clock clock, WorkerConnections.Factory channels, WorkerWatch watch, Listener observer) {
        this.clock = Objects.requireNonNull(clock, "clock");
        this.channels = Objects.requireNonNull(channels, "channels");
        this.watch = Objects.requireNonNull(watch, "watch");
        this.observer = Objects.requireNonNull(observer, "observer");
    }

    WorkerRegistry(Clock clock, WorkerConnections.Factory channels, WorkerWatch watch) {
        this(clock, channels, watch, Listener.NONE);
    }

    /**
     * Records the worker at {@code address}. {@code requestedId} (may be null or empty) is the
     * id the worker held before: it is granted when the registry does not know it or knows it at
     * this same address; otherwise, or when it is not a UUID, the worker gets a new id. A record
     * already held by this address is replaced. {@code features} is what the worker advertised.
     */
    public WorkerRecord register(Address address, String requestedId, Collection<String> features) {
        return register(address, requestedId, Advertised.only(features));
    }

    /**
     * What a worker says of itself at registration: the features it supports, the limits it
     * enforces, its {@code [labels]} and its {@code max_running} (0: unlimited).
     */
    public record Advertised(Set<String> features, List<String> limits, Map<String, String> labels,
                             int maxRunning) {
        public Advertised {
            features = Set.copyOf(features);
            limits = List.copyOf(limits);
            labels = Map.copyOf(labels);
        }

        public Advertised(Collection<String> features, List<String> limits, Map<String, String> labels,
                          int maxRunning) {
            this(Set.copyOf(features), limits, labels, maxRunning);
        }

        /** A worker that advertises {@code features} and nothing else. */
        public static Advertised only(Collection<String> features) {
            return new Advertised(features, List.of(), Map.of(), 0);
        }
    }

    /** {@link #register(Address, String, Collection)} of a worker that advertises {@code advertised}. */
    public WorkerRecord register(Address address, String requestedId, Advertised advertised) {
        Objects.requireNonNull(address, "address");
        Optional<UUID> requested = parseId(requestedId);
        return add(address, advertised, channels.connect(address), () -> requested
                .filter(wanted -> {
                    Worker holder = byId.get(wanted);
                    return holder == null || holder.record.address().equals(address);
                })
                .orElseGet(UUID::randomUUID));
    }

    /**
     * Records the worker at {@code address} under {@code id}, the id its certificate
     * {@code identity} owns (mutual TLS): it replaces whatever record held that id (the same
     * worker, at its old address) and whatever record held this address. Its channels accept only
     * a server presenting that identity.
     */
    public WorkerRecord registerOwned(UUID id, Identity identity, Address address, Advertised advertised) {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(address, "address");
        return add(address, advertised, channels.connect(address, identity), () -> id);
    }

    /** Adds a worker under the id {@code chooseId} picks (called under the lock), replacing the holders of that id and address. */
    private WorkerRecord add(Address address, Advertised advertised, WorkerConnections connections,
                             Supplier<UUID> chooseId) {
        Worker added;
        int size;
        List<Worker> replaced = new ArrayList<>(2);
        lock.lock();
        try {
            UUID id = chooseId.get();
            UUID previous = byAddress.remove(address);
            if (previous != null) {
                replaced.add(byId.remove(previous));
            }
            Worker sameId = byId.remove(id);
            if (sameId != null) {
                byAddress.remove(sameId.record.address());
                replaced.add(sameId);
            }
            added = new Worker(new WorkerRecord(id, address, clock.instant(), advertised.limits()),
                    advertised.features(), advertised.labels(), advertised.maxRunning(), connections);
            byId.put(id, added);
            byAddress.put(address, id);
            size = byId.size();
        } finally {
            lock.unlock();
        }
        replaced.forEach(WorkerRegistry::retire);
        watch.open(added, size);
        observer.added(added.record);
        return added.record;
    }

    /** Removes the worker with this id; false, changing nothing, when the id is unknown. */
    public boolean deregister(UUID id) {
        Worker removed;
        lock.lock();
        try {
            removed = byId.remove(id);
            if (removed == null) {
                return false;
            }
            byAddress.remove(removed.record.address());
        } finally {
            lock.unlock();
        }
        retire(removed);
        return true;
    }

    /** What {@link #removeIfDown} did. */
    public enum Removal { REMOVED, ALIVE, UNKNOWN }

    /**
     * Removes the worker with this id if it is down (an operator forgetting a machine that is
     * gone); a worker that is alive, or an unknown id, is left as it is. Health is read and the
     * worker removed under the registry's lock, so a heartbeat cannot slip in between.
     */
    public Removal removeIfDown(UUID id) {
        Worker removed;
        lock.lock();
        try {
            removed = byId.get(id);
            if (removed == null) {
                return Removal.UNKNOWN;
            }
            if (removed.health().state() == State.ALIVE) {
                return Removal.ALIVE;
            }
            byId.remove(id);
            byAddress.remove(removed.record.address(), id);
        } finally {
            lock.unlock();
        }
        retire(removed);
        return Removal.REMOVED;
    }

    private static void retire(Worker worker) {
        if (worker == null) {
            return;
        }
        worker.lock.lock();
        try {
            worker.closed = true;
        } finally {
            worker.lock.unlock();
        }
        WorkerWatch.cancel(worker, "worker left the registry");
        worker.connections.close();
    }

    /** Where the worker stands: unknown, down, or alive with its channel, read at one moment. */
    WorkerLookup lookup(UUID id) {
        lock.lock();
        try {
            Worker worker = byId.get(id);
            // Lock order: registry, then worker.
            return worker == null ? new WorkerLookup.Unknown(id) : worker.lookup();
        } finally {
            lock.unlock();
        }
    }

    public Optional<WorkerRecord> find(UUID id) {
        lock.lock();
        try {
            return Optional.ofNullable(byId.get(id)).map(w -> w.record);
        } finally {
            lock.unlock();
        }
    }

    /** Every worker, oldest registration first. */
    public List<WorkerRecord> list() {
        return workers().stream().map(w -> w.record).toList();
    }

    /** Every worker with its health, oldest registration first. */
    public List<Listed> overview() {
        return workers().stream().map(w -> new Listed(w.record, w.health(), w.labels)).toList();
    }

    /** One worker with its health. */
    public Optional<Listed> overview(UUID id) {
        lock.lock();
        try {
            return Optional.ofNullable(byId.get(id)).map(w -> new Listed(w.record, w.health(), w.labels));
        } finally {
            lock.unlock();
        }
    }

    /**
     * Stops (or, {@code draining} false, resumes) new placements on a worker; its jobs run on.
     * False for an unknown id. The caller wakes placement.
     */
    public boolean drain(UUID id, boolean draining) {
        Worker worker;
        lock.lock();
        try {
            worker = byId.get(id);
        } finally {
            lock.unlock();
        }
        if (worker == null) {
            return false;
        }
        worker.lock.lock();
        try {
            worker.draining = draining;
        } finally {
            worker.lock.unlock();
        }
        return true;
    }

    /** Every registered worker, oldest registration first: for placement. */
    List<Worker> all() {
        return workers();
    }

    private List<Worker> workers() {
        lock.lock();
        try {
            return new ArrayList<>(byId.values());
        } finally {
            lock.unlock();
        }
    }

    /** The heartbeat interval asked of a worker now: it grows with the number registered ({@link WorkerWatch#heartbeat(int)}). */
    public Duration heartbeat() {
        int size;
        lock.lock();
        try {
            size = byId.size();
        } finally {
            lock.unlock();
        }
        return watch.heartbeat(size);
    }

    /** One pass of liveness ({@link WorkerWatch#sweep}): silent workers down, ended streams reopened, expired ones removed. */
    public void sweep() {
        watch.sweep(workers()).forEach(this::deregister);
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

    /** Closes every worker's watch and channels. */
    @Override
    public void close() {
        List<Worker> all;
        lock.lock();
        try {
            all = new ArrayList<>(byId.values());
            byId.clear();
            byAddress.clear();
        } finally {
            lock.unlock();
        }
        all.forEach(WorkerRegistry::retire);
    }
}
