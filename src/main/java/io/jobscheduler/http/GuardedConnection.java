package io.jobscheduler.http;

import io.helidon.common.buffers.BufferData;
import io.helidon.common.buffers.DataReader;
import io.helidon.common.buffers.DataWriter;
import io.helidon.common.concurrency.limits.Limit;
import io.helidon.common.socket.HelidonSocket;
import io.helidon.common.socket.PeerInfo;
import io.helidon.common.task.InterruptableTask;
import io.helidon.http.Status;
import io.helidon.webserver.ConnectionContext;
import io.helidon.webserver.ListenerContext;
import io.helidon.webserver.ProxyProtocolData;
import io.helidon.webserver.Router;
import io.helidon.webserver.spi.ServerConnection;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.atomic.AtomicBoolean;

import static java.lang.System.Logger.Level.DEBUG;

/**
 * One HTTP connection as {@link RequestGuard} sees it: Helidon's HTTP/1 connection reads through
 * this context, so the guard sees every byte before Helidon does (the first request head is
 * checked by {@link RequestHead}), knows when a request head started and when it was complete,
 * and how long a read has waited for the client. The guard's watchdog answers a head that is
 * too slow with 408 and closes the connection, and closes a connection whose read has waited
 * the idle timeout for a byte (idle between requests, or stalled in a request body).
 */
final class GuardedConnection implements ConnectionContext {
    private static final System.Logger LOGGER = System.getLogger(GuardedConnection.class.getName());

    private final ConnectionContext socket;
    private final long headerTimeoutNanos;
    private final long idleTimeoutNanos;
    private final DataReader reader;
    private final AtomicBoolean closing = new AtomicBoolean();

    // Written by the connection's thread, read by the guard's watchdog.
    private volatile long headDeadline;
    private volatile long waitingSince;
    private volatile boolean inRequest;
    private volatile boolean answered;
    private volatile boolean lastRequest;
    // Only the connection's thread touches this; null once the first head has passed.
    private RequestHead firstHead;

    GuardedConnection(ConnectionContext socket, RequestHead firstHead, Duration headerTimeout, Duration idleTimeout) {
        this.socket = socket;
        this.firstHead = firstHead;
        this.headerTimeoutNanos = headerTimeout.toNanos();
        this.idleTimeoutNanos = idleTimeout.toNanos();
        this.waitingSince = System.nanoTime();
        this.reader = DataReader.create(this::nextBytes);
    }

    /** Helidon's connection, made on this context, with the guard told when it ends. */
    ServerConnection wrap(ServerConnection http1, Runnable onEnd) {
        return new Connection(http1, onEnd);
    }

    /**
     * Helidon has read a request's headers: the head is complete, its time limit no longer applies.
     * {@code lastRequest}: the request asked for {@code Connection: close}.
     */
    void headersRead(boolean lastRequest) {
        this.lastRequest = lastRequest;
        inRequest = true;
        headDeadline = 0;
    }

    /** Helidon writes a response: bytes read from now on belong to the next request. */
    void responseStarted() {
        answered = true;
        inRequest = false;
    }

    /**
     * Called by the watchdog. When a request head has been arriving for longer than the header
     * timeout, answers 408 (unless a response was written before, which may still be in flight)
     * and closes the socket, which ends Helidon's read. When a read has waited the idle timeout,
     * closes the socket.
     */
    void expire(long now) {
        long deadline = headDeadline;
        long waiting = waitingSince;
        boolean slowHead = deadline != 0 && now - deadline >= 0;
        boolean idle = waiting != 0 && now - waiting >= idleTimeoutNanos;
        if (!(slowHead || idle) || !closing.compareAndSet(false, true)) {
            return;
        }
        LOGGER.log(DEBUG, () -> "closing " + socket.remotePeer().address()
                + (slowHead ? ": request headers not complete in time" : ": idle"));
        if (slowHead && !answered) {
            writeError(408, "request headers did not arrive within the header timeout");
        }
        socket.serverSocket().close();
    }

