package io.jobscheduler.scheduler;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.TlsChannelCredentials;
import io.jobscheduler.config.ClientTls;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The scheduler's one long-lived grpc-java channel per registered worker: made when the worker
 * joins the registry, shut down when it leaves. Every call to a worker rides its channel, so a
 * request never costs a new connection or TLS handshake (HELIDON-NOTES.md).
 */
public final class WorkerChannels implements WorkerRegistry.Listener, AutoCloseable {
    private final ChannelCredentials credentials;
    private final ReentrantLock lock = new ReentrantLock();
    private final Map<UUID, ManagedChannel> channels = new HashMap<>();

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

    /** The channel to a registered worker. */
    public Optional<ManagedChannel> channel(UUID workerId) {
        lock.lock();
        try {
            return Optional.ofNullable(channels.get(workerId));
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void added(WorkerRecord worker) {
        // Building a channel does no I/O: it connects on first use, and reconnects by itself.
        // Keepalive finds a connection that died silently (cut off, not closed), so the liveness
        // watch on it fails and is reopened on a fresh connection; 10 s is grpc-java's floor.
        ManagedChannel channel = Grpc.newChannelBuilder(worker.address().toString(), credentials)
                .keepAliveTime(10, TimeUnit.SECONDS)
                .keepAliveTimeout(5, TimeUnit.SECONDS)
                .build();
        ManagedChannel previous;
        lock.lock();
        try {
            previous = channels.put(worker.id(), channel);
        } finally {
            lock.unlock();
        }
        if (previous != null) {
            previous.shutdownNow();
        }
    }

    @Override
    public void removed(WorkerRecord worker) {
        ManagedChannel channel;
        lock.lock();
        try {
            channel = channels.remove(worker.id());
        } finally {
            lock.unlock();
        }
        if (channel != null) {
            // Calls in flight on a departed worker end with CANCELLED/UNAVAILABLE at once.
            channel.shutdownNow();
        }
    }

    @Override
    public void close() {
        List<ManagedChannel> all;
        lock.lock();
        try {
            all = new ArrayList<>(channels.values());
            channels.clear();
        } finally {
            lock.unlock();
        }
        all.forEach(ManagedChannel::shutdownNow);
    }
}
