package io.jobscheduler.scheduler.http;

import java.time.Duration;

/**
 * Where the HTTP socket reports each answered request: its method and route template as
 * {@link RouteLabels} bounds them, its status and how long it took.
 */
public interface RequestMeter {
    /** Counts nothing: for routing tests that do not look at metrics. */
    RequestMeter NONE = (method, route, status, took) -> {
    };

    void served(String method, String route, int status, Duration took);
}
