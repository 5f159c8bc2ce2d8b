package io.jobscheduler.security;

import io.jobscheduler.config.ConfigException;
import io.jobscheduler.config.ConfigLoader;
import io.jobscheduler.config.SchedulerSettings;
import io.jobscheduler.config.ServerTls;
import io.jobscheduler.config.WorkerSettings;
import io.jobscheduler.scheduler.SchedulerServer;
import io.jobscheduler.scheduler.TestServers;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.startsWith;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The TLS transport of both scheduler sockets: {@code tls_handshake_timeout} drops a connection
 * whose handshake does not finish (Helidon has no such setting: {@link HandshakeDeadline}), and
 * {@code tls_min_version} is the oldest version spoken.
 */
class TlsTransportTest {
    /** How long the test waits for the server to drop a connection: the deadline is 3 s, the HTTP header timeout 30 s. */
    private static final int DROP_WAIT_MILLIS = 20_000;

    @TempDir
    Path dir;

    private TestPki pki;
    private SchedulerServer scheduler;

    @BeforeEach
    void makeCertificates() {
        pki = new TestPki(dir.resolve("pki"));
        pki.issue(PeerRole.SCHEDULER, "scheduler");
    }

    @AfterEach
    void stop() {
        if (scheduler != null) {
            scheduler.close();
        }
    }

    private void start(String minVersion) {
        if (scheduler != null) {
            scheduler.close();
        }
        ServerTls tls = new ServerTls(pki.certificate("scheduler"), pki.key("scheduler"), Optional.empty(), minVersion,
                Duration.ofSeconds(3));
        scheduler = SchedulerServer.start(TestServers.plaintext().withTls(Optional.of(tls), Optional.empty(), Optional.of(tls)));
        // A first handshake loads and compiles the TLS code on both sides, so that the test's own
        // finish well within the deadline on a loaded machine.
        try (SSLSocket warmUp = tlsSocket(scheduler.httpPort(), "TLSv1.3")) {
            warmUp.startHandshake();
        } catch (Exception e) {
            throw new IllegalStateException("the warm-up handshake failed", e);
        }
    }

