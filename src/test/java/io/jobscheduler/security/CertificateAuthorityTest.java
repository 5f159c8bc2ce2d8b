package io.jobscheduler.security;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.CertificateExpiredException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsInAnyOrder;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertThrows;

class CertificateAuthorityTest {
    private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
    private static final String CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
    private static final Instant NOW = Instant.now();
    private static final Instant DAY_AGO = NOW.minus(Duration.ofDays(1));
    private static final Instant IN_A_YEAR = NOW.plus(Duration.ofDays(365));

    @TempDir
    Path dir;

    private final CertificateAuthority ca = CertificateAuthority.create(DAY_AGO, NOW.plus(Duration.ofDays(3650)));

    @Test
    void theCaCanSignCertificatesAndNothingElse() throws Exception {
        X509Certificate certificate = ca.certificate();
        certificate.checkValidity();
        certificate.verify(certificate.getPublicKey());
        assertThat(certificate.getBasicConstraints(), is(0));
        boolean[] usage = certificate.getKeyUsage();
        assertThat("keyCertSign", usage[5], is(true));
        assertThat("digitalSignature", usage[0], is(false));
        assertThat(certificate.getPublicKey().getAlgorithm(), is("EC"));
        assertThat(certificate.getPublicKey().toString(), containsString("secp256r1"));
    }

    @ParameterizedTest
    @EnumSource(PeerRole.class)
    void anIssuedCertificateCarriesItsIdentityAndTheUsagesOfItsRole(PeerRole role) throws Exception {
        IssuedCertificate issued = ca.issue(new Identity(role, "node-1"),
                List.of(HostSan.parse("10.0.0.7"), HostSan.parse("Node-1.Example.org"), HostSan.parse("::1")),
                DAY_AGO, IN_A_YEAR);
        X509Certificate certificate = issued.certificate();
        certificate.verify(ca.certificate().getPublicKey());
        certificate.checkValidity();
        assertThat(Identity.of(certificate).orElseThrow(), is(new Identity(role, "node-1")));
        assertThat(certificate.getBasicConstraints(), is(-1));
        assertThat("digitalSignature only", certificate.getKeyUsage()[0], is(true));
        assertThat(certificate.getKeyUsage()[5], is(false));
        List<String> purposes = certificate.getExtendedKeyUsage();
        if (role == PeerRole.CLIENT) {
            assertThat(purposes, containsInAnyOrder(CLIENT_AUTH));
        } else {
            assertThat(purposes, containsInAnyOrder(SERVER_AUTH, CLIENT_AUTH));
        }
        assertThat(certificate.getSubjectAlternativeNames().stream().map(san -> san.get(1)).toList(),
                containsInAnyOrder("spiffe://jobscheduler/" + role.word() + "/node-1", "10.0.0.7",
                        "node-1.example.org", "0:0:0:0:0:0:0:1"));
        assertThat(certificate.getNotAfter(), is(Date.from(IN_A_YEAR.truncatedTo(java.time.temporal.ChronoUnit.SECONDS))));
    }

    @Test
    void aCertificateCanBeIssuedAlreadyExpired() {
        X509Certificate expired = ca.issue(new Identity(PeerRole.WORKER, "old"), List.of(),
                NOW.minus(Duration.ofDays(10)), DAY_AGO).certificate();
        assertThrows(CertificateExpiredException.class, expired::checkValidity);
    }

    @Test
    void aCertificateMayNotOutliveItsCaOrEndBeforeItStarts() {
        Identity worker = new Identity(PeerRole.WORKER, "w");
        var outlives = assertThrows(IllegalArgumentException.class,
                () -> ca.issue(worker, List.of(), NOW, NOW.plus(Duration.ofDays(4000))));
        assertThat(outlives.getMessage(), containsString("outlive the CA"));
        assertThrows(IllegalArgumentException.class, () -> ca.issue(worker, List.of(), NOW, NOW));
    }

    @Test
    void savedFilesLoadBackKeysAreOwnerOnlyAndNothingIsOverwritten() throws Exception {
        ca.save(dir);
        assertThat(mode(dir.resolve("ca.key")), is("rw-------"));
        assertThat(mode(dir.resolve("ca.pem")), is("rw-r--r--"));
        CertificateAuthority loaded = CertificateAuthority.load(dir);
        assertThat(loaded.certificate(), is(ca.certificate()));
        assertThat(CertificateAuthority.fingerprint(loaded.certificate()), is(CertificateAuthority.fingerprint(ca.certificate())));

        IssuedCertificate issued = loaded.issue(new Identity(PeerRole.WORKER, "w1"), List.of(), DAY_AGO, IN_A_YEAR);
        issued.save(dir, "w1");
        assertThat(mode(dir.resolve("w1.key")), is("rw-------"));
        assertThat(Pem.readCertificate(dir.resolve("w1.pem")), is(issued.certificate()));
        assertThat(Pem.readPrivateKey(dir.resolve("w1.key")), is(issued.key()));
        assertThat(Files.readString(dir.resolve("w1.key")), containsString("-----BEGIN PRIVATE KEY-----"));

        String caKey = Files.readString(dir.resolve("ca.key"));
        var again = assertThrows(IllegalStateException.class, () -> CertificateAuthority.create(NOW, IN_A_YEAR).save(dir));
        assertThat(again.getMessage(), containsString("refusing to overwrite"));
        assertThat(Files.readString(dir.resolve("ca.key")), is(caKey));
        assertThrows(IllegalStateException.class, () -> issued.save(dir, "w1"));
    }

