package io.jobscheduler.scheduler.http;

import io.helidon.http.Method;
import io.helidon.webserver.http.Handler;
import io.jobscheduler.security.ApiRole;
import java.util.Objects;

/**
 * One route of the HTTP API: its method, its path template as Helidon matches it (and as the
 * OpenAPI document names it), the weakest token role that may call it, and its handler. The
 * routing is made from the table of these ({@link ApiRoutes}), and so is everything else that
 * depends on the route: the role check, the audit line, the metrics label and the OpenAPI parity
 * test. Helidon's routing cannot be listed, which is why the table exists.
 */
public record ApiRoute(Method method, String path, ApiRole role, Handler handler) {
    public ApiRoute {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(path, "path");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(handler, "handler");
        if (!path.startsWith("/")) {
            throw new IllegalArgumentException("path must start with '/': " + path);
        }
    }

    public static ApiRoute get(String path, ApiRole role, Handler handler) {
        return new ApiRoute(Method.GET, path, role, handler);
    }

    public static ApiRoute post(String path, ApiRole role, Handler handler) {
        return new ApiRoute(Method.POST, path, role, handler);
    }

    public static ApiRoute delete(String path, ApiRole role, Handler handler) {
        return new ApiRoute(Method.DELETE, path, role, handler);
    }
}
