package io.jobscheduler.config;

import io.helidon.common.configurable.Resource;
import io.helidon.common.tls.Tls;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** The PEM certificate chain and private key a gRPC socket serves TLS with. */
public record ServerTls(Path certificateFile, Path keyFile) {

    /** The server side of Helidon's TLS from these PEM files. */
    public Tls helidonTls() {
        return Tls.builder()
                .privateKey(key -> key.pem(pem -> pem.key(Resource.create(keyFile))))
                .privateKeyCertChain(chain -> chain.pem(pem -> pem.certChain(Resource.create(certificateFile))))
                .build();
    }

    /** Reads {@code [section] use_tls, crt_file, key_file}; the files are checked only when TLS is on. */
    static Optional<ServerTls> from(Settings section, String name) {
        if (!section.bool("use_tls")) {
            return Optional.empty();
        }
        return Optional.of(new ServerTls(readable(section, name, "crt_file"), readable(section, name, "key_file")));
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
