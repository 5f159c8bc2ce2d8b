package io.jobscheduler.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;

/**
 * The set-up of README "Mutual TLS", on the packaged jar: certificates made with {@code certs},
 * a scheduler and a worker with mutual TLS on both gRPC hops and HTTPS for the API, and the
 * command-line client running, starting and stopping jobs over HTTPS with {@code --ca-file}.
 */
class MutualTlsIT {
    @TempDir
    Path dir;

    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void stop() throws InterruptedException {
        for (Process process : processes.reversed()) {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void aClusterWithMutualTlsBothWaysAndHttpsRunsStreamsAndStopsJobs() throws Exception {
        Path pki = dir.resolve("pki");
        jar("certs", "ca", pki.toString());
        jar("certs", "issue", pki.toString(), "--role", "scheduler", "--name", "sched", "--san", "127.0.0.1", "--san", "localhost");
        jar("certs", "issue", pki.toString(), "--role", "worker", "--name", "w1", "--san", "127.0.0.1");
        int http = Cluster.freeLoopbackPort();
        int grpc = Cluster.freeLoopbackPort();
        int workerPort = Cluster.freeLoopbackPort();
        String ca = pki.resolve("ca.pem").toString();
        Map<String, String> scheduler = Map.ofEntries(
                Map.entry("JOBSCHEDULER_HTTP_SERVER_ADDR", "127.0.0.1:" + http),
                Map.entry("JOBSCHEDULER_HTTP_SERVER_USE_TLS", "true"),
                Map.entry("JOBSCHEDULER_HTTP_SERVER_CRT_FILE", pki.resolve("sched.pem").toString()),
                Map.entry("JOBSCHEDULER_HTTP_SERVER_KEY_FILE", pki.resolve("sched.key").toString()),
                Map.entry("JOBSCHEDULER_GRPC_SERVER_ADDR", "127.0.0.1:" + grpc),
                Map.entry("JOBSCHEDULER_GRPC_SERVER_USE_TLS", "true"),
                Map.entry("JOBSCHEDULER_GRPC_SERVER_CRT_FILE", pki.resolve("sched.pem").toString()),
                Map.entry("JOBSCHEDULER_GRPC_SERVER_KEY_FILE", pki.resolve("sched.key").toString()),
                Map.entry("JOBSCHEDULER_GRPC_SERVER_CLIENT_CA_FILE", ca),
                Map.entry("JOBSCHEDULER_WORKERS_USE_TLS", "true"),
                Map.entry("JOBSCHEDULER_WORKERS_CA_FILE", ca),
                Map.entry("JOBSCHEDULER_WORKERS_CRT_FILE", pki.resolve("sched.pem").toString()),
                Map.entry("JOBSCHEDULER_WORKERS_KEY_FILE", pki.resolve("sched.key").toString()));
        Map<String, String> worker = Map.ofEntries(
                Map.entry("JOBSCHEDULER_GRPC_SERVER_ADDR", "127.0.0.1:" + workerPort),
                Map.entry("JOBSCHEDULER_GRPC_SERVER_USE_TLS", "true"),
                Map.entry("JOBSCHEDULER_GRPC_SERVER_CRT_FILE", pki.resolve("w1.pem").toString()),
                Map.entry("JOBSCHEDULER_GRPC_SERVER_KEY_FILE", pki.resolve("w1.key").toString()),
                Map.entry("JOBSCHEDULER_GRPC_SERVER_CLIENT_CA_FILE", ca),
                Map.entry("JOBSCHEDULER_SCHEDULER_ADDR", "127.0.0.1:" + grpc),
                Map.entry("JOBSCHEDULER_SCHEDULER_USE_TLS", "true"),
                Map.entry("JOBSCHEDULER_SCHEDULER_CA_FILE", ca),
                Map.entry("JOBSCHEDULER_SCHEDULER_CRT_FILE", pki.resolve("w1.pem").toString()),
                Map.entry("JOBSCHEDULER_SCHEDULER_KEY_FILE", pki.resolve("w1.key").toString()));
        processes.add(Cluster.startJar(dir.resolve("scheduler"), dir.resolve("scheduler.log"), scheduler, "scheduler"));
        processes.add(Cluster.startJar(dir.resolve("worker"), dir.resolve("worker.log"), worker, "worker"));

        String base = "https://localhost:" + http;
        HttpClient https = HttpClient.newBuilder().sslContext(trusting(pki.resolve("ca.pem"))).build();
        Cluster.await("the worker to register over mutual TLS", Duration.ofSeconds(60), () -> {
            try {
                return https.send(HttpRequest.newBuilder(URI.create(base + "/workers")).build(),
                        HttpResponse.BodyHandlers.ofString()).body().contains("\"state\":\"alive\"");
            } catch (IOException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        });
        String workerLog = Files.readString(dir.resolve("worker.log"));
        assertThat(workerLog, containsString("(mutual TLS)"));
        assertThat(Files.readString(dir.resolve("scheduler.log")), containsString("(mutual tls)"));

        Cli ran = cli(base, ca, "run", "--", "sh", "-c", "echo streamed over mtls; exit 3");
        assertThat(ran.toString(), ran.status(), is(3));
        assertThat(ran.out(), is("streamed over mtls\n"));

        Cli started = cli(base, ca, "start", "--", "sleep", "600");
        assertThat(started.toString(), started.status(), is(0));
        String jobId = started.out().strip();
        Cli stopped = cli(base, ca, "stop", jobId);
        assertThat(stopped.toString(), stopped.status(), is(0));
        Cli status = cli(base, ca, "status", "--json", jobId);
        assertThat(status.out(), containsString("\"state\":\"STOPPED\""));
    }

    private record Cli(int status, String out, String err) {
    }

    private Cli cli(String server, String ca, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of(args[0], "--server", server, "--ca-file", ca));
        all.addAll(List.of(args).subList(1, args.length));
        Path out = dir.resolve("cli.out");
        Process process = Cluster.startJar(dir.resolve("cli"), out, Map.of(), all.toArray(String[]::new));
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("jobscheduler " + all + " did not end");
        }
        String text = Files.readString(out);
        return new Cli(process.exitValue(), text, text);
    }

    private void jar(String... args) throws Exception {
        Process process = Cluster.startJar(dir.resolve("certs-home"), dir.resolve("certs.log"), Map.of(), args);
        assertThat(String.join(" ", args) + ": " + (process.waitFor(60, TimeUnit.SECONDS) ? "" : "did not end"),
                process.exitValue(), is(0));
    }

    private static SSLContext trusting(Path caFile) throws Exception {
        KeyStore store = KeyStore.getInstance("PKCS12");
        store.load(null, null);
        try (InputStream in = Files.newInputStream(caFile)) {
            store.setCertificateEntry("ca", CertificateFactory.getInstance("X.509").generateCertificate(in));
        }
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(store);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, trust.getTrustManagers(), null);
        return context;
    }
}
