package io.jobscheduler.scheduler;

import io.grpc.ChannelCredentials;
import io.grpc.Codec;
import io.grpc.DecompressorRegistry;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.jobscheduler.config.Address;
import io.jobscheduler.config.ClientTls;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The scheduler's long-lived grpc-java channels to each registered worker, made when the worker
 * joins the registry and shut down when it leaves, so a request never costs a new connection or
 * TLS handshake (HELIDON-NOTES.md).
 *
 * <p>Unary calls have one channel and the liveness watch another, so that a call cut off by its
 * deadline (a reset stream, which Helidon 4.5.0 may answer by closing the whole connection)
 * never breaks the watch and makes a live worker look down. Output streams each lease a channel of
 * their own from a per-worker pool, reused stream after stream: Helidon 4.5.0's HTTP/2 server
 * loses count of the connection's flow-control window when several streams write at once
 * (the window goes negative and the next WINDOW_UPDATE is refused with GOAWAY
 * FLOW_CONTROL_ERROR "Window size too big", failing every call on the connection; measured with
 * 40 concurrent followers). One stream per connection has one writer, and a slow reader then
 * holds back only its own connection.
 */
public final class WorkerChannels implements WorkerRegistry.Listener, AutoCloseable {
    /** Idle stream channels kept per worker; more are shut down when released. */
    static final int MAX_IDLE_STREAM_CHANNELS = 16;

    private final ChannelCredentials credentials;
    private final ReentrantLock lock = new ReentrantLock();
    private final Map<UUID, Connections> workers = new HashMap<>();   // guarded by lock

    /** One worker's channels; the fields are guarded by the enclosing lock. */
    private static final class Connections {
        final Address address;
        final ManagedChannel unary;
        final ManagedChannel watch;
        final Deque<ManagedChannel> idleStreams = new ArrayDeque<>();
        final List<ManagedChannel> leasedStreams = new ArrayList<>();

        Connections(Address address, ManagedChannel unary, ManagedChannel watch) {
            this.address = address;
            this.unary = unary;
            this.watch = watch;
        }

        List<ManagedChannel> all() {
            List<ManagedChannel> all = new ArrayList<>(idleStreams);
            all.addAll(leasedStreams);
            all.add(unary);
            all.add(watch);
            return all;
        }
    }

    /** A stream channel on loan; {@link #close()} gives it back for the next stream. */
    public final class Lease implements AutoCloseable {
        private final UUID workerId;
        private final ManagedChannel channel;
        private boolean returned;

        private Lease(UUID workerId, ManagedChannel channel) {
            this.workerId = workerId;
            this.channel = channel;
        }

        public ManagedChannel channel() {
            return channel;
        }

        @Override
        public void close() {
            if (!returned) {
                returned = true;
                giveBack(this);
            }
        }
    }

    public WorkerChannels(Optional<ClientTls> tls) {
        this.credentials = tls.map(WorkerChannels::credentials).orElseGet(InsecureChannelCredentials::create);
    }

    private static ChannelCredentials credentials(ClientTls tls) {
        try {
            return TlsChannelCredentials.newBuilder().trustManager(tls.caFile().toFile()).build();
        } catch (IOException e) {
            throw new UncheckedIOException("workers.ca_file: cannot read " + tls.caFile() + ": " + e.getMessage(), e);
        }
    }

    /** The channel for unary calls to a registered worker. */
    public Optional<ManagedChannel> channel(UUID workerId) {
        lock.lock();
        try {
            Connections connections = workers.get(workerId);
            return connections == null ? Optional.empty() : Optional.of(connections.unary);
        } finally {
            lock.unlock();
        }
    }

    /** The channel the liveness watch of a registered worker rides. */
    public Optional<ManagedChannel> watchChannel(UUID workerId) {
        lock.lock();
        try {
            Connections connections = workers.get(workerId);
            return connections == null ? Optional.empty() : Optional.of(connections.watch);
        } finally {
            lock.unlock();
        }
    }

    /** A channel for one output stream of a registered worker: an idle pooled one, else a new one. */
    public Optional<Lease> leaseStreamChannel(UUID workerId) {
        Address address;
        lock.lock();
        try {
            Connections connections = workers.get(workerId);
            if (connections == null) {
                return Optional.empty();
            }
            ManagedChannel idle = connections.idleStreams.pollFirst();
            if (idle != null) {
                connections.leasedStreams.add(idle);
                return Optional.of(new Lease(workerId, idle));
            }
            address = connections.address;
        } finally {
            lock.unlock();
        }
        ManagedChannel fresh = build(address);
        lock.lock();
        try {
            Connections connections = workers.get(workerId);
            if (connections != null && connections.address.equals(address)) {
                connections.leasedStreams.add(fresh);
                return Optional.of(new Lease(workerId, fresh));
            }
        } finally {
            lock.unlock();
        }
        fresh.shutdownNow();  // the worker left while the channel was being made
        return Optional.empty();
    }

    private void giveBack(Lease lease) {
        boolean keep = false;
        lock.lock();
        try {
            Connections connections = workers.get(lease.workerId);
            if (connections != null && connections.leasedStreams.remove(lease.channel)
                    && connections.idleStreams.size() < MAX_IDLE_STREAM_CHANNELS) {
                connections.idleStreams.addFirst(lease.channel);
                keep = true;
            }
        } finally {
            lock.unlock();
        }
        if (!keep) {
            lease.channel.shutdown();
        }
    }

    private ManagedChannel build(Address address) {
        // Building a channel does no I/O: it connects on first use, and reconnects by itself.
        return Grpc.newChannelBuilder(address.toString(), credentials)
                // Keepalive finds a connection that died silently (cut off, not closed), so a call
                // on it fails instead of hanging; 10 s is grpc-java's floor.
                .keepAliveTime(10, TimeUnit.SECONDS)
                .keepAliveTimeout(5, TimeUnit.SECONDS)
                // An idle pooled connection is dropped, and made again on its next use.
                .idleTimeout(5, TimeUnit.MINUTES)
                // Accept identity only: offered gzip, Helidon's server compresses every answer,
                // which cut output streaming to a seventh and cost a quarter of a query's time.
                .decompressorRegistry(DecompressorRegistry.emptyInstance().with(Codec.Identity.NONE, false))
                // Our calls are never retried, so the per-call retry buffering is pure cost.
                .disableRetry()
                .build();
    }

    @Override
    public void added(WorkerRecord worker) {
        Connections fresh = new Connections(worker.address(), build(worker.address()), build(worker.address()));
        Connections previous;
        lock.lock();
        try {
            previous = workers.put(worker.id(), fresh);
        } finally {
            lock.unlock();
        }
        if (previous != null) {
            previous.all().forEach(ManagedChannel::shutdownNow);
        }
    }

    @Override
    public void removed(WorkerRecord worker) {
        Connections gone;
        lock.lock();
        try {
            gone = workers.remove(worker.id());
        } finally {
            lock.unlock();
        }
        if (gone != null) {
            // Calls in flight on a departed worker end with CANCELLED/UNAVAILABLE at once.
            gone.all().forEach(ManagedChannel::shutdownNow);
        }
    }

    @Override
    public void close() {
        List<ManagedChannel> all = new ArrayList<>();
        lock.lock();
        try {
            workers.values().forEach(c -> all.addAll(c.all()));
            workers.clear();
        } finally {
            lock.unlock();
        }
        all.forEach(ManagedChannel::shutdownNow);
    }
}
