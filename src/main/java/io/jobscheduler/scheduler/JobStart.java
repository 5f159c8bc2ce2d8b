package io.jobscheduler.scheduler;

import io.jobscheduler.config.Limits;
import io.jobscheduler.grpc.JobLimits;
import io.jobscheduler.grpc.StartJobReq;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What a start asks a worker to run: {@code command path args…}, variables for its environment,
 * a timeout, a user and limits (README, "Jobs"). Each of the last five needs the worker feature of
 * its name; a worker that does not advertise it is never sent the start.
 */
public record JobStart(String command, String path, List<String> args, Map<String, String> env,
                       Optional<Duration> timeout, Optional<String> user, Limits limits) {

    public JobStart {
        Objects.requireNonNull(command, "command");
        Objects.requireNonNull(path, "path");
        args = List.copyOf(args);
        env = Map.copyOf(env);
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(user, "user");
        Objects.requireNonNull(limits, "limits");
    }

    /** A start without limits. */
    public JobStart(String command, String path, List<String> args, Map<String, String> env,
                    Optional<Duration> timeout, Optional<String> user) {
        this(command, path, args, env, timeout, user, Limits.NONE);
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
        if (!limits.isEmpty()) {
            needed.add("limits");
        }
        return needed;
    }

    StartJobReq request() {
        StartJobReq.Builder request = StartJobReq.newBuilder().setCommand(command).setPath(path)
                .addAllArgs(args).putAllEnv(env);
        timeout.ifPresent(t -> request.setTimeoutMillis(t.toMillis()));
        user.ifPresent(request::setUser);
        if (!limits.isEmpty()) {
            request.setLimits(JobLimits.newBuilder()
                    .setMemoryBytes(limits.memoryBytes().orElse(0))
                    .setCpuMillis(limits.cpuMillis().orElse(0))
                    .setPids(limits.pids().orElse(0))
                    .setOutputBytes(limits.outputBytes().orElse(0)));
        }
        return request.build();
    }
}
