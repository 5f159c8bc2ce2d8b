package io.jobscheduler.scheduler.http;

import io.helidon.http.Method;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.HttpRouting;
import io.helidon.webserver.http.ServerRequest;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Gives each request its metrics labels without letting a client invent them: the route is the
 * template of the {@link ApiRoute} that took the request (or of an {@link ObserveRoutes} route),
 * never the path sent, and anything else is {@value #UNMATCHED}; a method that is not one of
 * HTTP's own is {@value #OTHER_METHOD}. So a scan of random paths or methods adds no series.
 */
final class RouteLabels {
    static final String UNMATCHED = "unmatched";
    static final String OTHER_METHOD = "other";
    private static final Set<String> METHODS = Set.of("GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS",
            "TRACE", "PATCH");

    /** The route that took the request, set by its handler; in the request's context. */
    private static final class Matched {
        volatile String method;
        volatile String route;
    }

    private RouteLabels() {
    }

    /**
     * Times every request of {@code routing} from the first filter to the response's last byte,
     * and reports it once sent. Register before every other filter.
     */
    static void measure(HttpRouting.Builder routing, RequestMeter meter) {
        routing.addFilter((chain, request, response) -> {
            long start = System.nanoTime();
            Matched matched = new Matched();
            request.context().register(matched);
            AtomicBoolean reported = new AtomicBoolean();
            response.whenSent(() -> {
                if (reported.compareAndSet(false, true)) {
                    String route = matched.route;
                    String method = matched.method;
                    if (route == null) {
                        String path = request.path().absolute().path();
                        var observe = ObserveRoutes.of(path);
                        route = observe.map(ObserveRoutes.ObserveRoute::path).orElse(UNMATCHED);
                        method = method(request);
                    }
                    meter.served(method, route, response.status().code(), Duration.ofNanos(System.nanoTime() - start));
                }
            });
            chain.proceed();
        });
    }

    /** {@code handler}, serving {@code route}, labelling the request with the route's method and template. */
    static Handler labelled(ApiRoute route, Handler handler) {
        String method = route.method().text();
        return (request, response) -> {
            request.context().get(Matched.class).ifPresent(m -> {
                m.method = method;
                m.route = route.path();
            });
            handler.handle(request, response);
        };
    }

    /** A handler of {@code path} for every method (the 405 answer), labelled with the path and the method sent. */
    static Handler labelled(String path, Handler handler) {
        return (request, response) -> {
            request.context().get(Matched.class).ifPresent(m -> {
                m.method = method(request);
                m.route = path;
            });
            handler.handle(request, response);
        };
    }

    private static String method(ServerRequest request) {
        Method method = request.prologue().method();
        return METHODS.contains(method.text()) ? method.text() : OTHER_METHOD;
    }
}
