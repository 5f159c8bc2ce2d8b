package io.jobscheduler.scheduler;

import io.helidon.webserver.ListenerConfig;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.grpc.GrpcRouting;
import io.helidon.webserver.observe.ObserveFeature;
import io.helidon.webserver.observe.health.HealthObserver;
import io.jobscheduler.config.Address;
import io.jobscheduler.config.SchedulerSettings;
import io.jobscheduler.scheduler.http.SchedulerHttp;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static java.lang.System.Logger.Level.INFO;

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

    private static final System.Logger LOGGER = System.getLogger(SchedulerServer.class.getName());

    private final WebServer server;
    private final SchedulerCore core;
    private final ScheduledExecutorService ticker;
    private final SchedulerGrpcService grpcService;
    private final Duration drainTimeout;

    private SchedulerServer(WebServer server, SchedulerCore core, ScheduledExecutorService ticker,
                            SchedulerGrpcService grpcService, Duration drainTimeout) {
        this.server = server;
        this.core = core;
        this.ticker = ticker;
        this.grpcService = grpcService;
        this.drainTimeout = drainTimeout;
    }

    /**
     * Starts a scheduler with an empty registry on the system clock. Port 0 in the settings binds
     * a free port.
     *
     * @throws ServerStartException when a socket cannot be bound or TLS cannot be set up
     */
    public static SchedulerServer start(SchedulerSettings settings) {
        return start(settings, WorkerRegistry.Listener.NONE);
    }

    /** As {@link #start(SchedulerSettings)}; {@code observer} is told of every worker that joins. */
    public static SchedulerServer start(SchedulerSettings settings, WorkerRegistry.Listener observer) {
        SchedulerCore core = SchedulerCore.create(settings, Clock.systemUTC(), observer);
        WorkerRegistry registry = core.registry();
        JobGateway gateway = core.gateway();
        // Liveness sweeps run on one platform thread of their own, so HTTP load on the virtual
        // threads cannot starve them into a false DOWN.
        ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("liveness").daemon().factory());
        long period = core.sweepPeriod().toMillis();
        ticker.scheduleWithFixedDelay(core::sweep, period, period, TimeUnit.MILLISECONDS);
        Runnable release = () -> {
            ticker.shutdownNow();
            core.close();
        };
        SchedulerGrpcService grpcService = new SchedulerGrpcService(registry, settings.workerTtl(), gateway::departing);
        WebServer server;
        try {
            server = WebServer.builder()
                    // Main owns the process lifecycle and calls close(); no hidden JVM hook.
                    .shutdownHook(false)
                    .featuresDiscoverServices(false)
                    .addFeature(ObserveFeature.just(HealthObserver.create()))
                    .update(http -> listener(http, settings.httpAddress(), settings))
                    .maxPayloadSize(MAX_REQUEST_BYTES)
                    .directHandlers(SchedulerHttp.directHandlers())
                    .routing(routing -> SchedulerHttp.routing(routing, registry, gateway))
                    .putSocket(GRPC_SOCKET, grpc -> {
                        listener(grpc, settings.grpcAddress(), settings);
                        settings.grpcTls().ifPresent(tls -> grpc.tls(tls.helidonTls()));
                        grpc.addRouting(GrpcRouting.builder().service(grpcService));
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
        LOGGER.log(INFO, "scheduler http listening on " + bound(settings.httpAddress(), server.port()));
        LOGGER.log(INFO, "scheduler grpc listening on " + bound(settings.grpcAddress(), server.port(GRPC_SOCKET))
                + (settings.grpcTls().isPresent() ? " (tls)" : " (plaintext)"));
        return new SchedulerServer(server, core, ticker, grpcService, settings.drainTimeout());
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
        ticker.shutdownNow();
        core.close();
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
