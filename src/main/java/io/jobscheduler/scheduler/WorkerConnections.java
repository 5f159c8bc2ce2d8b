package io.jobscheduler.scheduler;

import io.grpc.ChannelCredentials;
import io.grpc.Codec;
import io.grpc.DecompressorRegistry;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.TlsChannelCredentials;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.buffer.ByteBufAllocator;
import io.grpc.netty.shaded.io.netty.buffer.PooledByteBufAllocator;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.jobscheduler.config.Address;
import io.jobscheduler.config.ClientTls;
import io.jobscheduler.security.ExpectedPeer;
import io.jobscheduler.security.Identity;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One worker's long-lived grpc-java channels, made when it joins and shut down when it leaves,
 * so a request never costs a new connection or TLS handshake (docs/helidon-notes.md, "gRPC
 * clients").
 *
 * <p>Unary calls have one channel and the liveness watch another, so that a call cut off by its
 * deadline (a reset stream, which Helidon 4.5.0 may answer by closing the whole connection)
 * never breaks the watch and makes a live worker look down. Output streams each lease a channel of
 * their own from a pool, reused stream after stream: Helidon 4.5.0's HTTP/2 server loses count of
 * the connection's flow-control window when several streams write at once (GOAWAY
 * FLOW_CONTROL_ERROR, failing every call on the connection; docs/helidon-notes.md, "Helidon's
 * HTTP/2 server"). One stream per connection has one writer, and a slow reader then holds back
 * only its own connection.
 */
final class WorkerConnections implements AutoCloseable {
    /** Idle stream channels kept per worker; more are shut down when released. */
    static final int MAX_IDLE_STREAM_CHANNELS = 16;

    /** Makes channels to workers, with the cluster's credentials. */
    static final class Factory {
        private final ChannelCredentials credentials;
        private final Optional<ClientTls> tls;
        /** The CA of {@code workers.ca_file}, for credentials that also expect one worker's identity. */
        private final Optional<X509ExtendedTrustManager> authority;
        private final WorkerCallMeter calls;
        /**
         * The direct buffers output streams read into. The JVM flags make grpc-netty's buffers
         * unpooled (its default pool kept 229 MB after the streams, BENCHMARKS.md "Round two"),
         * and the JDK zeroes each unpooled buffer it makes: 30 % of the scheduler's JFR samples
         * while streaming. One small pool for the stream channels only: one arena, 1 MiB chunks,
         * no per-thread caches. Measured: the scheduler's CPU per streamed GiB fell by a fifth to
         * a quarter, and its RSS at the end of 100 streams from ~400 to ~225 MB (BENCHMARKS.md,
         * "Round two: output path").
         */
        private final ByteBufAllocator streamBuffers = new PooledByteBufAllocator(true, 0, 1, 8192, 7, 0, 0, false);

        Factory(Optional<ClientTls> tls) {
            this(tls, SchedulerMeters.NONE);
        }

        Factory(Optional<ClientTls> tls, SchedulerMeters meters) {
            this.tls = tls;
            this.authority = tls.filter(ClientTls::mutual).map(t -> trusting(t.caFile()));
            this.credentials = tls.map(t -> credentials(t, Optional.empty())).orElseGet(InsecureChannelCredentials::create);
            this.calls = new WorkerCallMeter(meters);
        }

        private static X509ExtendedTrustManager trusting(Path caFile) {
            try {
                return ExpectedPeer.trusting(caFile);
            } catch (IllegalArgumentException e) {
                throw new UncheckedIOException("workers.ca_file: " + e.getMessage(), new IOException(e));
            }
        }

        /**
         * Trusting {@code workers.ca_file} (and, given {@code trust}, only what it trusts); with
         * {@code workers.crt_file}, presenting it (mutual TLS).
         */
        private static ChannelCredentials credentials(ClientTls tls, Optional<TrustManager> trust) {
            TlsChannelCredentials.Builder builder = TlsChannelCredentials.newBuilder();
            if (trust.isPresent()) {
                builder.trustManager(trust.get());
            } else {
                try {
                    builder.trustManager(tls.caFile().toFile());
                } catch (IOException e) {
                    throw new UncheckedIOException("workers.ca_file: cannot read " + tls.caFile() + ": " + e.getMessage(), e);
                }
            }
            if (tls.certificate().isPresent()) {
                ClientTls.Certificate own = tls.certificate().get();
                try {
                    builder.keyManager(own.certificateFile().toFile(), own.keyFile().toFile());
                } catch (IOException e) {
                    throw new UncheckedIOException("workers.crt_file, key_file: cannot use " + own.certificateFile()
                            + " and " + own.keyFile() + ": " + e.getMessage(), e);
                }
            }
            return builder.build();
        }

        WorkerConnections connect(Address address) {
            return new WorkerConnections(this, address, credentials);
        }

        /**
         * Channels to the worker whose certificate identity is {@code expected} (mutual TLS): a
         * server at that address presenting any other certificate of the CA is refused at the
         * handshake, so no call meant for this worker reaches another.
         */
        WorkerConnections connect(Address address, Identity expected) {
            if (tls.isEmpty() || authority.isEmpty()) {
                return connect(address);
            }
            return new WorkerConnections(this, address,
                    credentials(tls.get(), Optional.of(ExpectedPeer.of(authority.get(), expected))));
        }

        ManagedChannel build(Address address, ChannelCredentials credentials) {
            return configure(Grpc.newChannelBuilder(address.toString(), credentials));
        }

        /** A channel for output streams (see {@link #streamBuffers}). */
        ManagedChannel buildStream(Address address, ChannelCredentials credentials) {
            return configure(NettyChannelBuilder.forTarget(address.toString(), credentials)
                    .withOption(ChannelOption.ALLOCATOR, streamBuffers));
        }

        private ManagedChannel configure(ManagedChannelBuilder<?> builder) {
            // Building a channel does no I/O: it connects on first use, and reconnects by itself.
            return builder
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
                    .intercept(calls)
                    .build();
        }
    }

    private final Factory factory;
    private final Address address;
    private final ChannelCredentials credentials;
    private final ManagedChannel unary;
    private final ManagedChannel watch;
    private final ReentrantLock lock = new ReentrantLock();
    private final Deque<ManagedChannel> idleStreams = new ArrayDeque<>();   // guarded by lock
    private final List<ManagedChannel> leasedStreams = new ArrayList<>();   // guarded by lock
    private boolean closed;                                                 // guarded by lock

    private WorkerConnections(Factory factory, Address address, ChannelCredentials credentials) {
        this.factory = factory;
        this.address = address;
        this.credentials = credentials;
        this.unary = factory.build(address, credentials);
        this.watch = factory.build(address, credentials);
    }

    /** A stream channel on loan; {@link #close()} gives it back for the next stream. */
    final class Lease implements AutoCloseable {
        private final ManagedChannel channel;
        private boolean returned;

        private Lease(ManagedChannel channel) {
            this.channel = channel;
        }

        ManagedChannel channel() {
            return channel;
        }

        @Override
        public void close() {
            if (!returned) {
                returned = true;
                giveBack(channel);
            }
        }
    }

    /** The channel for unary calls. */
    ManagedChannel unary() {
        return unary;
    }

    /**
     * Lets the unary channel drop its connection until its next call, which reconnects. For after
     * the listing every worker is asked for when first heard from: in a large cluster most workers
     * then get no call for long, and a connection each held for the idle timeout doubled the
     * sockets of the scheduler (10,000 workers: 20,000, the machine's limit of open files per
     * process) and its heap (BENCHMARKS.md, "Round two: 10,000 workers at rest"). Calls in flight
     * finish on the old connection.
     */
    void restUnary() {
        unary.enterIdle();
    }

    /** The channel the liveness watch rides. */
    ManagedChannel watch() {
        return watch;
    }

    /** A channel for one output stream: an idle pooled one, else a new one; empty once closed. */
    Optional<Lease> leaseStream() {
        lock.lock();
        try {
            if (closed) {
                return Optional.empty();
            }
            ManagedChannel idle = idleStreams.pollFirst();
            if (idle != null) {
                leasedStreams.add(idle);
                return Optional.of(new Lease(idle));
            }
        } finally {
            lock.unlock();
        }
        ManagedChannel fresh = factory.buildStream(address, credentials);
        lock.lock();
        try {
            if (!closed) {
                leasedStreams.add(fresh);
                return Optional.of(new Lease(fresh));
            }
        } finally {
            lock.unlock();
        }
        fresh.shutdownNow();  // the worker left while the channel was being made
        return Optional.empty();
    }

    private void giveBack(ManagedChannel channel) {
        boolean keep = false;
        lock.lock();
        try {
            if (!closed && leasedStreams.remove(channel) && idleStreams.size() < MAX_IDLE_STREAM_CHANNELS) {
                idleStreams.addFirst(channel);
                keep = true;
            }
        } finally {
            lock.unlock();
        }
        if (!keep) {
            channel.shutdown();
        }
    }

    /** Shuts every channel down: calls in flight end with CANCELLED/UNAVAILABLE at once. */
    @Override
    public void close() {
        List<ManagedChannel> all = new ArrayList<>();
        lock.lock();
        try {
            closed = true;
            all.addAll(idleStreams);
            all.addAll(leasedStreams);
            idleStreams.clear();
            leasedStreams.clear();
        } finally {
            lock.unlock();
        }
        all.add(unary);
        all.add(watch);
        all.forEach(ManagedChannel::shutdownNow);
    }
}
