package io.jobscheduler.scheduler.http;

import io.helidon.http.Header;
import io.helidon.http.HeaderNames;
import io.helidon.http.HeaderValues;
import io.helidon.http.Status;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.Handler;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import io.helidon.webserver.http.ServerRequest;
import io.jobscheduler.security.ApiRole;
import io.jobscheduler.security.AuditLog;
import io.jobscheduler.security.TokenFile;
import io.jobscheduler.security.TokenTable;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * Who may call what on the HTTP API. With a tokens file, {@link #filter} lets a request through
 * only with {@code Authorization: Bearer <token>} of a token in the file (else 401 with
 * {@code WWW-Authenticate: Bearer}), except on the open paths ({@code /observe/health} and
 * {@code /ui}, each with everything below it), and puts the {@link Caller} into the request's
 * context; {@link #guard} wraps each route of {@link ApiRoutes}' table with the check of its
 * role (403 for a weaker one) and, for the audited routes, with its audit line. The token itself
 * is never logged, stored or echoed: only the name of its entry is.
 */
public final class ApiAccess {
    /** The health routes (probes call them without a token; ObserveRoutes lists them) and the dashboard's static files. */
    private static final List<String> OPEN = List.of(ObserveRoutes.HEALTH, Dashboard.PATH);
    private static final String BEARER = "bearer ";

    private final Optional<TokenFile> tokens;
    private final HttpAudit audit;

    private ApiAccess(Optional<TokenFile> tokens, AuditLog audit) {
        this.tokens = Objects.requireNonNull(tokens, "tokens");
        this.audit = new HttpAudit(audit);
    }

    /** Anyone may call anything (no tokens file), and nothing is audited. */
    public static ApiAccess open() {
        return new ApiAccess(Optional.empty(), AuditLog.disabled());
    }

    /** Tokens from {@code tokens} when present (else no check), audit lines to {@code audit}. */
    public static ApiAccess of(Optional<TokenFile> tokens, AuditLog audit) {
        return new ApiAccess(tokens, audit);
    }

    /** True for the paths served without a token. */
    static boolean isOpen(String path) {
        for (String open : OPEN) {
            if (path.equals(open) || path.startsWith(open + "/")) {
                return true;
            }
        }
        return false;
    }

    /** The routing filter: establishes the caller, or refuses the request with 401. */
    void filter(FilterChain chain, RoutingRequest request, RoutingResponse response) {
        if (tokens.isEmpty()) {
            request.context().register(Caller.UNCHECKED);
            chain.proceed();
            return;
        }
        String path = request.path().absolute().path();
        if (isOpen(path)) {
            chain.proceed();
            return;
        }
        Optional<String> authorization = request.headers().first(HeaderNames.AUTHORIZATION);
        if (authorization.isEmpty()) {
            throw unauthenticated(request, false, "missing token: send 'Authorization: Bearer <token>'"
                    + " (every route but /observe/health needs at least role viewer)");
        }
        String value = authorization.get();
        if (value.length() <= BEARER.length() || !value.substring(0, BEARER.length()).toLowerCase(Locale.ROOT).equals(BEARER)) {
            throw unauthenticated(request, true, "the Authorization header must be 'Bearer <token>'");
        }
        TokenTable table = tokens.get().table();
        Optional<TokenTable.Entry> entry = table.lookup(value.substring(BEARER.length()).strip());
        if (entry.isEmpty()) {
            throw unauthenticated(request, true, "unknown or revoked token: send 'Authorization: Bearer <token>'"
                    + " with a token of the scheduler's tokens file");
        }
        request.context().register(new Caller(entry.get().name(), entry.get().role()));
        chain.proceed();
    }

    /**
     * {@code route}'s handler behind the check of its role, and for the audited routes behind
     * their audit line. A request without an established caller (which the filter never lets
     * reach a route) is refused as unauthenticated.
     */
    Handler guard(ApiRoute route) {
        Handler audited = audit.around(route);
        return (request, response) -> {
            Optional<Caller> caller = request.context().get(Caller.class);
            if (caller.isEmpty()) {
                throw unauthenticated(request, false, "missing token: send 'Authorization: Bearer <token>'");
            }
            if (!caller.get().role().includes(route.role())) {
                String message = "token '" + caller.get().who() + "' has role " + caller.get().role().word()
                        + "; " + route.method().text() + " " + route.path() + " needs role " + route.role().word()
                        + (route.role() == ApiRole.ADMIN ? "" : " or above");
                audit.refused(request, caller.get().who(), route.path(), Status.FORBIDDEN_403);
                throw new ApiException(Status.FORBIDDEN_403, message);
            }
            audited.handle(request, response);
        };
    }

    private ApiException unauthenticated(ServerRequest request, boolean invalidToken, String message) {
        audit.refused(request, Caller.ANONYMOUS, request.path().absolute().path(), Status.UNAUTHORIZED_401);
        Header challenge = HeaderValues.create(HeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"jobscheduler\""
                + (invalidToken ? ", error=\"invalid_token\"" : ""));
        return new ApiException(Status.UNAUTHORIZED_401, message, List.of(challenge));
    }
}
