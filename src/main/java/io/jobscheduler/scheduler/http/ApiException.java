package io.jobscheduler.scheduler.http;

import io.helidon.http.Header;
import io.helidon.http.Status;
import java.util.List;
import java.util.Objects;

/**
 * A request the gateway refuses, with the HTTP status and the message of its
 * {@code {"error": "..."}} body. Thrown from handlers; mapped once, by {@link SchedulerHttp}.
 */
public final class ApiException extends RuntimeException {
    private final Status status;
    private final List<Header> headers;

    public ApiException(Status status, String message) {
        this(status, message, List.of());
    }

    public ApiException(Status status, String message, List<Header> headers) {
        super(message, null, false, false);
        this.status = Objects.requireNonNull(status, "status");
        this.headers = List.copyOf(headers);
    }

    public static ApiException badRequest(String message) {
        return new ApiException(Status.BAD_REQUEST_400, message);
    }

    public static ApiException notFound(String message) {
        return new ApiException(Status.NOT_FOUND_404, message);
    }

    public Status status() {
        return status;
    }

    /** Extra response headers, such as {@code Allow} on a 405. */
    public List<Header> headers() {
        return headers;
    }
}
