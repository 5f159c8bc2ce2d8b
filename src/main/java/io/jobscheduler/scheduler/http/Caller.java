package io.jobscheduler.scheduler.http;

import io.jobscheduler.security.ApiRole;

/**
 * Who sent an HTTP request, as the access filter established it and put it into the request's
 * context: the name of the token presented and its role, or {@code anonymous} with every role
 * when the scheduler has no tokens file.
 */
record Caller(String who, ApiRole role) {
    static final String ANONYMOUS = "anonymous";
    /** Every caller of a scheduler without {@code [auth] tokens_file}. */
    static final Caller UNCHECKED = new Caller(ANONYMOUS, ApiRole.ADMIN);
}
