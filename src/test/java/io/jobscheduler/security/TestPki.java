package io.jobscheduler.security;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

/** Certificates for tests, made by the same code as {@code certs}, saved as PEM files in a folder. */
final class TestPki {
    final CertificateAuthority ca;
    final Path dir;

    TestPki(Path dir) {
        try {
            this.dir = Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Instant now = Instant.now();
        this.ca = CertificateAuthority.create(now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(30)));
        ca.save(dir);
    }

    Path caFile() {
        return dir.resolve(CertificateAuthority.CERT_FILE);
    }

    /** A certificate valid for the next day, for 127.0.0.1 and localhost; returns its name. */
    String issue(PeerRole role, String name) {
        Instant now = Instant.now();
        return issue(role, name, now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(1)));
    }

    String issue(PeerRole role, String name, Instant notBefore, Instant notAfter) {
        return issue(role, name, List.of(HostSan.parse("127.0.0.1"), HostSan.parse("localhost")), notBefore, notAfter);
    }

    String issue(PeerRole role, String name, List<HostSan> sans, Instant notBefore, Instant notAfter) {
        ca.issue(new Identity(role, name), sans, notBefore, notAfter).save(dir, name);
        return name;
    }

    Path certificate(String name) {
        return dir.resolve(name + ".pem");
    }

    Path key(String name) {
        return dir.resolve(name + ".key");
    }
}
