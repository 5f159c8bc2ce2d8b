package io.jobscheduler.http;

import io.helidon.common.buffers.BufferData;
import io.helidon.http.HeaderValues;
import io.helidon.http.Headers;
import io.helidon.http.Status;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.http1.Http1Config;
import io.helidon.webserver.http1.Http1ConnectionListener;
import io.helidon.webserver.http1.Http1ConnectionSelector;
import io.helidon.webserver.spi.ServerConnection;
import io.helidon.webserver.spi.ServerConnectionSelector;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import static java.lang.System.Logger.Level.DEBUG;

/**
 * The only connection selector of an HTTP/1.1 socket (the scheduler's API socket, a worker's
 * metrics socket): every connection is HTTP/1.1 (Helidon's own
 * selector would close a connection whose first line it does not recognise, without an answer;
 * docs/helidon-notes.md, "HTTP/1 request heads"), read through a {@link GuardedConnection} that
 * checks the first request head, bounds the time a request head may take to arrive and closes
 * connections that have waited the idle timeout for the client.
 * {@link #close()} stops the watchdog.
 */
public final class RequestGuard implements ServerConnectionSelector, AutoCloseable {
    private static final System.Logger LOGGER = System.getLogger(RequestGuard.class.getName());

    private final Http1ConnectionSelector http1;
    private final int maxRequestLine;
    private final int maxHead;
    private final Duration headerTimeout;
    private final Duration idleTimeout;
    private final Set<GuardedConnection> open = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService watchdog;

    /**
     * @param headerTimeout how long a request's head (request line and headers) may take to arrive
     * @param idleTimeout how long the server waits for a client's next byte (between requests or within one)
     */
    public RequestGuard(Duration headerTimeout, Duration idleTimeout) {
        this.headerTimeout = headerTimeout;
        this.idleTimeout = idleTimeout;
        // Helidon's HTTP/1 defaults; built here, as a copy of a built config keeps its old listeners.
        Http1Config http1 = Http1Config.builder()
                .addReceiveListener(new Http1ConnectionListener() {
                    @Override
                    public void headers(ConnectionContext ctx, Headers headers) {
                        if (ctx instanceof GuardedConnection connection) {
                            // The same test Helidon makes to answer "Connection: close".
                            connection.headersRead(headers.contains(HeaderValues.CONNECTION_CLOSE));
                        }
                    }
                })
                .addSendListener(new Http1ConnectionListener() {
                    @Override
                    public void status(ConnectionContext ctx, Status status) {
                        if (ctx instanceof GuardedConnection connection) {
                            connection.responseStarted();
                        }
                    }
                })
                .build();
        this.maxRequestLine = http1.maxPrologueLength();
        this.maxHead = http1.maxPrologueLength() + http1.maxHeadersSize();
        this.http1 = Http1ConnectionSelector.builder().config(http1).build();
        long period = Math.clamp(Math.min(headerTimeout.toMillis(), idleTimeout.toMillis()) / 10, 20, 1000);
        this.watchdog = Executors.newSingleThreadScheduledExecutor(Thread.ofPlatform()
                .name("http-header-timeout").daemon(true).factory());
        watchdog.scheduleWithFixedDelay(this::expire, period, period, TimeUnit.MILLISECONDS);
    }

    @Override
    public int bytesToIdentifyConnection() {
        return 0;
    }

    @Override
    public Support supports(BufferData data) {
        return Support.SUPPORTED;
    }

    @Override
    public Set<String> supportedApplicationProtocols() {
        return Set.of("http/1.1");
    }

    @Override
    public ServerConnection connection(ConnectionContext ctx) {
        GuardedConnection guarded = new GuardedConnection(ctx, new RequestHead(maxRequestLine, maxHead), headerTimeout,
                idleTimeout);
        open.add(guarded);
        return guarded.wrap(http1.connection(guarded), () -> open.remove(guarded));
    }

    private void expire() {
        long now = System.nanoTime();
        for (GuardedConnection connection : open) {
            try {
                connection.expire(now);
            } catch (RuntimeException e) {
                // One connection's failure to close must not end the watchdog (a scheduled task that throws is never run again).
                LOGGER.log(DEBUG, () -> "cannot close a slow connection: " + e);
            }
        }
    }

    @Override
    public void close() {
        watchdog.shutdownNow();
    }
}
