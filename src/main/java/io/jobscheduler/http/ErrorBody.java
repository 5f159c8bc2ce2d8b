package io.jobscheduler.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;

/**
 * The body of every error response, on every HTTP socket: {@code {"error": "..."}}. The routes
 * send it through their JSON writer; the connection guard, which answers before any route, writes
 * it with {@link #bytes}.
 */
public record ErrorBody(String error) {
    // Never configured after this line; ObjectMapper is thread-safe in that state.
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The JSON bytes, followed by a newline as every JSON body is (a shell prompt after curl starts on its own line). */
    public byte[] bytes() {
        try {
            return (JSON.writeValueAsString(this) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a record of one string is always JSON", e);
        }
    }
}
