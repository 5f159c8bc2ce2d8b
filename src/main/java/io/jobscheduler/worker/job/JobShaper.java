package io.jobscheduler.worker.job;

import io.jobscheduler.config.ConfigException;
import io.jobscheduler.config.JobRules;
import io.jobscheduler.config.Limits;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Pattern;

import static io.jobscheduler.worker.job.StartRefusedException.Reason.FORBIDDEN;
import static io.jobscheduler.worker.job.StartRefusedException.Reason.INVALID;
import static io.jobscheduler.worker.job.StartRefusedException.Reason.UNACCEPTABLE;

/**
 * Turns a {@link JobRequest} into a {@link Plan} by the worker's {@link JobRules}: checks its
 * shape (names, NULs, sizes), its policy (allowed commands, confinement to work_dir, allowed
 * users) and its timeout, and builds the job's clean environment. Nothing is created or spawned
 * here; what is refused says what it refused. README, "Jobs", says what this protects against.
 */
public final class JobShaper {
    /** The kernel's bound on one argument or variable, NUL included (MAX_ARG_STRLEN). */
    static final int MAX_STRING_BYTES = 128 * 1024 - 1;
    /** argv and the environment together, well under the kernel's ARG_MAX of a default 8 MiB stack. */
    static final int MAX_TOTAL_BYTES = 1024 * 1024;
    static final int MAX_ENTRIES = 4096;
    static final String SETPRIV = "/usr/bin/setpriv";
    private static final Pattern NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");
    private static final String RESERVED_PREFIX = "JOBSCHEDULER_";
    private static final String DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";

    /** A checked start: what to run, as whom, for how long; {@link #launch} completes it once the job has an id. */
    record Plan(String executable, List<String> argv, Map<String, String> env, Optional<UserAccount> user,
                Optional<Duration> timeout, boolean isolated, Limits limits) {

        Launch launch(String jobId, String workerId, Path cwd) {
            List<String> environment = new ArrayList<>();
            env.forEach((name, value) -> environment.add(name + "=" + value));
            environment.add("JOBSCHEDULER_JOB_ID=" + jobId);
            environment.add("JOBSCHEDULER_WORKER_ID=" + workerId);
            Launch launch = new Launch(executable, argv, environment, cwd);
            return user.map(u -> launch.withStepInFront(List.of(SETPRIV, "--reuid=" + u.uid(), "--regid=" + u.gid(),
                    "--init-groups", "--"))).orElse(launch);
        }
    }

    private final Path workDir;
    private final JobRules rules;
    private final Map<String, String> workerEnv;
    private final Optional<UserAccount> runAs;
    private final Map<String, UserAccount> allowedUsers;
    private final JobConfinement confinement;

    private JobShaper(Path workDir, JobRules rules, Map<String, String> workerEnv, Optional<UserAccount> runAs,
                      Map<String, UserAccount> allowedUsers, JobConfinement confinement) {
        this.confinement = confinement;
        this.workDir = workDir;
        this.rules = rules;
        this.workerEnv = Map.copyOf(workerEnv);
        this.runAs = runAs;
        this.allowedUsers = Map.copyOf(allowedUsers);
    }

    /**
     * @param workDir   where jobs run and relative commands and paths resolve; must exist
     * @param workerEnv the worker's environment (PATH, LANG, TZ and pass_env come from it)
     * @throws ConfigException a setting this worker cannot honour: another user while not root,
     *                         an unknown user, no setpriv
     */
    public static JobShaper of(Path workDir, JobRules rules, Map<String, String> workerEnv) throws IOException {
        return of(workDir, rules, workerEnv, JobConfinement.withoutCgroups("this runner makes no job cgroups"));
    }

    /**
     * @param confinement how jobs are confined; a default limit it cannot enforce is a ConfigException
     *                    naming it, since every start would be refused
     */
    public static JobShaper of(Path workDir, JobRules rules, Map<String, String> workerEnv, JobConfinement confinement)
            throws IOException {
        confinement.refusal(rules.defaultLimits()).ifPresent(why -> {
            throw new ConfigException("jobs.default_limits." + why);
        });
        if (!Files.isDirectory(workDir)) {
            throw new IOException("not a directory");
        }
        if (rules.changesUser()) {
            if (UserAccount.effectiveUid() != 0) {
                throw new ConfigException("jobs." + (rules.runAs().isPresent() ? "run_as" : "allowed_users")
                        + ": running jobs as another user needs a worker running as root");
            }
            if (!Files.isExecutable(Path.of(SETPRIV))) {
                throw new ConfigException("jobs.run_as: needs util-linux " + SETPRIV + ", which is missing");
            }
        }
        Map<String, UserAccount> allowed = new LinkedHashMap<>();
        for (String name : rules.allowedUsers()) {
            allowed.put(name, UserAccount.lookUp("jobs.allowed_users", name));
        }
        return new JobShaper(workDir.toRealPath(), rules, workerEnv,
                rules.runAs().map(name -> UserAccount.lookUp("jobs.run_as", name)), allowed, confinement);
    }

