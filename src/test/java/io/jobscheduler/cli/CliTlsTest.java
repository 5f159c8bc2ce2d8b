package io.jobscheduler.cli;

import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import io.jobscheduler.scheduler.TestServers;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Map;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code --ca-file} and {@code JOBSCHEDULER_CA_FILE} against an HTTPS server on 127.0.0.1 with the test CA's certificate. */
class CliTlsTest {
    private static final String WORKERS = "{\"workers\":[{\"id\":\"w1\",\"address\":\"127.0.0.1:1\",\"state\":\"alive\",\"running_jobs\":0}]}\n";

    @TempDir
    Path dir;
    private HttpsServer server;
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();

    @BeforeEach
    void startServer() throws Exception {
        server = HttpsServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setHttpsConfigurator(new HttpsConfigurator(serverContext()));
        server.createContext("/workers", exchange -> {
            byte[] body = WORKERS.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stopServer() {
        server.stop(0);
    }

    @Test
    void theCaFileOfTheFlagOrTheEnvironmentIsTrusted() {
        String ca = TestServers.tlsFile("ca.pem").toString();
        assertEquals(0, run(Map.of(), "workers", "--server", url(), "--ca-file", ca), err.toString());
        assertTrue(out.toString().contains("w1   127.0.0.1:1   alive"), out.toString());
        assertEquals(0, run(Map.of("JOBSCHEDULER_CA_FILE", ca, "JOBSCHEDULER_SERVER", url()), "workers", "--json"), err.toString());
        assertTrue(out.toString().endsWith(WORKERS), out.toString());
    }

    @Test
    void withoutTheCaTheHandshakeFailsInOneLine() {
        assertEquals(125, run(Map.of(), "workers", "--server", url()));
        assertTrue(err.toString().startsWith("jobscheduler: cannot reach the scheduler at " + url() + ": TLS: "), err.toString());
        assertEquals(1, err.toString().lines().count(), err.toString());
    }

    @Test
    void aCaFileThatIsMissingOrNotPemIsAnError() throws Exception {
        assertEquals(125, run(Map.of(), "workers", "--server", url(), "--ca-file", dir.resolve("none.pem").toString()));
        assertTrue(err.toString().startsWith("jobscheduler: cannot read the CA file "), err.toString());
        err.reset();
        Path text = Files.writeString(dir.resolve("text.pem"), "not a certificate\n");
        assertEquals(125, run(Map.of(), "workers", "--server", url(), "--ca-file", text.toString()));
        assertTrue(err.toString().contains("the CA file " + text), err.toString());
    }

    private String url() {
        return "https://127.0.0.1:" + server.getAddress().getPort();
    }

    private int run(Map<String, String> env, String... args) {
        out.reset();
        return Cli.commandLine(new Context(env, new PrintStream(out, true), new PrintStream(err, true), false)).execute(args);
    }

    /** The test server's certificate (for 127.0.0.1) and its PKCS#8 RSA key. */
    private static SSLContext serverContext() throws Exception {
        String pem = Files.readString(TestServers.tlsFile("server.key"));
        byte[] der = Base64.getMimeDecoder().decode(pem.replaceAll("-----[A-Z ]+-----", ""));
        PrivateKey key = KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(der));
        Certificate certificate;
        try (var in = Files.newInputStream(TestServers.tlsFile("server.pem"))) {
            certificate = CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        KeyStore keys = KeyStore.getInstance("PKCS12");
        keys.load(null, null);
        keys.setKeyEntry("server", key, new char[0], new Certificate[] {certificate});
        KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        factory.init(keys, new char[0]);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(factory.getKeyManagers(), null, null);
        return context;
    }
}
