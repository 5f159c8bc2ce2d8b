package io.jobscheduler.scheduler.http;

import io.helidon.http.Method;
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

    /** One route served by a Helidon feature. */
    public record ObserveRoute(Method method, String path) {
    }

    public static final List<ObserveRoute> ALL = List.of(
            new ObserveRoute(Method.GET, HEALTH),
            new ObserveRoute(Method.GET, HEALTH + "/live"),
            new ObserveRoute(Method.GET, HEALTH + "/ready"),
            new ObserveRoute(Method.GET, METRICS),
            new ObserveRoute(Method.GET, OPENAPI));

    private ObserveRoutes() {
    }

    /** The route {@code path} is exactly, if it is one of these. */
    static Optional<ObserveRoute> of(String path) {
        return ALL.stream().filter(route -> route.path().equals(path)).findFirst();
    }
}