    @Test
    void aHandshakeThatDoesNotFinishInTimeIsDroppedAndAFinishedOneIsKept() throws Exception {
        start("1.3");
        try (SSLSocket established = tlsSocket(scheduler.httpPort(), "TLSv1.3");
             Socket silentHttp = new Socket("127.0.0.1", scheduler.httpPort());
             Socket halfHelloHttp = new Socket("127.0.0.1", scheduler.httpPort());
             Socket silentGrpc = new Socket("127.0.0.1", scheduler.grpcPort())) {
            established.startHandshake();
            // A TLS record header announcing a 512-byte handshake message, then only its first bytes.
            halfHelloHttp.getOutputStream().write(new byte[]{0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, (byte) 0xfc, 0x03, 0x03});
            halfHelloHttp.getOutputStream().flush();
            assertDropped(silentHttp);
            assertDropped(halfHelloHttp);
            assertDropped(silentGrpc);
            // Its deadline passed long ago: a connection whose handshake finished is never dropped.
            OutputStream out = established.getOutputStream();
            out.write("GET /workers HTTP/1.1\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            established.setSoTimeout(DROP_WAIT_MILLIS);
            String head = new String(established.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
            assertThat(head, is("HTTP/1.1 200"));
        }
    }

    @Test
    void theDefaultMinimumIsTls13AndTls12IsSpokenOnlyWhenAllowed() throws Exception {
        start("1.3");
        try (SSLSocket old = tlsSocket(scheduler.httpPort(), "TLSv1.2")) {
            assertThrows(IOException.class, old::startHandshake);
        }
        try (SSLSocket old = tlsSocket(scheduler.grpcPort(), "TLSv1.2")) {
            assertThrows(IOException.class, old::startHandshake);
        }
        start("1.2");
        try (SSLSocket old = tlsSocket(scheduler.httpPort(), "TLSv1.2")) {
            old.startHandshake();
            assertThat(old.getSession().getProtocol(), is("TLSv1.2"));
        }
    }

    @Test
    void tlsMinVersionAndHandshakeTimeoutAreCheckedWhenTheConfigurationIsRead() throws IOException {
        Files.copy(pki.certificate("scheduler"), dir.resolve("server.pem"));
        Files.copy(pki.key("scheduler"), dir.resolve("server.key"));
        SchedulerSettings defaults = scheduler("[http_server]\nuse_tls = true\n[grpc_server]\nuse_tls = true\n");
        assertThat(defaults.httpTls().orElseThrow().minVersion(), is("1.3"));
        assertThat(defaults.grpcTls().orElseThrow().handshakeTimeout(), is(Duration.ofSeconds(10)));
        assertThat(scheduler("[grpc_server]\nuse_tls = true\ntls_min_version = \"1.2\"\n").grpcTls().orElseThrow()
                .minVersion(), is("1.2"));
        ConfigException old = assertThrows(ConfigException.class,
                () -> scheduler("[http_server]\nuse_tls = true\ntls_min_version = \"1.1\"\n"));
        assertThat(old.getMessage(), startsWith("http_server.tls_min_version: '1.1' is not a TLS version"));
        ConfigException zero = assertThrows(ConfigException.class,
                () -> scheduler("[grpc_server]\nuse_tls = true\ntls_handshake_timeout = \"0s\"\n"));
        assertThat(zero.getMessage(), containsString("grpc_server.tls_handshake_timeout"));
        ConfigException caWithoutTls = assertThrows(ConfigException.class,
                () -> worker("[grpc_server]\nclient_ca_file = \"server.pem\"\n"));
        assertThat(caWithoutTls.getMessage(), is("grpc_server.client_ca_file: requires grpc_server.use_tls = true"));
        ConfigException keyWithoutTls = assertThrows(ConfigException.class,
                () -> worker("[scheduler]\ncrt_file = \"server.pem\"\nkey_file = \"server.key\"\n"));
        assertThat(keyWithoutTls.getMessage(), is("scheduler.crt_file: requires scheduler.use_tls = true"));
        WorkerSettings mutual = worker("[grpc_server]\nuse_tls = true\nclient_ca_file = \"server.pem\"\n"
                + "[scheduler]\nuse_tls = true\nca_file = \"server.pem\"\ncrt_file = \"server.pem\"\nkey_file = \"server.key\"\n");
        assertThat(mutual.grpcTls().orElseThrow().mutual(), is(true));
        assertThat(mutual.schedulerTls().orElseThrow().mutual(), is(true));
    }

    private SchedulerSettings scheduler(String toml) throws IOException {
        Path file = Files.writeString(dir.resolve("config.toml"), toml);
        return SchedulerSettings.from(new ConfigLoader(SchedulerSettings.SCHEMA, Map.of(), dir)
                .load(Optional.of(file), SchedulerSettings.FILE_NAME, Map.of()));
    }

    private WorkerSettings worker(String toml) throws IOException {
        Path file = Files.writeString(dir.resolve("worker.toml"), toml);
        return WorkerSettings.from(new ConfigLoader(WorkerSettings.SCHEMA, Map.of(), dir)
                .load(Optional.of(file), WorkerSettings.FILE_NAME, Map.of()), dir);
    }

    /** The server closes the connection: the read ends (EOF or reset) well before the test's wait. */
    private static void assertDropped(Socket socket) throws IOException {
        socket.setSoTimeout(DROP_WAIT_MILLIS);
        InputStream in = socket.getInputStream();
        try {
            while (true) {
                if (in.read() == -1) {
                    return;
                }
            }
        } catch (SocketTimeoutException e) {
            throw new AssertionError("the server kept a connection whose handshake never finished", e);
        } catch (IOException reset) {
            // A reset is a drop too.
        }
    }

    private SSLSocket tlsSocket(int port, String protocol) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        store.setCertificateEntry("ca", pki.ca.certificate());
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(store);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("localhost", port);
        socket.setEnabledProtocols(new String[]{protocol});
        socket.setSoTimeout(DROP_WAIT_MILLIS);
        return socket;
    }
}
