package io.jobscheduler.config;

import io.helidon.common.configurable.Resource;
import io.helidon.common.tls.Tls;
import io.helidon.common.tls.TlsClientAuth;
import io.jobscheduler.security.HandshakeDeadline;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * How a socket serves TLS: its PEM certificate chain and private key, the CA whose client
 * certificates it requires (mutual TLS; empty: none asked for), the oldest TLS version it speaks
 * and how long a handshake may take before the connection is dropped.
 */
public record ServerTls(Path certificateFile, Path keyFile, Optional<Path> clientCaFile, String minVersion,
                        Duration handshakeTimeout) {
    public static final String DEFAULT_MIN_VERSION = "1.3";
    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);

    public ServerTls {
        Objects.requireNonNull(certificateFile, "certificateFile");
        Objects.requireNonNull(keyFile, "keyFile");
        Objects.requireNonNull(clientCaFile, "clientCaFile");
        protocols(minVersion);
        if (handshakeTimeout.isNegative() || handshakeTimeout.isZero()) {
            throw new IllegalArgumentException("handshake timeout must be more than 0");
        }
    }

    /** TLS without client certificates, TLS 1.3 only, the default handshake timeout. */
    public ServerTls(Path certificateFile, Path keyFile) {
        this(certificateFile, keyFile, Optional.empty(), DEFAULT_MIN_VERSION, DEFAULT_HANDSHAKE_TIMEOUT);
    }

    /** The same, requiring a client certificate signed by a CA in {@code caFile}. */
    public ServerTls requiringClientsOf(Path caFile) {
        return new ServerTls(certificateFile, keyFile, Optional.of(caFile), minVersion, handshakeTimeout);
    }

    /** Whether callers must present a certificate from {@link #clientCaFile()}. */
    public boolean mutual() {
        return clientCaFile.isPresent();
    }

    /** The server side of Helidon's TLS from these files, with the handshake bounded by {@link HandshakeDeadline}. */
    public Tls helidonTls() {
        Tls keys = Tls.builder()
                .privateKey(key -> key.pem(pem -> pem.key(Resource.create(keyFile))))
                .privateKeyCertChain(chain -> chain.pem(pem -> pem.certChain(Resource.create(certificateFile))))
                .update(b -> clientCaFile.ifPresent(ca -> b.trust(t -> t.pem(p -> p.certificates(Resource.create(ca))))))
                .build();
        return Tls.builder()
                .sslContext(HandshakeDeadline.wrap(keys.sslContext(), handshakeTimeout))
                .enabledProtocols(protocols(minVersion))
                .clientAuth(mutual() ? TlsClientAuth.REQUIRED : TlsClientAuth.NONE)
                .build();
    }

    /** The JDK protocol names from {@code minVersion} up. */
    private static List<String> protocols(String minVersion) {
        return switch (minVersion) {
            case "1.3" -> List.of("TLSv1.3");
            case "1.2" -> List.of("TLSv1.3", "TLSv1.2");
            case null, default -> throw new IllegalArgumentException(
                    "'" + minVersion + "' is not a TLS version this server speaks (\"1.3\" or \"1.2\")");
        };
    }

    /**
     * Reads {@code [section] use_tls, crt_file, key_file, tls_min_version, tls_handshake_timeout}
     * and, when {@code clientCa}, {@code client_ca_file}; the files are checked only when TLS is on.
     */
    static Optional<ServerTls> from(Settings section, String name, boolean clientCa) {
        String clientCaFile = clientCa ? section.string("client_ca_file") : "";
        if (!section.bool("use_tls")) {
            if (!clientCaFile.isEmpty()) {
                throw new ConfigException(name + ".client_ca_file: requires " + name + ".use_tls = true");
            }
            return Optional.empty();
        }
        String minVersion = section.string("tls_min_version");
        try {
            protocols(minVersion);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(name + ".tls_min_version: " + e.getMessage());
        }
        Duration handshake = SchedulerSettings.positive(name + ".tls_handshake_timeout",
                section.duration("tls_handshake_timeout"));
        return Optional.of(new ServerTls(readable(section, name, "crt_file"), readable(section, name, "key_file"),
                clientCaFile.isEmpty() ? Optional.empty() : Optional.of(readable(section, name, "client_ca_file")),
                minVersion, handshake));
    }

    static Path readable(Settings section, String sectionName, String key) {
        String value = section.string(key);
        if (value.isEmpty()) {
            throw new ConfigException(sectionName + "." + key + ": required when use_tls = true");
        }
        Path file = Path.of(value);
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new ConfigException(sectionName + "." + key + ": cannot read " + file);
        }
        return file;
    }
}
