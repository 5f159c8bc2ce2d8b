package io.jobscheduler.scheduler.http;

import io.helidon.common.uri.UriQuery;
import io.helidon.webserver.http.ServerRequest;
import java.util.List;
import java.util.Optional;

/**
 * Query parameters are as strict as JSON fields: a route names the ones it takes, and an
 * unknown or repeated parameter is 400 naming it (rather than silently ignored).
 */
final class QueryParameters {
    private final UriQuery query;

    private QueryParameters(UriQuery query) {
        this.query = query;
    }

    /** The request's query, refused unless every parameter is one of {@code known}, given once. */
    static QueryParameters only(ServerRequest request, String... known) {
        return only(request, List.of(), known);
    }

    /** As {@link #only(ServerRequest, String...)}, but the parameters {@code repeatable} may be given more than once. */
    static QueryParameters only(ServerRequest request, List<String> repeatable, String... known) {
        UriQuery query = request.query();
        List<String> allowed = List.of(known);
        for (String name : query.names()) {
            if (!allowed.contains(name)) {
                String path = request.path().absolute().path();
                throw ApiException.badRequest("unknown query parameter '" + name + "'; " + path
                        + (allowed.isEmpty() ? " takes none" : " takes " + String.join(", ", allowed)));
            }
            if (query.all(name).size() > 1 && !repeatable.contains(name)) {
                throw ApiException.badRequest("query parameter '" + name + "' is given more than once");
            }
        }
        return new QueryParameters(query);
    }

    /** Every value of a repeatable parameter, in request order; empty when it is not given. */
    List<String> all(String name) {
        return query.contains(name) ? query.all(name) : List.of();
    }

    Optional<String> get(String name) {
        return query.contains(name) ? Optional.of(query.get(name)) : Optional.empty();
    }
}
