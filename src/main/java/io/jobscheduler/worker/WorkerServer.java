package io.jobscheduler.worker;

import io.helidon.common.tls.Tls;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.WebServerConfig;
import io.helidon.webserver.grpc.GrpcRouting;
import io.helidon.webserver.http2.Http2Config;
import io.helidon.webserver.observe.ObserveFeature;
import io.helidon.webserver.observe.health.HealthObserver;
import io.jobscheduler.config.Address;
import io.jobscheduler.config.ObserveSettings;
import io.jobscheduler.config.ServerStartException;
import io.jobscheduler.config.ServerTls;
import io.jobscheduler.config.WorkerSettings;
import io.jobscheduler.http.RequestGuard;
import io.jobscheduler.observe.Meters;
import io.jobscheduler.security.Exposure;
import io.jobscheduler.security.PeerIdentityInterceptor;
import io.jobscheduler.security.PeerRole;
import io.jobscheduler.worker.job.JobConfinement;
import io.jobscheduler.worker.job.JobRunner;
import io.jobscheduler.worker.job.JobShaper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A worker: serves the {@code Worker} gRPC service on its socket, then joins the cluster.
 * Closing it stops running jobs with their grace period (refusing new ones), then leaves the
 * cluster, then stops serving.
 */
public final class WorkerServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(WorkerServer.class.getName());
    /** How long an output stream may wait for its reader before the worker gives up on it. */
    static final Duration FOLLOW_STALL_LIMIT = Duration.ofMinutes(10);
    /** The metrics socket's bounds: the defaults of the scheduler's {@code [http_server]} for its API socket. */
    private static final Duration OBSERVE_HEADER_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration OBSERVE_IDLE_TIMEOUT = Duration.ofMinutes(5);

    private final WebServer server;
    private final JobRunner runner;
    private final SchedulerLink link;
    private final JobConfinement confinement;
    private final WorkerMetrics metrics;
    private final Optional<ObserveSocket> observe;

    private WorkerServer(WebServer server, JobRunner runner, SchedulerLink link, JobConfinement confinement,
                         WorkerMetrics metrics, Optional<ObserveSocket> observe) {
        this.server = server;
        this.runner = runner;
        this.link = link;
        this.confinement = confinement;
        this.metrics = metrics;
        this.observe = observe;
    }

    /** Starts serving and begins registering, with no metrics socket; throws when the socket cannot be bound. */
    public static WorkerServer start(WorkerSettings settings) {
        return start(settings, ObserveSettings.OFF, Meters.ofProcess());
    }

    /**
     * Starts serving, and {@code /observe/metrics} with {@code /observe/health} on
     * {@code observe}'s address if it has one, counting into {@code meters}; then begins registering.
     *
     * @throws ServerStartException when a socket cannot be bound
     */
    public static WorkerServer start(WorkerSettings settings, ObserveSettings observe, Meters meters) {
        Optional<String> exposed;
        try {
            exposed = new Exposure("grpc_server.addr", settings.grpcAddress(), "start, stop and read every job")
                    .check(settings.grpcTls().filter(ServerTls::mutual).isPresent(), rootWithoutRunAs(settings),
                            settings.grpcInsecure());
        } catch (Exposure.UnsafeException e) {
            throw new ServerStartException(e.getMessage(), e);
        }
        WorkerMetrics metrics = new WorkerMetrics(meters);
        SchedulerContact contact = new SchedulerContact(Clock.systemUTC());
        // Made before the server (watches ask it for the id), started after it: the worker serves
        // before it announces itself.
        // Before the runner: leftover job cgroups of a previous worker process are killed first.
        JobConfinement confinement = JobConfinement.open(settings.dataDir());
        LOG.log(System.Logger.Level.INFO, "job limits: " + confinement.describe());
        SchedulerLink link = new SchedulerLink(settings, contact, confinement.enforcedLimits());
        JobShaper shaper;
        try {
            shaper = JobShaper.of(settings.workDir(), settings.jobRules(), System.getenv(), confinement);
        } catch (IOException e) {
            confinement.close();
            throw new UncheckedIOException("cannot use work_dir " + settings.workDir() + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            confinement.close();
            throw e;
        }
        JobRunner runner;
        try {
            runner = new JobRunner(shaper, () -> link.workerId().orElse(""), settings.dataDir(), settings.stopGrace(),
                    settings.keepFinished(), settings.keepOutputBytes(), metrics);
        } catch (IOException e) {
            confinement.close();
            throw new UncheckedIOException("cannot use data_dir " + settings.dataDir() + ": " + e.getMessage(), e);
        }
        StartGate gate = new StartGate(runner, settings.capacity().maxRunning());
        WatchService watches = new WatchService(link::settledWorkerId, runner::runningCount, gate.maxRunning(),
                runner.events(), contact);
        WebServer server = WebServer.builder()
                .host(settings.grpcAddress().host())
                .port(settings.grpcAddress().port())
                .shutdownHook(false)
                .update(b -> settings.grpcTls().ifPresent(tls -> b.tls(tls.helidonTls())))
                .update(b -> serve(b, runner, gate, watches, settings.grpcTls().filter(ServerTls::mutual).isPresent()))
                .build();
        server.start();
        if (!server.isRunning() || server.port() <= 0) {
            server.stop();
            runner.close();
            confinement.close();
            throw ServerStartException.bindFailure("grpc_server.addr", settings.grpcAddress(),
                    ServerStartException.bindError(settings.grpcAddress()).orElse("the listener did not start"), null);
        }
        metrics.watch(runner, settings.dataDir());
        Optional<ObserveSocket> observeServer;
        try {
            observeServer = observe.address().map(address -> observeServer(address, meters));
        } catch (RuntimeException e) {
            server.stop();
            runner.close();
            confinement.close();
            metrics.close();
            throw e;
        }
        LOG.log(System.Logger.Level.INFO, "worker gRPC listening on " + settings.grpcAddress().host() + ":"
                + server.port() + settings.grpcTls().map(tls -> tls.mutual() ? " (mutual TLS)" : " (TLS)").orElse("") + ", jobs run in "
                + settings.workDir() + ", data in " + settings.dataDir());
        exposed.ifPresent(line -> LOG.log(System.Logger.Level.WARNING, line));
        link.start(settings.withBoundPort(server.port()).advertiseAddress());
        return new WorkerServer(server, runner, link, confinement, metrics, observeServer);
    }

    /**
     * Whether jobs would run as root because no {@code run_as} is set; asked only off loopback,
     * where it matters. A user that cannot be told counts as root under {@code insecure} (said in
     * its log line), and refuses the start otherwise.
     */
    private static boolean rootWithoutRunAs(WorkerSettings settings) {
        if (settings.grpcAddress().isLoopback() || settings.jobRules().runAs().isPresent()) {
            return false;
        }
        try {
            return Exposure.runningAsRoot();
        } catch (Exposure.UnsafeException e) {
            if (!settings.grpcInsecure()) {
                throw e;
            }
            return true;
        }
    }

    /** The metrics socket and the guard its connections are read through, stopped together. */
    private record ObserveSocket(WebServer server, RequestGuard guard) {
        void stop() {
            server.stop();
            guard.close();
        }
    }

    /**
     * The metrics socket: HTTP/1.1 only, Helidon's metrics and health observers, nothing else.
     * Its connections are read through the same {@link RequestGuard} as the scheduler's API
     * socket, with that socket's default timeouts: a request head must arrive within 30 s, a
     * connection idle for 5 min is closed, and one that asked for {@code Connection: close} is
     * closed after its answer (Helidon 4.5.0 alone keeps it open; docs/helidon-notes.md).
     */
    private static ObserveSocket observeServer(Address address, Meters meters) {
        RequestGuard guard = new RequestGuard(OBSERVE_HEADER_TIMEOUT, OBSERVE_IDLE_TIMEOUT);
        WebServer observe = WebServer.builder()
                .host(address.host())
                .port(address.port())
                .shutdownHook(false)
                .featuresDiscoverServices(false)
                .connectionOptions(o -> o.tcpNoDelay(true))
                .protocolsDiscoverServices(false)
                .protocols(List.of())
                .addConnectionSelector(guard)
                .idleConnectionTimeout(OBSERVE_IDLE_TIMEOUT)
                .idleConnectionPeriod(Duration.ofMinutes(1))
                .addFeature(ObserveFeature.just(HealthObserver.builder().useSystemServices(false).build(),
                        meters.observer()))
                .build();
        try {
            observe.start();
        } catch (RuntimeException e) {
            observe.stop();
            guard.close();
            throw e;
        }
        if (!observe.isRunning() || observe.port() <= 0) {
            observe.stop();
            guard.close();
            throw ServerStartException.bindFailure("observe.addr", address,
                    ServerStartException.bindError(address).orElse("the listener did not start"), null);
        }
        LOG.log(System.Logger.Level.INFO, "worker metrics on http://" + new Address(address.host(), observe.port())
                + "/observe/metrics");
        return new ObserveSocket(observe, guard);
    }

    /** The metrics socket's port, if the worker serves one. */
    public Optional<Integer> observePort() {
        return observe.map(socket -> socket.server().port());
    }


    /**
     * What the worker's socket serves, for this server and for in-JVM tests alike: the
     * {@code Worker} gRPC service, on HTTP/2 tuned for the scheduler as its one client, without
     * Nagle's delay (docs/helidon-notes.md, "WebServer").
     */
    static void serve(WebServerConfig.BuilderBase<?, ?> server, JobRunner runner, StartGate gate,
                      WatchService watches) {
        serve(server, runner, gate, watches, false);
    }

    /** @param schedulerOnly mutual TLS: only callers with the scheduler role are served */
    static void serve(WebServerConfig.BuilderBase<?, ?> server, JobRunner runner, StartGate gate,
                      WatchService watches, boolean schedulerOnly) {
        GrpcRouting.Builder routing = GrpcRouting.builder();
        if (schedulerOnly) {
            routing.intercept(PeerIdentityInterceptor.allowing(PeerRole.SCHEDULER));
        }
        // Plaintext: blocking java.net sockets instead of NIO channels. Helidon 4.5.0's NioSocket
        // writes through a fixed 8 KiB buffer, one write(2) per 8 KiB plus one per frame header
        // (13 per 64 KiB of output); a plain socket writes each HTTP/2 frame in one (5 per 64 KiB)
        // (docs/helidon-notes.md, "Output throughput"). TLS keeps NIO, which the handshake
        // deadline relies on (security/HandshakeDeadline).
        server.useNio(server.tls().filter(Tls::enabled).isPresent());
        server.connectionOptions(o -> o.tcpNoDelay(true))
                .addProtocol(Http2Config.builder()
                        // The scheduler is this socket's one client, and it cancels a follow the
                        // moment its HTTP client leaves: many such resets are normal here, and
                        // Helidon's rapid-reset guard would close the connection every stream rides.
                        .maxRapidResets(-1)
                        // A follow whose HTTP reader is slow stalls on flow control; that is the
                        // reader's business (its stream waits), not a reason to reset the stream.
                        .flowControlTimeout(FOLLOW_STALL_LIMIT)
                        .build())
                .addRouting(routing.service(new WorkerGrpcService(runner, gate, watches)));
    }

    public int port() {
        return server.port();
    }

    /** Waits until the scheduler has given this worker an id. */
    public boolean awaitRegistered(Duration timeout) throws InterruptedException {
        return link.awaitRegistered(timeout);
    }

    /**
     * Stops running jobs (new starts are refused meanwhile), then deregisters while still
     * serving, so the scheduler can take the jobs' final states, then stops serving.
     */
    @Override
    public void close() {
        runner.close();
        confinement.close();
        link.close();
        server.stop();
        observe.ifPresent(ObserveSocket::stop);
        metrics.close();
    }
}
