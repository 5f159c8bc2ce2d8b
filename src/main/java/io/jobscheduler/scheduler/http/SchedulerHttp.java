package io.jobscheduler.scheduler.http;

import io.helidon.common.buffers.DataReader;
import io.helidon.http.DirectHandler;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.HttpException;
import io.helidon.http.Method;
import io.helidon.http.NotFoundException;
import io.helidon.http.RequestException;
import io.helidon.http.ServerResponseHeaders;
import io.helidon.http.Status;
import io.helidon.webserver.CloseConnectionException;
import io.helidon.webserver.http.DirectHandlers;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRouting;
import io.jobscheduler.http.ErrorBody;
import io.jobscheduler.scheduler.JobGateway;
import io.jobscheduler.scheduler.SchedulerServer;
import io.jobscheduler.scheduler.SchedulerException;
import io.jobscheduler.scheduler.WorkerRegistry;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketException;
import java.nio.channels.ClosedChannelException;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

import static java.lang.System.Logger.Level.DEBUG;
import static java.lang.System.Logger.Level.WARNING;

/**
 * The gateway's HTTP routing table and its error conventions, shared by the server and tests:
 * every error is {@code {"error": "..."}} as {@code application/json} with the right status,
 * whether a handler refused the request ({@link ApiException}), no route matched (404), a route
 * exists for other methods (405 with {@code Allow}), a body is not JSON (415), Helidon refused the
 * request before routing (bad request line, oversize headers or entity: {@link #directHandlers()})
 * or something failed unexpectedly (500, logged, never a stack trace in the body).
 */
public final class SchedulerHttp {
    private static final System.Logger LOGGER = System.getLogger(SchedulerHttp.class.getName());
    /** The root of Helidon's health routes. */
    private static final String HEALTH = ObserveRoutes.HEALTH;

    private SchedulerHttp() {
    }

    /**
     * Every route of the gateway with the error conventions, and the JSON body of a not-ready
     * answer of the health routes (Helidon's health feature answers them, with {@code readiness}
     * among its checks), and the dashboard's static files ({@link Dashboard}). A new API route is
     * one more entry of {@link ApiRoutes}' table.
     */
    public static void routing(HttpRouting.Builder routing, WorkerRegistry registry, JobGateway gateway,
                               Readiness readiness) {
        routing(routing, registry, gateway, readiness, RequestMeter.NONE, ApiAccess.open());
    }

    /**
     * As {@link #routing(HttpRouting.Builder, WorkerRegistry, JobGateway, Readiness)}, every
     * request timed by {@code meter} (refusals too), then through {@code access}: a token is
     * checked before anything else is looked at.
     */
    public static void routing(HttpRouting.Builder routing, WorkerRegistry registry, JobGateway gateway,
                               Readiness readiness, RequestMeter meter, ApiAccess access) {
        RouteLabels.measure(routing, meter);
        routing.addFilter(access::filter);
        errorHandling(routing);
        routing.addFilter((chain, request, response) -> {
            String path = request.path().absolute().path();
            if (path.startsWith(HEALTH)) {
                QueryParameters.only(request); // as strict as the API's own routes
            }
            Optional<String> waiting = path.equals(HEALTH) || path.equals(HEALTH + "/ready")
                    ? readiness.waitingFor() : Optional.empty();
            if (waiting.isPresent()) {
                JsonBody.sendError(response, Status.SERVICE_UNAVAILABLE_503, "not ready: waiting for " + waiting.get());
            } else {
                chain.proceed();
            }
        });
        ApiRoutes.of(registry, gateway).register(routing, access);
        Dashboard.register(routing);
    }

    /**
     * The error conventions alone: no path ends with a slash (404, on every route alike), the
     * 415 filter, and the one mapping of exceptions to JSON errors.
     */
    public static void errorHandling(HttpRouting.Builder routing) {
        routing.addFilter((chain, request, response) -> {
                    String path = request.path().absolute().path();
                    if (path.length() > 1 && path.endsWith("/")) {
                        throw ApiException.notFound("no route for " + request.prologue().method().text() + " " + path
                                + "; paths have no trailing slash");
                    }
                    JsonBody.requireJsonContentType(request);
                    chain.proceed();
                })
                .error(ApiException.class, (request, response, e) -> {
                    e.headers().forEach(response::header);
                    JsonBody.sendError(response, e.status(), e.getMessage());
                })
                .error(SchedulerException.class, (request, response, e) -> {
                    ErrorStatus.headers(e).forEach(response::header);
                    JsonBody.sendError(response, ErrorStatus.of(e), e.getMessage());
                })
                .error(HttpException.class, (request, response, e) -> {
                    e.headers().forEach(response::header);
                    String message = e instanceof NotFoundException
                            ? "no route for " + request.prologue().method().text() + " " + request.path().absolute().path()
                            : messageOr(e.getMessage(), e.status());
                    JsonBody.sendError(response, e.status(), message);
                })
                .error(Exception.class, (request, response, e) -> {
                    LOGGER.log(WARNING, "internal error on " + request.prologue().method().text() + " "
                            + request.path().absolute().path(), e);
                    JsonBody.sendError(response, Status.INTERNAL_SERVER_ERROR_500, "internal error");
                });
    }

