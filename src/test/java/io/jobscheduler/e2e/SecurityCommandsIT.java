package io.jobscheduler.e2e;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;

/** {@code certs} and {@code token} run from the packaged jar, as a user runs them. */
class SecurityCommandsIT {
    private static final Path JAR = Path.of("target/jobscheduler.jar").toAbsolutePath();
    private static final String JAVA = ProcessHandle.current().info().command().orElseThrow();

    @TempDir
    Path dir;

    private record Result(int status, String out, String err) {
    }

    @Test
    void certificatesAndTokensFromTheJar() throws Exception {
        Path pki = dir.resolve("pki");
        assertThat(run("certs", "ca", pki.toString()).status(), is(0));
        Result issued = run("certs", "issue", pki.toString(), "--role", "worker", "--name", "w1", "--san", "127.0.0.1");
        assertThat(issued.err(), issued.status(), is(0));
        assertThat(issued.out(), containsString("spiffe://jobscheduler/worker/w1"));
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(pki.resolve("w1.key"))), is("rw-------"));
        Result openssl = openssl("x509", "-noout", "-text", "-in", pki.resolve("w1.pem").toString());
        if (openssl != null) {
            assertThat(openssl.out(), containsString("URI:spiffe://jobscheduler/worker/w1, IP Address:127.0.0.1"));
            assertThat(openssl.out(), containsString("TLS Web Server Authentication, TLS Web Client Authentication"));
            Result verified = openssl("verify", "-CAfile", pki.resolve("ca.pem").toString(), "-purpose", "sslclient",
                    pki.resolve("w1.pem").toString());
            assertThat(verified.out() + verified.err(), verified.status(), is(0));
        }

        Path tokens = dir.resolve("tokens.toml");
        Result created = run("token", "create", "--file", tokens.toString(), "--name", "ci", "--role", "operator");
        assertThat(created.err(), created.status(), is(0));
        String token = created.out().strip();
        assertThat(token, token.startsWith("jst_"), is(true));
        assertThat(Files.readString(tokens), not(containsString(token)));
        assertThat(run("token", "list", "--file", tokens.toString()).out(), is("ci  operator\n"));
        assertThat(run("token", "create", "--file", tokens.toString(), "--name", "ci", "--role", "admin").status(), is(1));
        assertThat(run("token", "revoke", "--file", tokens.toString(), "--name", "ci").status(), is(0));
        assertThat(run("token", "list", "--file", tokens.toString()).out(), is(""));

        Result usage = run("token", "create", "--file", tokens.toString(), "--name", "x", "--role", "root");
        assertThat(usage.status(), is(2));
        assertThat(usage.err(), containsString("role must be viewer|operator|admin, not \"root\""));
    }

    private Result run(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(JAVA, "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-jar", JAR.toString()));
        command.addAll(List.of(args));
        return exec(command);
    }

    /** {@code openssl args…}, an independent reader of our PEM; null (with a note) when it is not installed. */
    private static Result openssl(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("openssl"));
        command.addAll(List.of(args));
        try {
            return exec(command);
        } catch (IOException e) {
            System.err.println("SKIPPED the openssl cross-check: openssl is not installed (" + e.getMessage() + ")");
            return null;
        }
    }

    private static Result exec(List<String> command) throws IOException, InterruptedException {
        Path out = Files.createTempFile("cmd", ".out");
        Path err = Files.createTempFile("cmd", ".err");
        try {
            Process process = new ProcessBuilder(command)
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile())
                    .start();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
                throw new AssertionError("still running after 60 s: " + command);
            }
            return new Result(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }
}