    /** No rules: any command, the worker's user, no timeout (as a worker of the original contract). */
    public static JobShaper open(Path workDir) throws IOException {
        return of(workDir, JobRules.OPEN, System.getenv());
    }

    Path workDir() {
        return workDir;
    }

    JobConfinement confinement() {
        return confinement;
    }

    Plan plan(JobRequest request) throws StartRefusedException {
        checkShape(request);
        Optional<Duration> timeout = timeout(request);
        Optional<UserAccount> user = user(request);
        Limits limits = limits(request);
        String executable = executable(request.command());
        String command = request.command();
        String path = request.path();
        if (rules.confine() && command.contains("/")) {
            confine("command", command);
        }
        if (rules.confine() && !path.isEmpty()) {
            confine("path", path);
        }
        if (rules.isolatedJobDir()) {
            // The job's folder is empty: what the request names relative to work_dir is passed absolute.
            executable = command.contains("/") ? workDir.resolve(command).toString() : executable;
            path = path.isEmpty() ? path : workDir.resolve(path).toString();
        }
        List<String> argv = new ArrayList<>();
        argv.add(command);
        if (!path.isEmpty()) {
            argv.add(path);
        }
        argv.addAll(request.args());
        return new Plan(executable, argv, environment(request, user), user, timeout, rules.isolatedJobDir(), limits);
    }

    private static void checkShape(JobRequest request) throws StartRefusedException {
        if (request.command().isEmpty()) {
            throw new StartRefusedException(INVALID, "command: must not be empty");
        }
        long total = checkString("command", request.command()) + checkString("path", request.path());
        if (request.args().size() + request.env().size() > MAX_ENTRIES) {
            throw new StartRefusedException(INVALID, "args and env: at most " + MAX_ENTRIES + " entries together");
        }
        for (int i = 0; i < request.args().size(); i++) {
            total += checkString("args[" + i + "]", request.args().get(i));
        }
        for (Map.Entry<String, String> e : request.env().entrySet()) {
            String where = "env '" + ProcessSpawner.quoted(e.getKey()) + "'";
            if (!NAME.matcher(e.getKey()).matches()) {
                throw new StartRefusedException(INVALID, where + ": not a variable name ([A-Za-z_][A-Za-z0-9_]*)");
            }
            if (e.getKey().startsWith(RESERVED_PREFIX)) {
                throw new StartRefusedException(INVALID, where + ": names starting with " + RESERVED_PREFIX
                        + " are the worker's");
            }
            total += checkString(where, e.getKey() + "=" + e.getValue());
        }
        if (total > MAX_TOTAL_BYTES) {
            throw new StartRefusedException(INVALID, "args and env: " + total + " bytes together, at most "
                    + MAX_TOTAL_BYTES);
        }
    }

