package io.jobscheduler.cli;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * The options every client command takes (after its name): where the scheduler is, the CA to
 * trust for HTTPS, and {@code --help}. Flags win over the environment, which wins over the default.
 */
final class ServerOptions {
    static final String DEFAULT_SERVER = "http://127.0.0.1:3000";

    @Spec(Spec.Target.MIXEE)
    private CommandSpec spec;

    @Option(names = "--server", paramLabel = "URL",
            description = "The scheduler's HTTP API (default: $JOBSCHEDULER_SERVER, else " + DEFAULT_SERVER + ").")
    private String server;

    @Option(names = "--ca-file", paramLabel = "FILE",
            description = "PEM certificates of the CA to trust for an https URL (default: $JOBSCHEDULER_CA_FILE).")
    private Path caFile;

    @Option(names = {"-h", "--help"}, usageHelp = true, description = "Show this help and exit.")
    private boolean help;

    /** The API these options name, with the token of {@code JOBSCHEDULER_TOKEN} if set. */
    Api connect(Map<String, String> env) {
        String fromEnv = env.get("JOBSCHEDULER_SERVER");
        URI uri = serverUri(server != null ? server : fromEnv == null || fromEnv.isEmpty() ? DEFAULT_SERVER : fromEnv);
        Optional<Path> ca = Optional.ofNullable(caFile)
                .or(() -> Optional.ofNullable(env.get("JOBSCHEDULER_CA_FILE")).filter(s -> !s.isEmpty()).map(Path::of));
        Optional<SSLContext> tls = uri.getScheme().equals("https") ? ca.map(ServerOptions::trusting) : Optional.empty();
        return new Api(uri, token(env), tls);
    }

    private URI serverUri(String text) {
        URI uri;
        try {
            uri = new URI(text.endsWith("/") ? text.substring(0, text.length() - 1) : text);
        } catch (java.net.URISyntaxException e) {
            throw usage("the server '" + text + "' is not a URL");
        }
        if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()) || uri.getHost() == null
                || uri.getRawQuery() != null || uri.getRawFragment() != null) {
            throw usage("the server '" + text + "' is not an http:// or https:// URL of a host (e.g. " + DEFAULT_SERVER + ")");
        }
        return uri;
    }

    /** The bearer token; a value that cannot be a header is refused without showing it. */
    private Optional<String> token(Map<String, String> env) {
        String token = env.get("JOBSCHEDULER_TOKEN");
        if (token == null || token.isEmpty()) {
            return Optional.empty();
        }
        if (!token.chars().allMatch(c -> c > ' ' && c < 0x7f)) {
            throw usage("JOBSCHEDULER_TOKEN must be printable ASCII without spaces");
        }
        return Optional.of(token);
    }

    private CommandLine.ParameterException usage(String message) {
        return new CommandLine.ParameterException(spec.commandLine(), message);
    }

    /** A TLS context that trusts exactly the certificates of {@code caFile}. */
    private static SSLContext trusting(Path caFile) {
        try (InputStream in = Files.newInputStream(caFile)) {
            Collection<? extends Certificate> certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
            if (certificates.isEmpty()) {
                throw new CliException("no certificate in the CA file " + caFile);
            }
            KeyStore trusted = KeyStore.getInstance(KeyStore.getDefaultType());
            trusted.load(null, null);
            int i = 0;
            for (Certificate certificate : certificates) {
                trusted.setCertificateEntry("ca-" + i++, certificate);
            }
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(trusted);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trust.getTrustManagers(), null);
            return context;
        } catch (IOException e) {
            throw new CliException("cannot read the CA file " + caFile + ": " + e.getMessage());
        } catch (GeneralSecurityException e) {
            throw new CliException("the CA file " + caFile + " holds no usable PEM certificate: " + e.getMessage());
        }
    }
}