    @Test
    void aKeyThatIsNotTheCasIsRefusedOnLoad() throws Exception {
        ca.save(dir);
        Path other = Files.createDirectory(dir.resolve("other"));
        CertificateAuthority.create(NOW, IN_A_YEAR).save(other);
        Files.delete(dir.resolve("ca.key"));
        Files.copy(other.resolve("ca.key"), dir.resolve("ca.key"));
        var e = assertThrows(IllegalArgumentException.class, () -> CertificateAuthority.load(dir));
        assertThat(e.getMessage(), containsString("is not the key of"));
        Files.delete(dir.resolve("ca.pem"));
        ca.issue(new Identity(PeerRole.WORKER, "leaf"), List.of(), DAY_AGO, IN_A_YEAR).save(dir, "leaf");
        Files.copy(dir.resolve("leaf.pem"), dir.resolve("ca.pem"));
        var leaf = assertThrows(IllegalArgumentException.class, () -> CertificateAuthority.load(dir));
        assertThat(leaf.getMessage(), containsString("is not a CA certificate"));
        Files.writeString(dir.resolve("ca.pem"), "not pem\n", java.nio.file.StandardOpenOption.TRUNCATE_EXISTING);
        var garbage = assertThrows(IllegalArgumentException.class, () -> CertificateAuthority.load(dir));
        assertThat(garbage.getMessage(), containsString("no PEM certificate"));
    }

    @ParameterizedTest
    @EnumSource(PeerRole.class)
    void anIdentityRoundTripsThroughItsUri(PeerRole role) {
        for (String name : List.of("a", "w-1", "node_7.eu", "X".repeat(64))) {
            Identity identity = new Identity(role, name);
            assertThat(Identity.parse(identity.uri().toString()).orElseThrow(), is(identity));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"spiffe://other/worker/w1", "spiffe://jobscheduler/root/w1", "spiffe://jobscheduler/worker",
            "spiffe://jobscheduler/worker/w1/x", "https://jobscheduler/worker/w1", "spiffe://jobscheduler/worker/..",
            "spiffe://jobscheduler/worker/w1?x=1", "spiffe://jobscheduler/worker/w%2F1", "spiffe://jobscheduler/Worker/w1"})
    void onlyOurOwnUriIsAnIdentity(String uri) {
        assertThat(Identity.parse(uri).isEmpty(), is(true));
    }

    @Test
    void theWorkerIdIsAStableNameBasedUuidOfCaAndName() {
        Identity worker = new Identity(PeerRole.WORKER, "w1");
        String fingerprint = CertificateAuthority.fingerprint(ca.certificate());
        UUID id = worker.workerId(fingerprint);
        assertThat(id.version(), is(5));
        assertThat(id.variant(), is(2));
        assertThat(new Identity(PeerRole.WORKER, "w1").workerId(fingerprint), is(id));
        assertThat(new Identity(PeerRole.WORKER, "w2").workerId(fingerprint), is(not(id)));
        assertThat(worker.workerId(CertificateAuthority.fingerprint(CertificateAuthority.create(NOW, IN_A_YEAR)
                .certificate())), is(not(id)));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "a b", "-x", ".hidden", "../up", "a/b", "x\ny", "é"})
    void unsafeNamesAreRefused(String name) {
        var e = assertThrows(IllegalArgumentException.class, () -> new Identity(PeerRole.CLIENT, name));
        assertThat(e.getMessage(), not(containsString("\n")));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "*.example.org", "a..b", "-a.org", "a_b.org", "1.2.3.999", "1.2.3", "exa mple",
            "::g", "[::1", "a.123"})
    void hostSansMustBeIpLiteralsOrDnsNames(String san) {
        var e = assertThrows(IllegalArgumentException.class, () -> HostSan.parse(san));
        assertThat(e.getMessage(), containsString("--san"));
    }

    @Test
    void hostSansAreNormalised() {
        assertThat(HostSan.parse("127.0.0.1"), is(new HostSan("127.0.0.1", true)));
        assertThat(HostSan.parse("[::1]"), is(new HostSan("0:0:0:0:0:0:0:1", true)));
        assertThat(HostSan.parse("Sched.Example.ORG"), is(new HostSan("sched.example.org", false)));
        assertThat(HostSan.parse("localhost"), is(new HostSan("localhost", false)));
    }

    private static String mode(Path file) throws Exception {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(file));
    }
}
