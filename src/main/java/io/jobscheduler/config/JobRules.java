package io.jobscheduler.config;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static io.jobscheduler.config.ConfigKey.Kind.*;

/**
 * How a worker shapes and confines the jobs it starts: the {@code [jobs]} settings beyond where
 * jobs run and what is kept (README, "Jobs": what each protects against and what it does not).
 *
 * @param passEnv         variables of the worker passed through to every job
 * @param defaultTimeout  the timeout of a job whose request names none; empty: none
 * @param maxTimeout      the longest timeout a request may ask for; empty: no bound
 * @param allowedCommands command names or absolute paths a job may run; empty: any
 * @param confine         a command holding '/', and path, must resolve inside work_dir
 * @param runAs           the user jobs run as unless a request names another; empty: the worker's
 * @param allowedUsers    the users a request may name
 * @param isolatedJobDir  each job runs in a fresh empty folder of its own instead of work_dir
 * @param defaultLimits   the limits of a job whose request does not set them ({@code [jobs.default_limits]})
 * @param maxLimits       the highest limits a request may ask for ({@code [jobs.max_limits]}); more is refused
 */
public record JobRules(List<String> passEnv, Optional<Duration> defaultTimeout, Optional<Duration> maxTimeout,
                       List<String> allowedCommands, boolean confine, Optional<String> runAs,
                       List<String> allowedUsers, boolean isolatedJobDir, Limits defaultLimits, Limits maxLimits) {

    /** Everything allowed and nothing changed: a job runs as the worker did before these settings. */
    public static final JobRules OPEN = new JobRules(List.of(), Optional.empty(), Optional.empty(), List.of(),
            false, Optional.empty(), List.of(), false);

    static final List<ConfigKey> KEYS = java.util.stream.Stream.of(List.of(
            new ConfigKey("jobs", "pass_env", STRING_LIST, ""),
            new ConfigKey("jobs", "default_timeout", DURATION, null),
            new ConfigKey("jobs", "max_timeout", DURATION, null),
            new ConfigKey("jobs", "allowed_commands", STRING_LIST, ""),
            new ConfigKey("jobs", "confine", BOOLEAN, "false"),
            new ConfigKey("jobs", "run_as", STRING, ""),
            new ConfigKey("jobs", "allowed_users", STRING_LIST, ""),
            new ConfigKey("jobs", "job_dir", STRING, "shared")),
            Limits.keys("jobs.default_limits"), Limits.keys("jobs.max_limits")).flatMap(List::stream).toList();

    public JobRules {
        passEnv = List.copyOf(passEnv);
        allowedCommands = List.copyOf(allowedCommands);
        allowedUsers = List.copyOf(allowedUsers);
        java.util.Objects.requireNonNull(defaultLimits, "defaultLimits");
        java.util.Objects.requireNonNull(maxLimits, "maxLimits");
    }

    /** Rules without limits of their own. */
    public JobRules(List<String> passEnv, Optional<Duration> defaultTimeout, Optional<Duration> maxTimeout,
                    List<String> allowedCommands, boolean confine, Optional<String> runAs,
                    List<String> allowedUsers, boolean isolatedJobDir) {
        this(passEnv, defaultTimeout, maxTimeout, allowedCommands, confine, runAs, allowedUsers, isolatedJobDir,
                Limits.NONE, Limits.NONE);
    }

    /** These rules with these limits. */
    public JobRules withLimits(Limits defaults, Limits max) {
        return new JobRules(passEnv, defaultTimeout, maxTimeout, allowedCommands, confine, runAs, allowedUsers,
                isolatedJobDir, defaults, max);
    }

    /** True when jobs may run as another user than the worker's (which needs a worker running as root). */
    public boolean changesUser() {
        return runAs.isPresent() || !allowedUsers.isEmpty();
    }

    static JobRules from(Settings jobs) {
        Optional<Duration> defaultTimeout = timeout(jobs, "default_timeout");
        Optional<Duration> maxTimeout = timeout(jobs, "max_timeout");
        if (defaultTimeout.isPresent() && maxTimeout.isPresent() && defaultTimeout.get().compareTo(maxTimeout.get()) > 0) {
            throw new ConfigException("jobs.default_timeout: " + jobs.string("default_timeout")
                    + " is longer than jobs.max_timeout " + jobs.string("max_timeout"));
        }
        for (String name : jobs.list("pass_env")) {
            if (!name.matches("[A-Za-z_][A-Za-z0-9_]*")) {
                throw new ConfigException("jobs.pass_env: '" + name + "' is not a variable name");
            }
        }
        for (String command : jobs.list("allowed_commands")) {
            if (command.contains("/") && !command.startsWith("/")) {
                throw new ConfigException("jobs.allowed_commands: '" + command
                        + "' must be a command name or an absolute path");
            }
        }
        String jobDir = jobs.string("job_dir");
        if (!jobDir.equals("shared") && !jobDir.equals("isolated")) {
            throw new ConfigException("jobs.job_dir: expected \"shared\" or \"isolated\", found \"" + jobDir + "\"");
        }
        String runAs = jobs.string("run_as");
        Limits defaults = Limits.from(jobs.table("default_limits"), "jobs.default_limits");
        Limits max = Limits.from(jobs.table("max_limits"), "jobs.max_limits");
        defaults.firstAbove(max).ifPresent(problem -> {
            throw new ConfigException("jobs.default_limits." + problem + " in jobs.max_limits");
        });
        return new JobRules(jobs.list("pass_env"), defaultTimeout, maxTimeout, jobs.list("allowed_commands"),
                jobs.bool("confine"), runAs.isEmpty() ? Optional.empty() : Optional.of(runAs),
                jobs.list("allowed_users"), jobDir.equals("isolated"), defaults, max);
    }

    private static Optional<Duration> timeout(Settings jobs, String key) {
        if (jobs.string(key).isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(SchedulerSettings.positive("jobs." + key, jobs.duration(key)));
    }
}
