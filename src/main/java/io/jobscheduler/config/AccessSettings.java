package io.jobscheduler.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Who may use the scheduler's HTTP API and what is recorded of it.
 *
 * @param tokensFile {@code [auth] tokens_file}: when present, every request but the open ones
 *                   needs a bearer token of that file
 * @param httpInsecure {@code [http_server] insecure}: serve a non-loopback HTTP socket without tokens
 * @param auditFile {@code [audit] file}: where the audit log is written, when present
 * @param auditMaxBytes {@code [audit] max_size}: the size beyond which the audit log moves to {@code FILE.1}
 */
public record AccessSettings(Optional<Path> tokensFile, boolean httpInsecure, Optional<Path> auditFile,
                             long auditMaxBytes) {
    public static final long DEFAULT_AUDIT_MAX_BYTES = 100_000_000;
    /** No tokens, no audit log: the scheduler as it was before issue 11, for loopback and tests. */
    public static final AccessSettings OPEN = new AccessSettings(Optional.empty(), false, Optional.empty(),
            DEFAULT_AUDIT_MAX_BYTES);

    static AccessSettings from(Settings auth, Settings http, Settings audit) {
        Optional<Path> tokens = optionalPath(auth, "tokens_file");
        tokens.ifPresent(file -> {
            if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
                throw new ConfigException("auth.tokens_file: cannot read " + file);
            }
        });
        long maxBytes;
        try {
            maxBytes = Sizes.parse(audit.string("max_size"));
        } catch (IllegalArgumentException | ArithmeticException e) {
            throw new ConfigException("audit.max_size: " + e.getMessage());
        }
        if (maxBytes < 4096) {
            throw new ConfigException("audit.max_size: must be at least 4096B, was " + audit.string("max_size"));
        }
        return new AccessSettings(tokens, http.bool("insecure"), optionalPath(audit, "file"), maxBytes);
    }

    private static Optional<Path> optionalPath(Settings section, String key) {
        String value = section.string(key);
        return value.isEmpty() ? Optional.empty() : Optional.of(Path.of(value));
    }
}
