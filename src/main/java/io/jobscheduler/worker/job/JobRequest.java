package io.jobscheduler.worker.job;

import io.jobscheduler.config.Limits;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What a start asks for, as it came: {@code command path args…} with {@code env} added to the
 * job's clean environment, an optional timeout and user. {@link JobShaper} checks it against the
 * worker's rules.
 *
 * @param path    empty: left out of the command line
 * @param timeout empty: the worker's default_timeout, if any
 * @param user    empty: the worker's run_as, if any
 * @param limits  each limit not set: the worker's default_limits, if any
 */
public record JobRequest(String command, String path, List<String> args, Map<String, String> env,
                         Optional<Duration> timeout, Optional<String> user, Limits limits) {

    public JobRequest {
        Objects.requireNonNull(command, "command");
        Objects.requireNonNull(path, "path");
        args = List.copyOf(args);
        env = Map.copyOf(env);
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(limits, "limits");
    }

    /** A request without limits of its own. */
    public JobRequest(String command, String path, List<String> args, Map<String, String> env,
                      Optional<Duration> timeout, Optional<String> user) {
        this(command, path, args, env, timeout, user, Limits.NONE);
    }

    /** {@code command path} alone, shaped only by the worker's settings (the original contract). */
    public static JobRequest of(String command, String path) {
        return new JobRequest(command, path, List.of(), Map.of(), Optional.empty(), Optional.empty());
    }
}
