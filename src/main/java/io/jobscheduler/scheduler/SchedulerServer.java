package io.jobscheduler.scheduler;

import io.helidon.webserver.ListenerConfig;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.grpc.GrpcRouting;
import io.helidon.webserver.observe.ObserveFeature;
import io.helidon.openapi.OpenApiFeature;
import io.helidon.webserver.observe.health.HealthObserver;
import io.jobscheduler.config.Address;
import io.jobscheduler.config.SchedulerSettings;
import io.jobscheduler.config.ServerStartException;
import io.jobscheduler.config.ServerTls;
import io.jobscheduler.security.Exposure;
import io.jobscheduler.security.PeerIdentityInterceptor;
import io.jobscheduler.security.PeerRole;
import io.jobscheduler.security.WorkerIdentities;
import io.jobscheduler.observe.Meters;
import io.jobscheduler.scheduler.http.ApiAccess;
import io.jobscheduler.scheduler.metrics.SchedulerMetrics;
import io.jobscheduler.scheduler.http.Readiness;
import io.jobscheduler.http.RequestGuard;
import io.jobscheduler.scheduler.http.SchedulerHttp;
import io.jobscheduler.security.AuditException;
import io.jobscheduler.security.AuditLog;
import io.jobscheduler.security.GrpcAudit;
import io.jobscheduler.security.TokenFile;
import io.jobscheduler.security.TokenFileException;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static java.lang.System.Logger.Level.INFO;
import static java.lang.System.Logger.Level.WARNING;

/**
 * The scheduler's one Helidon {@link WebServer}: the HTTP gateway on the default socket and the
 * workers' gRPC service on the socket named {@value #GRPC_SOCKET}.
 *
 * <p>{@link #close()} drains: both sockets stop accepting, idle connections are closed, and
 * requests in flight get up to {@link SchedulerSettings#drainTimeout()} to finish before their
 * connections are cut (Helidon's per-socket {@code shutdownGracePeriod}, 0.5 s by default).
 */
public final class SchedulerServer implements AutoCloseable {
    public static final String GRPC_SOCKET = "grpc";
    /** The largest request body the gateway reads; larger ones are refused before routing (413). */
    public static final long MAX_REQUEST_BYTES = 1 << 20;
    /** The OpenAPI document {@code /openapi} serves, a resource of the jar (api.md links it). */
    public static final String OPENAPI_DOCUMENT = "META-INF/openapi.yaml";

    private static final System.Logger LOGGER = System.getLogger(SchedulerServer.class.getName());

    private final WebServer server;
    private final SchedulerCore core;
    private final ScheduledExecutorService ticker;
    private final SchedulerGrpcService grpcService;
    private final Duration drainTimeout;
    private final RequestGuard guard;
    private final SchedulerMetrics metrics;
    private final AuditLog audit;

    private SchedulerServer(WebServer server, SchedulerCore core, ScheduledExecutorService ticker,
                            SchedulerGrpcService grpcService, Duration drainTimeout, RequestGuard guard,
                            SchedulerMetrics metrics, AuditLog audit) {
        this.server = server;
        this.metrics = metrics;
        this.audit = audit;
        this.guard = guard;
        this.core = core;
        this.ticker = ticker;
        this.grpcService = grpcService;
        this.drainTimeout = drainTimeout;
    }

    /** Starts a scheduler with an empty registry on the system clock. */
    public static SchedulerServer start(SchedulerSettings settings) {
        return start(settings, WorkerRegistry.Listener.NONE);
    }

    /**
     * Starts a scheduler whose registry also tells {@code observer} of every worker that joins.
     * Port 0 in the settings binds a free port.
     *
     * @throws ServerStartException when a socket cannot be bound or TLS cannot be set up
     */
    public static SchedulerServer start(SchedulerSettings settings, WorkerRegistry.Listener observer) {
        return start(settings, observer, new Readiness());
    }

    /**
     * As {@link #start(SchedulerSettings, WorkerRegistry.Listener)}, serving {@code readiness}
     * (with the caller's milestones, known before the first request) on {@code /observe/health/ready};
     * the scheduler adds its own: both sockets up.
     */
    public static SchedulerServer start(SchedulerSettings settings, WorkerRegistry.Listener observer, Readiness readiness) {
        return start(settings, observer, readiness, Meters.ofProcess());
    }

