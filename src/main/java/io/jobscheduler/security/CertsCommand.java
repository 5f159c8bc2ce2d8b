package io.jobscheduler.security;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Set;

/** {@code certs ca DIR} and {@code certs issue DIR --role R --name N [--san S]... [--days N]}. */
final class CertsCommand {
    static final String USAGE = """
            usage: jobscheduler certs ca DIR
                   jobscheduler certs issue DIR --role scheduler|worker|client --name NAME [--san IP-OR-DNS]... [--days N]
            """;
    static final int DEFAULT_DAYS = 365;
    /** Validity starts this much in the past, so a peer whose clock is slightly behind accepts it. */
    private static final Duration CLOCK_SKEW = Duration.ofMinutes(5);

    private CertsCommand() {
    }

    static void run(List<String> args, PrintStream out, PrintStream err) {
        if (args.isEmpty()) {
            throw new UsageException("missing ca or issue");
        }
        List<String> rest = args.subList(1, args.size());
        switch (args.getFirst()) {
            case "ca" -> createCa(rest, out);
            case "issue" -> issue(rest, out, err);
            default -> throw new UsageException("unknown sub-command " + Names.printable(args.getFirst()));
        }
    }

    private static void createCa(List<String> args, PrintStream out) {
        Path dir = Path.of(Arguments.parse(args, Set.of(), Set.of()).onlyPositional("DIR"));
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        CertificateAuthority ca = CertificateAuthority.create(now.minus(CLOCK_SKEW), now.plus(CertificateAuthority.VALIDITY));
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dir + ": " + e.getMessage(), e);
        }
        ca.save(dir);
        out.println("wrote " + dir.resolve(CertificateAuthority.CERT_FILE) + " and "
                + dir.resolve(CertificateAuthority.KEY_FILE) + " (keep it secret), valid until "
                + ca.certificate().getNotAfter().toInstant() + "; SHA-256 fingerprint "
                + CertificateAuthority.fingerprint(ca.certificate()));
    }

    private static void issue(List<String> args, PrintStream out, PrintStream err) {
        Arguments parsed = Arguments.parse(args, Set.of("--role", "--name", "--days"), Set.of("--san"));
        Path dir = Path.of(parsed.onlyPositional("DIR"));
        Identity identity;
        List<HostSan> sans;
        try {
            identity = new Identity(PeerRole.parse(parsed.required("--role")), parsed.required("--name"));
            sans = parsed.all("--san").stream().map(HostSan::parse).toList();
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
        int days = days(parsed.optional("--days").orElse(String.valueOf(DEFAULT_DAYS)));
        CertificateAuthority ca = CertificateAuthority.load(dir);
        Instant now = Instant.now().truncatedTo(ChronoUnit.SECONDS);
        IssuedCertificate issued;
        try {
            issued = ca.issue(identity, sans, now.minus(CLOCK_SKEW), now.plus(Duration.ofDays(days)));
        } catch (IllegalArgumentException e) {
            throw new UsageException("--days " + days + ": " + e.getMessage());
        }
        issued.save(dir, identity.name());
        if (identity.role().serves() && sans.isEmpty()) {
            err.println("note: no --san, so a client that checks the host it dials will not accept "
                    + identity.name() + ".pem as a server's certificate");
        }
        out.println("wrote " + dir.resolve(identity.name() + ".pem") + " (" + identity.uri() + ", valid until "
                + issued.certificate().getNotAfter().toInstant() + ") and " + dir.resolve(identity.name() + ".key"));
    }

    private static int days(String text) {
        try {
            int days = Integer.parseInt(text);
            if (days >= 1) {
                return days;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new UsageException("--days \"" + Names.printable(text) + "\": a whole number of days, at least 1");
    }
}
