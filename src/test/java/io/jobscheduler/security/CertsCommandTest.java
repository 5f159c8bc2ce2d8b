package io.jobscheduler.security;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.lessThan;
import static org.hamcrest.Matchers.greaterThan;

class CertsCommandTest {
    @TempDir
    Path tmp;

    @Test
    void caThenIssueWritesAWorkingPairOfFiles() throws Exception {
        Path dir = tmp.resolve("pki");
        Run ca = Run.of("certs", "ca", dir.toString());
        assertThat(ca.err(), ca.status(), is(0));
        assertThat(ca.out(), containsString("ca.pem"));
        assertThat(mode(dir.resolve("ca.key")), is("rw-------"));
        X509Certificate caCert = Pem.readCertificate(dir.resolve("ca.pem"));
        Duration validity = Duration.between(Instant.now(), caCert.getNotAfter().toInstant());
        assertThat(validity.toDays(), is(3649L));

        Run issue = Run.of("certs", "issue", dir.toString(), "--role", "worker", "--name", "w-1",
                "--san", "127.0.0.1", "--san=worker1.example.org", "--days", "30");
        assertThat(issue.err(), issue.status(), is(0));
        assertThat(issue.out(), containsString("spiffe://jobscheduler/worker/w-1"));
        assertThat(mode(dir.resolve("w-1.key")), is("rw-------"));
        X509Certificate certificate = Pem.readCertificate(dir.resolve("w-1.pem"));
        certificate.verify(caCert.getPublicKey());
        assertThat(Identity.of(certificate).orElseThrow(), is(new Identity(PeerRole.WORKER, "w-1")));
        long days = Duration.between(Instant.now(), certificate.getNotAfter().toInstant()).toHours();
        assertThat(days, greaterThan(29 * 24L));
        assertThat(days, lessThan(30 * 24L + 1));
        assertThat(certificate.getNotBefore().toInstant().isBefore(Instant.now()), is(true));
    }

    @Test
    void aServingRoleWithoutSansIsIssuedWithANote() {
        Path dir = tmp.resolve("pki");
        assertThat(Run.of("certs", "ca", dir.toString()).status(), is(0));
        Run issue = Run.of("certs", "issue", dir.toString(), "--role", "scheduler", "--name", "s");
        assertThat(issue.status(), is(0));
        assertThat(issue.err(), containsString("no --san"));
        assertThat(Run.of("certs", "issue", dir.toString(), "--role", "client", "--name", "c").err(), is(""));
    }

    @Test
    void nothingIsOverwritten() throws Exception {
        Path dir = tmp.resolve("pki");
        assertThat(Run.of("certs", "ca", dir.toString()).status(), is(0));
        String key = Files.readString(dir.resolve("ca.key"));
        Run again = Run.of("certs", "ca", dir.toString());
        assertThat(again.status(), is(1));
        assertThat(again.error(), containsString("already exists; refusing to overwrite it"));
        assertThat(Files.readString(dir.resolve("ca.key")), is(key));

        assertThat(Run.of("certs", "issue", dir.toString(), "--role", "client", "--name", "alice").status(), is(0));
        String cert = Files.readString(dir.resolve("alice.pem"));
        Run twice = Run.of("certs", "issue", dir.toString(), "--role", "client", "--name", "alice");
        assertThat(twice.status(), is(1));
        assertThat(twice.error(), containsString("alice.pem already exists"));
        assertThat(Files.readString(dir.resolve("alice.pem")), is(cert));
        assertThat(Run.of("certs", "issue", dir.toString(), "--role", "client", "--name", "ca").status(), is(1));
    }

    @Test
    void badCommandLinesExitTwoWithOneLineSayingWhy() {
        Path dir = tmp.resolve("pki");
        assertThat(Run.of("certs", "ca", dir.toString()).status(), is(0));
        String d = dir.toString();
        usage("missing ca or issue", "certs");
        usage("unknown sub-command sign", "certs", "sign", d);
        usage("missing DIR", "certs", "ca");
        usage("unexpected argument other", "certs", "ca", d, "other");
        usage("missing --role", "certs", "issue", d, "--name", "x");
        usage("missing --name", "certs", "issue", d, "--role", "worker");
        usage("role must be scheduler|worker|client, not \"admin\"", "certs", "issue", d, "--role", "admin", "--name", "x");
        usage("name \"../x\"", "certs", "issue", d, "--role", "worker", "--name", "../x");
        usage("--san \"*.example.org\"", "certs", "issue", d, "--role", "worker", "--name", "x", "--san", "*.example.org");
        usage("--days \"0\"", "certs", "issue", d, "--role", "worker", "--name", "x", "--days", "0");
        usage("--days \"ten\"", "certs", "issue", d, "--role", "worker", "--name", "x", "--days", "ten");
        usage("--days 5000: the certificate would outlive the CA", "certs", "issue", d, "--role", "worker", "--name", "x",
                "--days", "5000");
        usage("unknown flag --force", "certs", "issue", d, "--role", "worker", "--name", "x", "--force", "yes");
        usage("missing value for --name", "certs", "issue", d, "--role", "worker", "--name");
        usage("--name given twice", "certs", "issue", d, "--role", "worker", "--name", "x", "--name", "y");
        assertThat(Files.exists(dir.resolve("x.pem")), is(false));
    }

    @Test
    void issuingWithoutACaFailsNamingTheFile() {
        Run run = Run.of("certs", "issue", tmp.toString(), "--role", "worker", "--name", "x");
        assertThat(run.status(), is(1));
        assertThat(run.error(), containsString(tmp.resolve("ca.pem") + ": no such file"));
    }

    private static void usage(String expected, String... args) {
        Run run = Run.of(args);
        assertThat(String.join(" ", args), run.status(), is(2));
        assertThat(run.error(), containsString(expected));
        assertThat(run.err(), containsString("usage: jobscheduler certs"));
    }

    private static String mode(Path file) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
    }
}
