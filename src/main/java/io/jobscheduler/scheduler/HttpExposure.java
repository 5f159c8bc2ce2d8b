package io.jobscheduler.scheduler;

import io.jobscheduler.config.SchedulerSettings;
import io.jobscheduler.config.ServerStartException;

import static java.lang.System.Logger.Level.WARNING;

/**
 * The safe default of the HTTP socket: on a non-loopback address the API needs tokens
 * ({@code [auth] tokens_file}); without them the scheduler refuses to start unless
 * {@code [http_server] insecure = true}, and then it says once what is exposed.
 */
final class HttpExposure {
    private static final System.Logger LOG = System.getLogger(HttpExposure.class.getName());

    private HttpExposure() {
    }

    /** @throws ServerStartException for a non-loopback socket without tokens and without the override */
    static void check(SchedulerSettings settings) {
        if (settings.access().tokensFile().isPresent() || settings.httpAddress().isLoopback()) {
            return;
        }
        String exposed = "http_server.addr " + settings.httpAddress() + " is not a loopback address and"
                + " [auth] tokens_file is not set";
        if (!settings.access().httpInsecure()) {
            throw new ServerStartException(exposed + ": anyone who reaches it could start, stop and read every job;"
                    + " set [auth] tokens_file, or [http_server] insecure = true to serve it open anyway", null);
        }
        LOG.log(WARNING, "INSECURE: " + exposed + " ([http_server] insecure = true): anyone who reaches it"
                + " can start commands on every worker, stop and read every job, and remove workers");
    }
}