    /**
     * As {@link #start(SchedulerSettings, WorkerRegistry.Listener, Readiness)}, counting into
     * {@code meters}, which {@code /observe/metrics} serves.
     */
    public static SchedulerServer start(SchedulerSettings settings, WorkerRegistry.Listener observer, Readiness readiness,
                                        Meters meters) {
        Objects.requireNonNull(observer, "observer");
        HttpExposure.check(settings);
        Optional<String> exposed = exposure(settings);
        Optional<WorkerIdentities> identities;
        try {
            identities = settings.grpcTls().flatMap(ServerTls::clientCaFile).map(WorkerIdentities::trusting);
        } catch (IllegalArgumentException e) {
            throw new ServerStartException("grpc_server.client_ca_file: " + e.getMessage(), e);
        }
        Optional<TokenFile> tokens = tokens(settings);
        AuditLog audit = audit(settings); // opened last: nothing after it refuses to start before the server does
        SchedulerMetrics metrics = new SchedulerMetrics(meters);
        SchedulerCore core = SchedulerCore.create(settings, Clock.systemUTC(), observer, metrics);
        WorkerRegistry registry = core.registry();
        JobGateway gateway = core.gateway();
        metrics.workers(registry);
        // The placement queue (issue 15) wires its length here.
        metrics.queuedJobs(SchedulerMetrics.NO_QUEUE);
        // Liveness sweeps run on one platform thread of their own, so HTTP load on the virtual
        // threads cannot starve them into a false DOWN.
        ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("liveness").daemon().factory());
        long period = core.sweepPeriod().toMillis();
        ticker.scheduleWithFixedDelay(core::sweep, period, period, TimeUnit.MILLISECONDS);
        ticker.scheduleWithFixedDelay(audit::flushRefused, 1, 1, TimeUnit.SECONDS);
        SchedulerGrpcService grpcService = new SchedulerGrpcService(registry, settings.workerTtl(), gateway::departing,
                new GrpcAudit(audit), identities);
        AtomicBoolean socketsUp = new AtomicBoolean();
        readiness.require("the HTTP and gRPC sockets to be up", socketsUp::get);
        RequestGuard guard = new RequestGuard(settings.headerTimeout(), settings.idleTimeout());
        Runnable release = () -> {
            guard.close();
            ticker.shutdownNow();
            core.close();
            metrics.close();
            audit.close();
        };
        WebServer server;
        try {
            server = WebServer.builder()
                    // Main owns the process lifecycle and calls close(); no hidden JVM hook.
                    .shutdownHook(false)
                    .featuresDiscoverServices(false)
                    .addFeature(ObserveFeature.just(HealthObserver.builder()
                            .useSystemServices(false)
                            .addCheck(readiness)
                            .build(), meters.observer()))
                    .addFeature(OpenApiFeature.builder()
                            .staticFile(OPENAPI_DOCUMENT)
                            .servicesDiscoverServices(false)
                            .sockets(Set.of(WebServer.DEFAULT_SOCKET_NAME))
                            .build())
                    .update(http -> httpListener(http, settings, guard))
                    .maxPayloadSize(MAX_REQUEST_BYTES)
                    .directHandlers(SchedulerHttp.directHandlers())
                    .routing(routing -> SchedulerHttp.routing(routing, registry, gateway, readiness, metrics,
                            ApiAccess.of(tokens, audit)))
                    .putSocket(GRPC_SOCKET, grpc -> {
                        listener(grpc, settings.grpcAddress(), settings);
                        settings.grpcTls().ifPresent(tls -> grpc.tls(tls.helidonTls()));
                        GrpcRouting.Builder routing = GrpcRouting.builder();
                        // With mutual TLS only workers may call: RegisterWorker and DeregisterWorker are theirs.
                        identities.ifPresent(any -> routing.intercept(PeerIdentityInterceptor.allowing(PeerRole.WORKER)));
                        grpc.addRouting(routing.service(grpcService));
                    })
                    .build();
        } catch (RuntimeException e) {
            release.run();
            throw new ServerStartException("cannot set up the scheduler's sockets: " + e.getMessage(), e);
        }
        try {
            server.start();
        } catch (RuntimeException e) {
            server.stop();
            release.run();
            throw bindFailure(settings, e);
        }
        if (!server.isRunning() || server.port() == -1 || server.port(GRPC_SOCKET) == -1) {
            server.stop();
            release.run();
            throw bindFailure(settings, null);
        }
        socketsUp.set(true);
        LOGGER.log(INFO, "scheduler http listening on " + bound(settings.httpAddress(), server.port())
                + (settings.httpTls().isPresent() ? " (https)" : "")
                + tokens.map(t -> " (bearer tokens of " + t.path() + ")").orElse("")
                + settings.access().auditFile().map(f -> ", audit log " + f).orElse(""));
        LOGGER.log(INFO, "scheduler grpc listening on " + bound(settings.grpcAddress(), server.port(GRPC_SOCKET))
                + settings.grpcTls().map(tls -> tls.mutual() ? " (mutual tls)" : " (tls)").orElse(" (plaintext)"));
        exposed.ifPresent(line -> LOGGER.log(WARNING, line));
        return new SchedulerServer(server, core, ticker, grpcService, settings.drainTimeout(), guard, metrics, audit);
    }

    private static Optional<TokenFile> tokens(SchedulerSettings settings) {
        try {
            return settings.access().tokensFile().map(file -> TokenFile.open(file, Clock.systemUTC()));
        } catch (TokenFileException e) {
            throw new ServerStartException("auth.tokens_file: " + e.getMessage(), e);
        }
    }

    private static AuditLog audit(SchedulerSettings settings) {
        try {
            return settings.access().auditFile()
                    .map(file -> AuditLog.open(file, settings.access().auditMaxBytes(), Clock.systemUTC()))
                    .orElseGet(AuditLog::disabled);
        } catch (AuditException e) {
            throw new ServerStartException(e.getMessage(), e);
        }
    }

    public int httpPort() {
        return server.port();
    }

    public int grpcPort() {
        return server.port(GRPC_SOCKET);
    }

    public WorkerRegistry registry() {
        return core.registry();
    }

    /**
     * Ends output streams (a follow lasts as long as its job, so it would hold the drain to its
     * end), refuses new worker calls and lets those in flight finish (Helidon's stop would cut
     * them, see {@link InFlight}), then stops accepting and waits up to the drain timeout (per
     * socket) for HTTP requests in flight.
     */
    @Override
    public void close() {
        core.gateway().endStreams();
        try {
            grpcService.drain(drainTimeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        server.stop();
        guard.close();
        ticker.shutdownNow();
        core.close();
        metrics.close();
        audit.close();
    }

    /**
     * The HTTP API socket: HTTP/1.1 only, every connection read through the {@link RequestGuard}
     * (header and idle timeouts, checks of the first request head). Helidon's own idle check
     * gets the same timeout, so it never closes a connection the guard would keep. The gRPC
     * socket keeps Helidon's defaults: its connections are the workers' and must not be cut.
     */
    private static void httpListener(ListenerConfig.BuilderBase<?, ?> http, SchedulerSettings settings, RequestGuard guard) {
        listener(http, settings.httpAddress(), settings);
        settings.httpTls().ifPresent(tls -> http.tls(tls.helidonTls()));
        // Plaintext: plain sockets, which write a response chunk in one write(2); Helidon 4.5.0's
        // NioSocket takes one per 8 KiB (docs/helidon-notes.md, "Output throughput"). TLS keeps
        // NIO, which the handshake deadline relies on (security/HandshakeDeadline).
        http.useNio(settings.httpTls().isPresent());
        Duration idle = settings.idleTimeout();
        http.protocolsDiscoverServices(false)
                .protocols(List.of())
                .addConnectionSelector(guard)
                .idleConnectionTimeout(idle)
                // Helidon checks idleness on this period, against a clock it refreshes once a second.
                .idleConnectionPeriod(Duration.ofMillis(Math.clamp(idle.toMillis() / 4, 1000, 120_000)));
    }

    /** The gRPC socket's safe defaults ({@link Exposure}); the line to log when {@code insecure} overrode them. */
    private static Optional<String> exposure(SchedulerSettings settings) {
        try {
            return new Exposure("grpc_server.addr", settings.grpcAddress(), "register workers at any address"
                    + " (the scheduler then sends them jobs) and deregister any worker")
                    .check(settings.grpcTls().filter(ServerTls::mutual).isPresent(), false, settings.grpcInsecure());
        } catch (Exposure.UnsafeException e) {
            throw new ServerStartException(e.getMessage(), e);
        }
    }

    private static void listener(ListenerConfig.BuilderBase<?, ?> listener, Address address, SchedulerSettings settings) {
        listener.host(address.host())
                .port(address.port())
                .connectionOptions(options -> options.tcpNoDelay(true))
                .shutdownGracePeriod(settings.drainTimeout());
    }


    // Helidon reports only that a listener failed (port -1 on every socket); binding each
    // address once more ourselves tells which one failed, and why.
    private static ServerStartException bindFailure(SchedulerSettings settings, RuntimeException e) {
        for (var socket : List.of(Map.entry("http_server.addr", settings.httpAddress()),
                Map.entry("grpc_server.addr", settings.grpcAddress()))) {
            Optional<String> reason = ServerStartException.bindError(socket.getValue());
            if (reason.isPresent()) {
                return ServerStartException.bindFailure(socket.getKey(), socket.getValue(), reason.get(), e);
            }
        }
        return new ServerStartException("cannot start the scheduler on http_server.addr " + settings.httpAddress()
                + " and grpc_server.addr " + settings.grpcAddress()
                + (e != null && e.getMessage() != null ? ": " + e.getMessage() : ""), e);
    }

    private static String bound(Address configured, int port) {
        return new Address(configured.host(), port).toString();
    }
}
