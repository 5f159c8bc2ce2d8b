package io.jobscheduler.scheduler.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.helidon.http.HeaderName;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;

/**
 * The {@code Idempotency-Key} header of {@code POST /start}: 1 to 128 printable ASCII characters,
 * given once; its scope (the caller); and the request it names, compared as the SHA-256 of the
 * canonical parsed start, so a retry that differs only in spacing, field order or defaults spelt out
 * is the same request.
 */
final class IdempotencyKey {
    static final HeaderName HEADER = HeaderNames.create("Idempotency-Key");
    static final int MAX_LENGTH = 128;
    private static final ObjectMapper CANONICAL = new ObjectMapper()
            .configure(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS, true);

    private IdempotencyKey() {
    }

    /** The key, if the request carries one; a malformed one is 400. */
    static Optional<String> of(ServerRequest request) {
        if (!request.headers().contains(HEADER)) {
            return Optional.empty();
        }
        List<String> values = request.headers().get(HEADER).allValues();
        if (values.size() != 1) {
            throw ApiException.badRequest("header 'Idempotency-Key' must be given once");
        }
        String key = values.getFirst();
        if (key.isEmpty() || key.length() > MAX_LENGTH || !key.chars().allMatch(c -> c >= 0x20 && c <= 0x7e)) {
            throw ApiException.badRequest("header 'Idempotency-Key' must be 1 to " + MAX_LENGTH
                    + " printable ASCII characters");
        }
        return Optional.of(key);
    }

    /**
     * Whose keys these are, the one place that says it: the caller's identity (its token's name), so
     * two callers' keys never meet; without tokens every caller is the same one.
     */
    static String scope(ServerRequest request) {
        return request.context().get(Caller.class).orElse(Caller.UNCHECKED).who();
    }

    /** The start as parsed, with defaults filled in: what "the same request" means. */
    private record Canonical(String workerId, String command, String path, List<String> args, Map<String, String> env,
                             String timeout, String user, Map<String, String> constraints, int priority) {
    }

    static String sha256(JobsHttpService.StartRequest start, Optional<UUID> workerId) {
        var parsed = start.start();
        Canonical canonical = new Canonical(workerId.map(UUID::toString).orElse(null), parsed.command(), parsed.path(),
                parsed.args(), new TreeMap<>(parsed.env()), parsed.timeout().map(t -> t.toMillis() + "ms").orElse(null),
                parsed.user().orElse(null), new TreeMap<>(start.constraints()),
                start.priority() == null ? 0 : start.priority());
        try {
            byte[] bytes = CANONICAL.writeValueAsString(canonical).getBytes(StandardCharsets.UTF_8);
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (JsonProcessingException | NoSuchAlgorithmException e) {
            throw new IllegalStateException("cannot hash a start", e);
        }
    }
}
