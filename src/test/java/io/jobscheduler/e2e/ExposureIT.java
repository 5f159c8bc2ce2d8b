package io.jobscheduler.e2e;

import io.jobscheduler.security.CertificateAuthority;
import io.jobscheduler.security.HostSan;
import io.jobscheduler.security.Identity;
import io.jobscheduler.security.PeerRole;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;

/**
 * The safe defaults of the gRPC sockets, on the packaged jar, each run inside a network namespace
 * of its own ({@code unshare -n}: its own loopback, with {@value #ADDRESS} added to it), never on
 * this machine's interfaces: off loopback a socket needs mutual TLS, a worker as root needs
 * {@code jobs.run_as}, and {@code [grpc_server] insecure = true} starts anyway, saying in one line
 * what is exposed.
 */
class ExposureIT {
    private static final String ADDRESS = "10.87.0.1";
    private static final Path JAR = Path.of("target/jobscheduler.jar").toAbsolutePath();
    private static final String JAVA = ProcessHandle.current().info().command().orElseThrow();

    @TempDir
    Path dir;

    private final List<Process> started = new ArrayList<>();

    private record Run(int status, String out, String err) {
    }

    @BeforeEach
    void needsNetworkNamespaces() throws Exception {
        Process probe = new ProcessBuilder("unshare", "-n", "ip", "addr", "add", ADDRESS + "/32", "dev", "lo")
                .redirectErrorStream(true).start();
        boolean ended = probe.waitFor(30, TimeUnit.SECONDS);
        String why = new String(probe.getInputStream().readAllBytes());
        if (!ended || probe.exitValue() != 0) {
            probe.destroyForcibly();
            System.err.println("SKIPPED ExposureIT: cannot make a network namespace with unshare -n and ip: " + why);
            Assumptions.abort("unshare -n / ip addr add unavailable here: " + why);
        }
        Instant now = Instant.now();
        CertificateAuthority ca = CertificateAuthority.create(now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(2)));
        ca.save(dir);
        List<HostSan> sans = List.of(HostSan.parse(ADDRESS), HostSan.parse("127.0.0.1"), HostSan.parse("localhost"));
        ca.issue(new Identity(PeerRole.SCHEDULER, "scheduler"), sans, now.minus(Duration.ofHours(1)),
                now.plus(Duration.ofDays(1))).save(dir, "scheduler");
        ca.issue(new Identity(PeerRole.WORKER, "w1"), sans, now.minus(Duration.ofHours(1)),
                now.plus(Duration.ofDays(1))).save(dir, "w1");
    }

    @AfterEach
    void stopEverything() throws InterruptedException {
        // SIGTERM first: a worker stopping removes its cgroups, a SIGKILLed one would leave them.
        for (Process process : started) {
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    @Test
    void aSchedulerRefusesAPlaintextGrpcSocketOffLoopbackUnlessInsecure() throws Exception {
        Run refused = run("scheduler", "[grpc_server]\naddr = \"" + ADDRESS + ":50000\"\n");
        assertThat(refused.toString(), refused.status(), not(is(0)));
        assertThat(refused.err(), containsString("grpc_server.addr " + ADDRESS
                + " is not a loopback address and the socket has no mutual TLS"));
        assertThat(refused.err(), containsString("grpc_server.insecure = true"));

        Run wildcard = run("scheduler", "[grpc_server]\naddr = \"0.0.0.0:50000\"\n");
        assertThat(wildcard.toString(), wildcard.status(), not(is(0)));
        assertThat(wildcard.err(), containsString("grpc_server.addr 0.0.0.0 is not a loopback address"));

        Run tlsOnly = run("scheduler", "[grpc_server]\naddr = \"" + ADDRESS + ":50000\"\nuse_tls = true\n"
                + "crt_file = \"scheduler.pem\"\nkey_file = \"scheduler.key\"\n");
        assertThat("TLS without client certificates is not enough", tlsOnly.err(), containsString("has no mutual TLS"));

        String out = startUntil("scheduler", "[grpc_server]\naddr = \"" + ADDRESS + ":50000\"\ninsecure = true\n",
                "scheduler grpc listening");
        assertThat(out, containsString("grpc_server.insecure = true: grpc_server.addr " + ADDRESS
                + " is open off loopback: anyone who reaches it can register workers at any address"));
    }

    @Test
    void aSchedulerWithMutualTlsOffLoopbackStartsSayingNothingIsExposed() throws Exception {
        String out = startUntil("scheduler", "[grpc_server]\naddr = \"" + ADDRESS + ":50000\"\nuse_tls = true\n"
                + "crt_file = \"scheduler.pem\"\nkey_file = \"scheduler.key\"\nclient_ca_file = \"ca.pem\"\n",
                "scheduler grpc listening");
        assertThat(out, containsString("(mutual tls)"));
        assertThat(out, not(containsString("insecure")));
    }

    @Test
    void aWorkerOffLoopbackNeedsMutualTlsAndAsRootRunAsUnlessInsecure() throws Exception {
        String mutual = "[grpc_server]\naddr = \"" + ADDRESS + ":30000\"\nuse_tls = true\ncrt_file = \"w1.pem\"\n"
                + "key_file = \"w1.key\"\nclient_ca_file = \"ca.pem\"\n";
        Run plaintext = run("worker", "[grpc_server]\naddr = \"" + ADDRESS + ":30000\"\n");
        assertThat(plaintext.toString(), plaintext.status(), not(is(0)));
        assertThat(plaintext.err(), containsString("has no mutual TLS"));
        boolean root = "root".equals(System.getProperty("user.name"));
        if (root) {
            Run asRoot = run("worker", mutual);
            assertThat(asRoot.toString(), asRoot.status(), not(is(0)));
            assertThat(asRoot.err(), containsString("would run every job as root: set jobs.run_as"));
            String confined = startUntil("worker", mutual + "[jobs]\nrun_as = \"nobody\"\n", "worker gRPC listening");
            assertThat(confined, not(containsString("insecure")));
            String exposed = startUntil("worker", "[grpc_server]\naddr = \"" + ADDRESS + ":30001\"\ninsecure = true\n",
                    "worker gRPC listening");
            assertThat(exposed, containsString("grpc_server.insecure = true: grpc_server.addr " + ADDRESS
                    + " is open off loopback: anyone who reaches it can start, stop and read every job; jobs run as root"));
        } else {
            System.err.println("ExposureIT: not root, so the run_as rule for a worker as root is not exercised here");
            startUntil("worker", mutual, "worker gRPC listening");
        }
    }

    // --- the jar in a network namespace of its own

    private ProcessBuilder inNamespace(String component, String toml, String name) throws IOException {
        Path config = Files.writeString(dir.resolve(name + ".toml"), toml);
        List<String> command = new ArrayList<>(List.of("unshare", "-n", "sh", "-c",
                "ip link set lo up && ip addr add " + ADDRESS + "/32 dev lo && exec \"$@\"", "sh",
                JAVA, "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow", "-jar",
                JAR.toString(), component, "--config", config.toString()));
        return new ProcessBuilder(command).directory(dir.toFile())
                .redirectOutput(dir.resolve(name + ".out").toFile()).redirectError(dir.resolve(name + ".err").toFile());
    }

    private int runs;

    private Run run(String component, String toml) throws IOException, InterruptedException {
        String name = "run" + (++runs);
        Process process = inNamespace(component, toml, name).start();
        started.add(process);
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            throw new AssertionError(component + " with\n" + toml + "did not end (it should have refused to start)");
        }
        return new Run(process.exitValue(), Files.readString(dir.resolve(name + ".out")),
                Files.readString(dir.resolve(name + ".err")));
    }

    /** Starts the component and waits for {@code line} in its output; answers the output so far. */
    private String startUntil(String component, String toml, String line) throws IOException, InterruptedException {
        String name = "run" + (++runs);
        Process process = inNamespace(component, toml, name).start();
        started.add(process);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            String out = Files.readString(dir.resolve(name + ".out")) + Files.readString(dir.resolve(name + ".err"));
            if (out.contains(line)) {
                return out;
            }
            if (process.waitFor(100, TimeUnit.MILLISECONDS)) {
                throw new AssertionError(component + " ended (" + process.exitValue() + ") before \"" + line + "\":\n" + out);
            }
        }
        throw new AssertionError(component + " did not log \"" + line + "\" within 60 s");
    }
}
