package io.jobscheduler.scheduler;

import io.jobscheduler.grpc.StartJobReq;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What a start asks a worker to run: {@code command path args…}, variables for its environment,
 * a timeout and a user (README, "Jobs"). Each of the last four needs the worker feature of its
 * name; a worker that does not advertise it is never sent the start.
 */
public record JobStart(String command, String path, List<String> args, Map<String, String> env,
                       Optional<Duration> timeout, Optional<String> user) {

    public JobStart {
        Objects.requireNonNull(command, "command");
        Objects.requireNonNull(path, "path");
        args = List.copyOf(args);
        env = Map.copyOf(env);
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(user, "user");
    }

    /** {@code command path} alone: what any worker, of the original contract too, runs. */
    public static JobStart of(String command, String path) {
        return new JobStart(command, path, List.of(), Map.of(), Optional.empty(), Optional.empty());
    }

    /** The worker features ({@code RegisterReq.features}) this start needs. */
    List<String> features() {
        List<String> needed = new ArrayList<>();
        if (!args.isEmpty()) {
            needed.add("args");
        }
        if (!env.isEmpty()) {
            needed.add("env");
        }
        timeout.ifPresent(t -> needed.add("timeout"));
        user.ifPresent(u -> needed.add("user"));
        return needed;
    }

    StartJobReq request() {
        StartJobReq.Builder request = StartJobReq.newBuilder().setCommand(command).setPath(path)
                .addAllArgs(args).putAllEnv(env);
        timeout.ifPresent(t -> request.setTimeoutMillis(t.toMillis()));
        user.ifPresent(request::setUser);
        return request.build();
    }
}