    // The reader Helidon parses: bytes pass through once the first head is judged. After the
    // answer to a request that asked for Connection: close, the stream ends here: Helidon 4.5.0
    // answers "Connection: close" but would wait for a next request (docs/helidon-notes.md), and a
    // client that reads to the connection's end (as HTTP/1.0 ones may) would wait with it.
    private byte[] nextBytes() {
        if (closing.get() || lastRequest && answered && !inRequest) {
            return null;
        }
        byte[] bytes = pull();
        if (bytes == null || firstHead == null) {
            return bytes;
        }
        while (true) {
            switch (firstHead.add(bytes, localAuthority())) {
                case RequestHead.Pass pass -> {
                    firstHead = null;
                    return pass.bytes();
                }
                case RequestHead.Refuse refuse -> {
                    if (closing.compareAndSet(false, true)) {
                        writeError(refuse.status(), refuse.message());
                    }
                    return null;
                }
                case RequestHead.NeedMore needMore -> {
                    bytes = pull();
                    if (bytes == null) {
                        return null;
                    }
                }
            }
        }
    }

    private byte[] pull() {
        DataReader source = socket.dataReader();
        waitingSince = System.nanoTime();
        try {
            while (source.available() == 0) {
                source.pullData();
            }
        } catch (DataReader.InsufficientDataAvailableException e) {
            return null;
        } catch (RuntimeException e) {
            if (closing.get()) {
                return null; // the guard closed the socket under this read
            }
            throw e;
        } finally {
            waitingSince = 0;
        }
        byte[] bytes = source.readBytes(source.available());
        if (!inRequest && headDeadline == 0) {
            headDeadline = System.nanoTime() + headerTimeoutNanos;
        }
        return bytes;
    }

    private void writeError(int code, String message) {
        Status status = Status.create(code);
        byte[] body = new ErrorBody(message).bytes();
        String head = "HTTP/1.1 " + status.code() + " " + status.reasonPhrase() + "\r\n"
                + "Content-Type: application/json\r\nContent-Length: " + body.length + "\r\nConnection: close\r\n\r\n";
        byte[] head8859 = head.getBytes(StandardCharsets.ISO_8859_1);
        byte[] response = Arrays.copyOf(head8859, head8859.length + body.length);
        System.arraycopy(body, 0, response, head8859.length, body.length);
        try {
            socket.dataWriter().writeNow(BufferData.create(response));
        } catch (RuntimeException e) {
            LOGGER.log(DEBUG, () -> "cannot answer " + code + " to " + socket.remotePeer().address() + ": " + e);
        }
    }

    private String localAuthority() {
        PeerInfo local = socket.localPeer();
        return local.host() + ":" + local.port();
    }

    @Override
    public DataReader dataReader() {
        return reader;
    }

    @Override
    public DataWriter dataWriter() {
        return socket.dataWriter();
    }

    @Override
    public ListenerContext listenerContext() {
        return socket.listenerContext();
    }

    @Override
    public ExecutorService executor() {
        return socket.executor();
    }

    @Override
    public Router router() {
        return socket.router();
    }

    @Override
    public Optional<ProxyProtocolData> proxyProtocolData() {
        return socket.proxyProtocolData();
    }

    @Override
    public HelidonSocket serverSocket() {
        return socket.serverSocket();
    }

    @Override
    public PeerInfo remotePeer() {
        return socket.remotePeer();
    }

    @Override
    public PeerInfo localPeer() {
        return socket.localPeer();
    }

    @Override
    public boolean isSecure() {
        return socket.isSecure();
    }

    @Override
    public String socketId() {
        return socket.socketId();
    }

    @Override
    public String childSocketId() {
        return socket.childSocketId();
    }

    /** Helidon's connection, unchanged but for telling the guard when it ends. */
    private static final class Connection implements ServerConnection, InterruptableTask<Void> {
        private final ServerConnection http1;
        private final Runnable onEnd;

        Connection(ServerConnection http1, Runnable onEnd) {
            this.http1 = http1;
            this.onEnd = onEnd;
        }

        @Override
        public void handle(Limit limit) throws InterruptedException {
            try {
                http1.handle(limit);
            } finally {
                onEnd.run();
            }
        }

        @Override
        public Duration idleTime() {
            return http1.idleTime();
        }

        @Override
        public void close(boolean interrupt) {
            http1.close(interrupt);
        }

        @Override
        public boolean canInterrupt() {
            return http1 instanceof InterruptableTask<?> task && task.canInterrupt();
        }
    }
}