    /**
     * What a handler throws when its client went away: one DEBUG line, and an exception that
     * Helidon passes by its error handlers and takes as the end of the connection, quietly (an
     * error handler cannot do this: whatever it throws is logged as a warning with its trace).
     */
    static CloseConnectionException clientGone(String during, Throwable e) {
        LOGGER.log(DEBUG, () -> "client left while " + during + ": " + e);
        return new CloseConnectionException("client left while " + during, e);
    }

    /**
     * True when {@code e} says the client went away (its socket closed or reset, or the request
     * ended early), rather than that something of ours failed.
     */
    static boolean clientLeft(Throwable e) {
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof CloseConnectionException || cause instanceof DataReader.InsufficientDataAvailableException
                    || cause instanceof SocketException || cause instanceof ClosedChannelException
                    || cause instanceof EOFException) {
                return true;
            }
            if (cause instanceof IOException && cause.getMessage() != null
                    && (cause.getMessage().contains("Broken pipe") || cause.getMessage().contains("Connection reset"))) {
                return true;
            }
        }
        return false;
    }

    /**
     * A handler for the methods a path does not serve: 405 with {@code Allow}. Register it with
     * {@code rules.any(path, ...)} after the path's real routes.
     */
    public static Handler methodNotAllowed(Method... allowed) {
        String allow = Arrays.stream(allowed).map(Method::text).collect(Collectors.joining(", "));
        return (request, response) -> {
            throw new ApiException(Status.METHOD_NOT_ALLOWED_405,
                    "method " + request.prologue().method().text() + " is not allowed on " + request.path().absolute().path()
                            + "; allowed: " + allow,
                    List.of(HeaderValues.create(HeaderNames.ALLOW, allow)));
        };
    }

    /**
     * JSON bodies for the errors Helidon answers itself, before or outside routing: a malformed
     * request line or headers (400), oversize headers (431) or entity (413), and anything that
     * escapes the routing's error handlers. Set on the HTTP listener.
     */
    public static DirectHandlers directHandlers() {
        DirectHandler json = new JsonDirectHandler();
        DirectHandlers.Builder builder = DirectHandlers.builder();
        for (DirectHandler.EventType type : DirectHandler.EventType.values()) {
            builder.addHandler(type, json);
        }
        return builder.build();
    }

    private static final class JsonDirectHandler implements DirectHandler {
        @Override
        public TransportResponse handle(TransportRequest request, EventType eventType, Status status,
                                        ServerResponseHeaders headers, Throwable thrown) {
            // Helidon marks messages that may echo request bytes as unsafe; those get our own words.
            boolean safe = thrown instanceof RequestException e && e.safeMessage();
            return handle(request, eventType, status, headers, safe ? thrown.getMessage() : null);
        }

        @Override
        public TransportResponse handle(TransportRequest request, EventType eventType, Status status,
                                        ServerResponseHeaders headers, String message) {
            // HTTP/1.0 after another request on one connection (RequestGuard serves it only first).
            Status answered = eventType == EventType.HTTP_VERSION_NOT_SUPPORTED ? Status.HTTP_VERSION_NOT_SUPPORTED_505 : status;
            String text;
            if (eventType == EventType.INTERNAL_ERROR) {
                text = "internal error";
            } else if (eventType == EventType.HTTP_VERSION_NOT_SUPPORTED) {
                text = "HTTP/1.0 is served only as the first request of a connection; send HTTP/1.1";
            } else if (status.code() == Status.NOT_FOUND_404.code() && !request.path().isEmpty()) {
                text = "no route for " + request.method() + " " + request.path();
            } else if (message != null && !message.isBlank()) {
                text = message;
            } else {
                text = switch (status.code()) {
                    case 400 -> "malformed request line or headers";
                    case 413 -> "request body is larger than " + SchedulerServer.MAX_REQUEST_BYTES + " bytes";
                    case 414 -> "request line is too long";
                    case 431 -> "request headers are too large";
                    default -> status.reasonPhrase();
                };
            }
            headers.set(HeaderValues.CONTENT_TYPE_JSON);
            return TransportResponse.builder()
                    .status(answered)
                    .headers(headers)
                    .entity(new ErrorBody(text).bytes())
                    .build();
        }
    }

    private static String messageOr(String message, Status status) {
        return message == null || message.isBlank() ? status.reasonPhrase() : message;
    }
}