    /** Its size in bytes; refused with a NUL (C strings end there) or over the kernel's bound. */
    private static long checkString(String where, String value) throws StartRefusedException {
        if (value.indexOf('\0') >= 0) {
            throw new StartRefusedException(INVALID, where + ": must not contain NUL");
        }
        int bytes = value.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > MAX_STRING_BYTES) {
            throw new StartRefusedException(INVALID, where + ": " + bytes + " bytes, at most " + MAX_STRING_BYTES);
        }
        return bytes;
    }

    private Optional<Duration> timeout(JobRequest request) throws StartRefusedException {
        if (request.timeout().isPresent() && !request.timeout().get().isPositive()) {
            throw new StartRefusedException(INVALID, "timeout: must be more than 0");
        }
        Optional<Duration> timeout = request.timeout().or(rules::defaultTimeout);
        if (timeout.isPresent() && rules.maxTimeout().isPresent() && timeout.get().compareTo(rules.maxTimeout().get()) > 0) {
            throw new StartRefusedException(UNACCEPTABLE, "timeout: " + text(timeout.get())
                    + " is longer than this worker's max_timeout of " + text(rules.maxTimeout().get()));
        }
        return timeout;
    }

    /** The request's limits over default_limits; above max_limits, or not enforceable here, is refused. */
    private Limits limits(JobRequest request) throws StartRefusedException {
        Limits limits = request.limits().orElse(rules.defaultLimits());
        Optional<String> above = limits.firstAbove(rules.maxLimits());
        if (above.isPresent()) {
            throw new StartRefusedException(UNACCEPTABLE, "limits." + above.get() + " (this worker's max_limits)");
        }
        Optional<String> unenforceable = confinement.refusal(limits);
        if (unenforceable.isPresent()) {
            throw new StartRefusedException(UNACCEPTABLE, "limits." + unenforceable.get());
        }
        return limits;
    }

    private Optional<UserAccount> user(JobRequest request) throws StartRefusedException {
        if (request.user().isEmpty()) {
            return runAs;
        }
        UserAccount account = allowedUsers.get(request.user().get());
        if (account == null) {
            throw new StartRefusedException(FORBIDDEN, "user '" + ProcessSpawner.quoted(request.user().get())
                    + "': not in this worker's allowed_users");
        }
        return Optional.of(account);
    }

    /**
     * The file to exec: a bare name found on the worker's PATH is exec'd by that path, so what
     * allowed_commands allowed is what runs; one not found is left to the spawn, which says so.
     */
    private String executable(String command) throws StartRefusedException {
        Optional<Path> found = command.contains("/") ? Optional.empty() : onPath(command);
        if (!rules.allowedCommands().isEmpty()) {
            List<String> candidates = new ArrayList<>();
            if (command.contains("/")) {
                Path absolute = workDir.resolve(command).normalize();
                candidates.add(absolute.toString());
                realPath(absolute).ifPresent(real -> candidates.add(real.toString()));
            } else {
                candidates.add(command);
                found.ifPresent(p -> candidates.add(p.toString()));
                found.flatMap(JobShaper::realPath).ifPresent(real -> candidates.add(real.toString()));
            }
            if (candidates.stream().noneMatch(rules.allowedCommands()::contains)) {
                throw new StartRefusedException(FORBIDDEN, "command '" + ProcessSpawner.quoted(command)
                        + "': not in this worker's allowed_commands");
            }
        }
        return found.map(Path::toString).orElse(command);
    }

    private Optional<Path> onPath(String name) {
        for (String dir : workerEnv.getOrDefault("PATH", DEFAULT_PATH).split(":")) {
            if (dir.startsWith("/")) {
                Path candidate = Path.of(dir, name);
                if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                    return Optional.of(candidate);
                }
            }
        }
        return Optional.empty();
    }

    /**
     * Refuses a command or path that resolves outside work_dir: lexically ({@code ..}, absolute
     * paths) and after symlinks, of the file or, for one not there yet, of its nearest existing
     * folder.
     */
    private void confine(String what, String given) throws StartRefusedException {
        Path lexical = workDir.resolve(given).normalize();
        Path existing = lexical;
        while (existing.getParent() != null && !Files.exists(existing, LinkOption.NOFOLLOW_LINKS)) {
            existing = existing.getParent();
        }
        Path rest = existing.relativize(lexical);
        Optional<Path> real = realPath(existing).map(r -> r.resolve(rest));
        if (!lexical.startsWith(workDir) || real.isEmpty() || !real.get().startsWith(workDir)) {
            throw new StartRefusedException(FORBIDDEN, what + " '" + ProcessSpawner.quoted(given)
                    + "': outside work_dir (jobs.confine)");
        }
    }

    private static Optional<Path> realPath(Path path) {
        try {
            return Optional.of(path.toRealPath());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private Map<String, String> environment(JobRequest request, Optional<UserAccount> user) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", workerEnv.getOrDefault("PATH", DEFAULT_PATH));
        env.put("HOME", user.map(UserAccount::home).orElse(System.getProperty("user.home")));
        env.put("USER", user.map(UserAccount::name).orElse(System.getProperty("user.name")));
        for (String name : List.of("LANG", "TZ")) {
            Optional.ofNullable(workerEnv.get(name)).ifPresent(value -> env.put(name, value));
        }
        for (String name : rules.passEnv()) {
            Optional.ofNullable(workerEnv.get(name)).ifPresent(value -> env.put(name, value));
        }
        env.putAll(request.env());
        return env;
    }

    /** A duration as configuration writes it, in its largest whole unit: "1500ms", "30s", "2m", "1h". */
    static String text(Duration d) {
        long ms = d.toMillis();
        if (ms % 3_600_000 == 0) {
            return ms / 3_600_000 + "h";
        }
        if (ms % 60_000 == 0) {
            return ms / 60_000 + "m";
        }
        return ms % 1000 == 0 ? ms / 1000 + "s" : ms + "ms";
    }
}
