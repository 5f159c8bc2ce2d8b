package io.jobscheduler.worker.job;

import io.jobscheduler.config.Limits;
import io.jobscheduler.worker.cgroup.CgroupException;
import io.jobscheduler.worker.cgroup.CgroupLayout;
import io.jobscheduler.worker.cgroup.Control;
import io.jobscheduler.worker.cgroup.Enforcement;
import io.jobscheduler.worker.cgroup.JobCgroup;
import io.jobscheduler.worker.cgroup.JobCgroups;
import io.jobscheduler.worker.cgroup.ResourceLimits;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * How the worker confines each job: a cgroup of its own where the host allows it (made before the job's
 * first instruction, its limits written, joined by a pre-exec step in front of every other, killed as a
 * whole and removed when the job ends), else the {@code RLIMIT_AS} stand-in for memory; the output limit is
 * the worker's own (see {@link JobReports}). README, "Limits", says what each needs from the host.
 */
public final class JobConfinement implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(JobConfinement.class.getName());
    static final String PRLIMIT = "/usr/bin/prlimit";
    /** How long the processes left in a job's cgroup have to die after its kill, before removal gives up. */
    private static final Duration REMOVE_TIMEOUT = Duration.ofSeconds(10);

    private final Optional<JobCgroups> cgroups;
    private final Enforcement enforcement;
    private final String description;

    private JobConfinement(Optional<JobCgroups> cgroups, Enforcement enforcement, String description) {
        this.cgroups = cgroups;
        this.enforcement = enforcement;
        this.description = description;
    }

    /** No cgroups: plain processes, memory by RLIMIT_AS only (runners of tests and of the original contract). */
    public static JobConfinement withoutCgroups(String reason) {
        Enforcement none = Enforcement.withoutCgroups(reason);
        return new JobConfinement(Optional.empty(), none, "no cgroups " + none.describe());
    }

    /**
     * The job cgroups of the worker keeping its state in {@code dataDir}, as this host allows; the cgroups a
     * previous process of this worker left (its jobs were lost with it) are killed and removed first. Never
     * fails: what cannot be used is reported by {@link #describe()} and refused at start.
     */
    public static JobConfinement open(Path dataDir) {
        return open(CgroupLayout.detect(), dataDir);
    }

    /** {@link #open(Path)} in {@code layout} (tests give the v2-only view of this machine). */
    static JobConfinement open(CgroupLayout layout, Path dataDir) {
        if (layout.kind() == CgroupLayout.Kind.NONE) {
            return new JobConfinement(Optional.empty(), layout.enforcement(), layout.describe());
        }
        JobCgroups cgroups;
        try {
            cgroups = JobCgroups.open(layout, parentName(dataDir));
        } catch (CgroupException e) {
            return withoutCgroups("cannot make job cgroups: " + e.getMessage());
        }
        try {
            List<String> removed = cgroups.removeLeftovers(REMOVE_TIMEOUT);
            if (!removed.isEmpty()) {
                LOG.log(System.Logger.Level.INFO, "killed and removed the cgroups of " + removed.size()
                        + " job(s) a previous worker process left: " + removed);
            }
        } catch (CgroupException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot remove the job cgroups a previous worker process left: "
                    + e.getMessage());
        }
        return new JobConfinement(Optional.of(cgroups), layout.enforcement(), layout.describe());
    }

    /**
     * The name of the worker's parent cgroup: the same for every process of one worker (its data_dir), so a
     * restart finds what the previous one left, and different for two workers of one host. Public for
     * the end-to-end harness, which removes what a SIGKILLed worker left.
     */
    public static String parentName(Path dataDir) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest(dataDir.toAbsolutePath().normalize().toString().getBytes(StandardCharsets.UTF_8));
            return "worker-" + HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** One line for the start-up log: the layout and how each limit is enforced. */
    public String describe() {
        return description + ", output (worker)";
    }

    /** What the worker enforces, for {@code RegisterReq.enforced_limits}: limit names, then "kill-tree". */
    public List<String> enforcedLimits() {
        List<String> words = new ArrayList<>();
        for (String name : Limits.NAMES) {
            if (name.equals("output") || enforcement.enforces(control(name))) {
                words.add(name);
            }
        }
        if (enforcement.enforces(Control.KILL_TREE)) {
            words.add(Control.KILL_TREE.word());
        }
        return words;
    }

    /** Why {@code limits} cannot be enforced here ("cpu: this worker cannot enforce …"), if they cannot. */
    Optional<String> refusal(Limits limits) {
        for (String name : limits.names()) {
            if (!name.equals("output") && !enforcement.enforces(control(name))) {
                return Optional.of(name + ": " + enforcement.refusal(java.util.Set.of(control(name))).orElseThrow());
            }
            if (name.equals("memory") && enforcement.means(Control.MEMORY) == Enforcement.Means.RLIMIT
                    && !Files.isExecutable(Path.of(PRLIMIT))) {
                return Optional.of("memory: this worker cannot enforce a memory limit: no cgroup for it, and "
                        + PRLIMIT + " (util-linux), which sets RLIMIT_AS in its place, is missing");
            }
        }
        return Optional.empty();
    }

    private static Control control(String name) {
        return Map.of("memory", Control.MEMORY, "cpu", Control.CPU, "pids", Control.PIDS).get(name);
    }

    /**
     * Starts {@code launch} confined by {@code limits} (checked by {@link #refusal} before): in a new cgroup
     * of {@code jobId}, joined before the first instruction, when there are cgroups; the process answered
     * kills the whole cgroup on {@link ProcessDriver.Signal#KILL} and removes it on release. A start that
     * fails leaves no cgroup.
     *
     * @throws SpawnException the command cannot start, or the job's cgroup cannot be made
     */
    ProcessDriver.Started start(ProcessDriver driver, String jobId, Limits limits, Launch launch)
            throws SpawnException {
        OptionalLong rlimitMemory = OptionalLong.empty();
        ResourceLimits inCgroup = ResourceLimits.NONE;
        if (limits.memoryBytes().isPresent()) {
            if (enforcement.means(Control.MEMORY) == Enforcement.Means.CGROUP) {
                inCgroup = inCgroup.withMemory(limits.memoryBytes().getAsLong());
            } else {
                rlimitMemory = limits.memoryBytes();
            }
        }
        if (limits.cpuMillis().isPresent()) {
            inCgroup = inCgroup.withCpu(limits.cpuMillis().getAsLong() / 1000.0);
        }
        if (limits.pids().isPresent()) {
            inCgroup = inCgroup.withPids(limits.pids().getAsLong());
        }
        Launch confined = launch;
        if (rlimitMemory.isPresent()) {
            // Hard and soft limit both: the job cannot raise it again.
            confined = confined.withStepInFront(List.of(PRLIMIT, "--as=" + rlimitMemory.getAsLong(), "--"));
        }
        if (cgroups.isEmpty()) {
            return confined == launch ? driver.start(launch) : driver.start(checkedFirst(launch, confined));
        }
        checkedFirst(launch, confined);
        JobCgroup cgroup;
        try {
            cgroup = cgroups.get().create(jobId, inCgroup);
        } catch (CgroupException e) {
            throw SpawnException.exhausted("job cgroups", "cannot make the cgroup of job " + jobId + ": "
                    + e.getMessage());
        }
        try {
            Launch joining = confined.withStepInFront(cgroup.joiningCommand(List.of()));
            return new CgroupProcess(driver.start(joining), cgroup);
        } catch (SpawnException | RuntimeException e) {
            try {
                cgroup.remove(REMOVE_TIMEOUT);
            } catch (CgroupException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    /**
     * {@code stepped} once {@code launch}'s own executable is known to exist and be executable: behind a
     * pre-exec step, a missing command would be the step's exit status 127 instead of the refusal a plain
     * spawn gives ("command not found"). A bare name here was not found on the worker's PATH.
     */
    private static Launch checkedFirst(Launch launch, Launch stepped) throws SpawnException {
        String executable = launch.executable();
        String quoted = ProcessSpawner.quoted(launch.argv().getFirst());
        int errno;
        if (!executable.contains("/")) {
            // Not found on the worker's PATH (JobShaper resolves those it finds); glibc refuses a name
            // longer than NAME_MAX before searching.
            errno = executable.getBytes(StandardCharsets.UTF_8).length > NAME_MAX
                    ? Errno.ENAMETOOLONG.number() : Errno.ENOENT.number();
        } else {
            String file = executable.startsWith("/") ? executable : launch.cwd() + "/" + executable;
            errno = Posix.executeAccess(file);
            if (errno == 0 && Files.isDirectory(Path.of(file))) {
                errno = Errno.EACCES.number(); // a folder passes X_OK (it may be entered) but cannot be exec'd
            }
        }
        if (errno == Errno.ENOENT.number()) {
            throw SpawnException.command("command not found: " + quoted + " (ENOENT)");
        }
        if (errno != 0) {
            throw SpawnException.of("cannot start " + quoted, errno);
        }
        return stepped;
    }

    private static final int NAME_MAX = 255;

    /** Removes the worker's parent cgroups once every job has ended. */
    @Override
    public void close() {
        cgroups.ifPresent(c -> {
            try {
                c.close();
            } catch (CgroupException e) {
                LOG.log(System.Logger.Level.WARNING, "cannot remove the worker's job cgroups: " + e.getMessage());
            }
        });
    }

    /** A process in a job cgroup: a kill reaches every process in it, setsid descendants too. */
    private static final class CgroupProcess implements ProcessDriver.Started {
        private final ProcessDriver.Started process;
        private final JobCgroup cgroup;

        CgroupProcess(ProcessDriver.Started process, JobCgroup cgroup) {
            this.process = process;
            this.cgroup = cgroup;
        }

        @Override
        public int pgid() {
            return process.pgid();
        }

        @Override
        public long startTicks() {
            return process.startTicks();
        }

        @Override
        public void watch(ProcessDriver.Listener listener) {
            process.watch(listener);
        }

        @Override
        public void signal(ProcessDriver.Signal signal) {
            process.signal(signal);
            if (signal == ProcessDriver.Signal.KILL) {
                try {
                    cgroup.kill();
                } catch (CgroupException e) {
                    LOG.log(System.Logger.Level.WARNING, "cannot kill the cgroup of job " + cgroup.jobId() + ": "
                            + e.getMessage());
                }
            }
        }

        @Override
        public void cutOutput() {
            process.cutOutput();
        }

        @Override
        public void discard() {
            process.discard();
            release();
        }

        @Override
        public Optional<String> outOfMemory() {
            try {
                return cgroup.outOfMemory().map(JobCgroup.OutOfMemory::describe);
            } catch (CgroupException e) {
                LOG.log(System.Logger.Level.WARNING, "cannot read the memory events of job " + cgroup.jobId() + ": "
                        + e.getMessage());
                return Optional.empty();
            }
        }

        @Override
        public void release() {
            try {
                cgroup.remove(REMOVE_TIMEOUT);
            } catch (CgroupException e) {
                LOG.log(System.Logger.Level.WARNING, "cannot remove the cgroup of job " + cgroup.jobId() + ": "
                        + e.getMessage());
            }
        }
    }

    /** For tests: whether jobs get cgroups here. */
    boolean hasCgroups() {
        return cgroups.isPresent();
    }
}
