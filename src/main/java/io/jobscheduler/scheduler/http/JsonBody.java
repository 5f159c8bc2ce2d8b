package io.jobscheduler.scheduler.http;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.core.JsonParseException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.MismatchedInputException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.type.LogicalType;
import io.helidon.common.buffers.DataReader;
import io.helidon.http.HeaderValues;
import io.helidon.http.HttpMediaType;
import io.helidon.http.Status;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.jobscheduler.http.ErrorBody;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * JSON bodies in and out of the gateway: snake_case names, records on both sides, no lenient
 * coercion ({@code "5"} is not a number, {@code 5} is not a string), unknown and duplicate fields
 * refused. Every body sent ends with a newline.
 */
public final class JsonBody {
    // Configured once and never changed afterwards; ObjectMapper is thread-safe in that state.
    private static final ObjectMapper MAPPER = mapper();
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);
    private static final String NOT_AN_OBJECT = "request body must be a JSON object";

    private JsonBody() {
    }

    /**
     * Reads the request body into {@code type}. A body is JSON when {@code Content-Type} is
     * {@code application/json} or absent; any other declared type is 415. A missing body,
     * malformed JSON, an unknown field, a missing {@code @JsonProperty(required = true)} field
     * or a field of the wrong type is 400 with a message naming the field; so is any body that
     * is valid JSON but not an object ({@code null}, {@code []}, {@code "x"}, {@code 1}). A record
     * that refuses its values in its constructor (IllegalArgumentException) gives that message.
     */
    public static <T> T read(ServerRequest request, Class<T> type) {
        requireJsonContentType(request);
        if (!request.content().hasEntity()) {
            throw ApiException.badRequest("request body is empty; expected a JSON object");
        }
        byte[] body;
        try {
            body = request.content().as(byte[].class);
        } catch (IllegalArgumentException | DataReader.IncorrectNewLineException e) {
            // Helidon 4.5.0 parses chunk sizes and chunk line ends while the body is read, and
            // lets their failures through as these; the stream is out of step, so the connection closes.
            throw new ApiException(Status.BAD_REQUEST_400, "malformed chunked request body",
                    List.of(HeaderValues.CONNECTION_CLOSE));
        } catch (RuntimeException e) {
            if (SchedulerHttp.clientLeft(e)) {
                throw SchedulerHttp.clientGone("reading the body of " + request.prologue().method().text() + " "
                        + request.path().absolute().path(), e);
            }
            throw e;
        }
        T value;
        try {
            value = MAPPER.readValue(body, type);
        } catch (IOException e) {
            throw ApiException.badRequest(describe(e));
        }
        if (value == null) {
            // The body was the JSON literal null, which Jackson reads as no object at all.
            throw ApiException.badRequest(NOT_AN_OBJECT);
        }
        return value;
    }

    /** 415 unless a request with a body declares JSON (or no content type at all). */
    public static void requireJsonContentType(ServerRequest request) {
        Optional<HttpMediaType> declared = request.headers().contentType();
        if (declared.isEmpty() || !request.content().hasEntity()) {
            return;
        }
        var media = declared.get().mediaType();
        if (!media.type().equalsIgnoreCase("application") || !media.subtype().equalsIgnoreCase("json")) {
            throw new ApiException(Status.UNSUPPORTED_MEDIA_TYPE_415,
                    "Content-Type '" + declared.get().text() + "' is not supported; send application/json");
        }
    }

    /** Sends {@code value} as the JSON body with {@code status}. */
    public static void send(ServerResponse response, Status status, Object value) {
        response.status(status);
        response.header(HeaderValues.CONTENT_TYPE_JSON);
        try {
            response.send(bytes(value));
        } catch (RuntimeException e) {
            if (SchedulerHttp.clientLeft(e)) {
                throw SchedulerHttp.clientGone("sending a " + status.code() + " answer", e);
            }
            throw e;
        }
    }

    /** Sends {@code {"error": message}} with {@code status}. */
    public static void sendError(ServerResponse response, Status status, String message) {
        send(response, status, new ErrorBody(message));
    }

    /** The JSON bytes of {@code value} as a body: followed by a newline, so a shell prompt after curl starts on its own line. */
    public static byte[] bytes(Object value) {
        try {
            byte[] json = MAPPER.writeValueAsBytes(value);
            byte[] body = Arrays.copyOf(json, json.length + 1);
            body[json.length] = '\n';
            return body;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A time as every answer shows it: RFC 3339 in UTC with exactly three fractional digits. */
    public static String time(Instant instant) {
        return TIME.format(instant);
    }


    private static String describe(IOException e) {
        return switch (e) {
            case JsonParseException p when p.getOriginalMessage().startsWith("Duplicate field") ->
                    "duplicate field " + p.getOriginalMessage().substring("Duplicate field ".length());
            case JsonParseException p -> "malformed JSON at line " + p.getLocation().getLineNr()
                    + ", column " + p.getLocation().getColumnNr() + ": " + p.getOriginalMessage();
            case UnrecognizedPropertyException u -> "unknown field '" + path(u) + "'";
            case ValueInstantiationException v -> v.getCause() != null && v.getCause().getMessage() != null
                    ? v.getCause().getMessage() : "invalid value: " + v.getOriginalMessage();
            case MismatchedInputException m when m.getOriginalMessage().startsWith("No content to map") ->
                    "request body is empty; expected a JSON object";
            case MismatchedInputException m when m.getOriginalMessage().startsWith("Missing required creator property") ->
                    "field '" + path(m) + "' is missing";
            case MismatchedInputException m when m.getPath().isEmpty() -> NOT_AN_OBJECT;
            case MismatchedInputException m -> "field '" + path(m) + "' must be " + kind(m.getTargetType());
            case JsonMappingException m when !m.getPath().isEmpty() -> "field '" + path(m) + "' is invalid";
            case JacksonException j -> "malformed JSON: " + j.getOriginalMessage();
            default -> "cannot read the request body";
        };
    }

    private static String path(JsonMappingException e) {
        return e.getPath().stream()
                .map(ref -> ref.getFieldName() != null ? ref.getFieldName() : "[" + ref.getIndex() + "]")
                .collect(Collectors.joining(".")).replace(".[", "[");
    }

    private static String kind(Class<?> type) {
        if (type == null) {
            return "of another type";
        }
        if (type == String.class || type.isEnum()) {
            return "a string";
        }
        if (type == boolean.class || type == Boolean.class) {
            return "a boolean";
        }
        if (type == int.class || type == long.class || type == Integer.class || type == Long.class
                || type == short.class || type == Short.class) {
            return "an integer";
        }
        if (Number.class.isAssignableFrom(type) || type == double.class || type == float.class) {
            return "a number";
        }
        if (type.isArray() || Collection.class.isAssignableFrom(type)) {
            return "an array";
        }
        if (Map.class.isAssignableFrom(type) || type.isRecord()) {
            return "an object";
        }
        return "of type " + type.getSimpleName();
    }

    private static ObjectMapper mapper() {
        JsonMapper mapper = JsonMapper.builder()
                .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .build();
        mapper.coercionConfigFor(LogicalType.Textual)
                .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail);
        return mapper;
    }
}
