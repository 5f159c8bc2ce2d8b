package io.jobscheduler.scheduler.http;

import io.helidon.http.Method;
import io.jobscheduler.security.ApiRole;
import java.util.List;
import java.util.Optional;

/**
 * The routes the HTTP socket serves outside the {@link ApiRoutes} table: Helidon's health and
 * metrics observers and its OpenAPI feature serve these. Listed once here, for the metrics labels
 * ({@link RouteLabels}) and the OpenAPI parity test.
 */
public final class ObserveRoutes {
    public static final String HEALTH = "/observe/health";
    public static final String METRICS = "/observe/metrics";
    public static final String OPENAPI = "/openapi";

    /**
     * One route served by a Helidon feature, with the weakest token role that may call it (for
     * the token check to enforce; none for the health routes, which probes call without a token).
     */
    public record ObserveRoute(Method method, String path, Optional<ApiRole> role) {
    }

    public static final List<ObserveRoute> ALL = List.of(
            new ObserveRoute(Method.GET, HEALTH, Optional.empty()),
            new ObserveRoute(Method.GET, HEALTH + "/live", Optional.empty()),
            new ObserveRoute(Method.GET, HEALTH + "/ready", Optional.empty()),
            new ObserveRoute(Method.GET, METRICS, Optional.of(ApiRole.VIEWER)),
            new ObserveRoute(Method.GET, OPENAPI, Optional.of(ApiRole.VIEWER)));

    private ObserveRoutes() {
    }

    /** The route {@code path} is exactly, if it is one of these. */
    static Optional<ObserveRoute> of(String path) {
        return ALL.stream().filter(route -> route.path().equals(path)).findFirst();
    }
}
