package io.jobscheduler.security;

import java.security.KeyManagementException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLContextSpi;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocketFactory;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;

/**
 * A server {@link SSLContext} whose connections must finish their TLS handshake within a deadline,
 * or are dropped. Helidon 4.5.0 has no such setting: its NIO listener (the default) makes one
 * {@link SSLEngine} per accepted connection, on that connection's own virtual thread, and
 * handshakes lazily inside its first blocking read, with no timeout (docs/helidon-notes.md, "TLS
 * handshake timeout"). So each engine made for a peer arms a timer; if the engine has no session
 * yet when it fires, the thread that made it is interrupted, and its blocked read on the
 * {@code SocketChannel} closes the channel (an interruptible channel), which ends the connection.
 * An engine whose handshake finished is never touched.
 */
public final class HandshakeDeadline extends SSLContext {
    /** The cipher suite of the JDK's null session: the one an engine reports before its handshake is done. */
    private static final String NO_SESSION_YET = "SSL_NULL_WITH_NULL_NULL";

    private HandshakeDeadline(SSLContext delegate, Duration timeout) {
        super(new Spi(delegate, timeout), delegate.getProvider(), delegate.getProtocol());
    }

    /** {@code delegate}, whose connections get {@code timeout} to finish their handshake. */
    public static SSLContext wrap(SSLContext delegate, Duration timeout) {
        return new HandshakeDeadline(delegate, timeout);
    }

    private static final class Spi extends SSLContextSpi {
        private final SSLContext delegate;
        private final Duration timeout;

        Spi(SSLContext delegate, Duration timeout) {
            this.delegate = delegate;
            this.timeout = timeout;
        }

        @Override
        protected void engineInit(KeyManager[] keys, TrustManager[] trust, SecureRandom random) throws KeyManagementException {
            delegate.init(keys, trust, random);
        }

        @Override
        protected SSLSocketFactory engineGetSocketFactory() {
            return delegate.getSocketFactory();
        }

        @Override
        protected SSLServerSocketFactory engineGetServerSocketFactory() {
            return delegate.getServerSocketFactory();
        }

        /** Not for a peer (Helidon makes one at start to read the settings): no deadline. */
        @Override
        protected SSLEngine engineCreateSSLEngine() {
            return delegate.createSSLEngine();
        }

        @Override
        protected SSLEngine engineCreateSSLEngine(String host, int port) {
            SSLEngine engine = delegate.createSSLEngine(host, port);
            Thread connection = Thread.currentThread();
            CompletableFuture.delayedExecutor(timeout.toMillis(), TimeUnit.MILLISECONDS).execute(() -> {
                if (NO_SESSION_YET.equals(engine.getSession().getCipherSuite())) {
                    connection.interrupt();
                }
            });
            return engine;
        }

        @Override
        protected SSLSessionContext engineGetServerSessionContext() {
            return delegate.getServerSessionContext();
        }

        @Override
        protected SSLSessionContext engineGetClientSessionContext() {
            return delegate.getClientSessionContext();
        }

        @Override
        protected SSLParameters engineGetDefaultSSLParameters() {
            return delegate.getDefaultSSLParameters();
        }

        @Override
        protected SSLParameters engineGetSupportedSSLParameters() {
            return delegate.getSupportedSSLParameters();
        }
    }
}
