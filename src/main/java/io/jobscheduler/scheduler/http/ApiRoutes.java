package io.jobscheduler.scheduler.http;

import io.helidon.http.Method;
import io.helidon.webserver.http.HttpRules;
import io.jobscheduler.scheduler.JobGateway;
import io.jobscheduler.scheduler.WorkerRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * The table of every API route (health routes aside: Helidon's health feature serves those).
 * A path registers its methods in table order, then a 405 with {@code Allow} for every other
 * method.
 */
public final class ApiRoutes {
    private final List<ApiRoute> routes;

    private ApiRoutes(List<ApiRoute> routes) {
        this.routes = List.copyOf(routes);
    }

    /** The gateway's routes. */
    public static ApiRoutes of(WorkerRegistry registry, JobGateway gateway) {
        return of(registry, gateway, JobEventStream.KEEPALIVE);
    }

    /** The gateway's routes, the event streams sending a keep-alive comment after {@code eventsKeepalive} of silence. */
    public static ApiRoutes of(WorkerRegistry registry, JobGateway gateway, Duration eventsKeepalive) {
        return new ApiRoutes(Stream.concat(new WorkersHttpService(registry, gateway).routes().stream(),
                new JobsHttpService(gateway, eventsKeepalive).routes().stream()).toList());
    }

    public List<ApiRoute> all() {
        return routes;
    }

    /**
     * Registers every route, each behind {@code access}'s check of its role (and its audit line)
     * and labelled for the metrics ({@link RouteLabels}), and for each path the 405 answer for the
     * methods it does not serve.
     */
    public void register(HttpRules rules, ApiAccess access) {
        Map<String, List<Method>> methodsByPath = new LinkedHashMap<>();
        for (ApiRoute route : routes) {
            methodsByPath.computeIfAbsent(route.path(), path -> new ArrayList<>()).add(route.method());
            rules.route(route.method(), route.path(), RouteLabels.labelled(route, access.guard(route)));
        }
        methodsByPath.forEach((path, methods) ->
                rules.any(path, RouteLabels.labelled(path, SchedulerHttp.methodNotAllowed(methods.toArray(Method[]::new)))));
    }
}
