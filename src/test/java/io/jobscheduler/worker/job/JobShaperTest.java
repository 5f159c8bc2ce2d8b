package io.jobscheduler.worker.job;

import io.jobscheduler.config.JobRules;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What {@link JobShaper} makes of a request, before anything runs: timeouts, environment, paths, pre-exec steps. */
class JobShaperTest {
    @TempDir
    Path work;

    private static final Map<String, String> WORKER_ENV = Map.of("PATH", "/usr/bin:/bin", "LANG", "C.UTF-8",
            "TZ", "Europe/Oslo", "SECRET", "x");

    private JobShaper shaper(JobRules rules) throws Exception {
        return JobShaper.of(work, rules, WORKER_ENV);
    }

    private static JobRules timeouts(Optional<Duration> byDefault, Optional<Duration> max) {
        return new JobRules(List.of(), byDefault, max, List.of(), false, Optional.empty(), List.of(), false);
    }

    private static JobRequest withTimeout(Optional<Duration> timeout) {
        return new JobRequest("true", "", List.of(), Map.of(), timeout, Optional.empty());
    }

    @Test
    void theDefaultTimeoutAppliesWhenAStartNamesNone() throws Exception {
        JobShaper shaper = shaper(timeouts(Optional.of(Duration.ofSeconds(30)), Optional.of(Duration.ofMinutes(1))));
        assertEquals(Optional.of(Duration.ofSeconds(30)), shaper.plan(withTimeout(Optional.empty())).timeout());
        assertEquals(Optional.of(Duration.ofSeconds(45)),
                shaper.plan(withTimeout(Optional.of(Duration.ofSeconds(45)))).timeout());
        assertEquals(Optional.of(Duration.ofMinutes(1)),
                shaper.plan(withTimeout(Optional.of(Duration.ofMinutes(1)))).timeout(), "max_timeout itself is fine");
        var e = assertThrows(StartRefusedException.class,
                () -> shaper.plan(withTimeout(Optional.of(Duration.ofMillis(60_001)))));
        assertEquals(StartRefusedException.Reason.UNACCEPTABLE, e.reason());
        assertEquals("timeout: 60001ms is longer than this worker's max_timeout of 1m", e.getMessage());
        assertEquals(Optional.empty(), shaper(JobRules.OPEN).plan(withTimeout(Optional.empty())).timeout(),
                "no timeout unless set");
    }

    @Test
    void aDurationIsWrittenInItsLargestWholeUnit() {
        assertEquals("1500ms", JobShaper.text(Duration.ofMillis(1500)));
        assertEquals("30s", JobShaper.text(Duration.ofSeconds(30)));
        assertEquals("90s", JobShaper.text(Duration.ofSeconds(90)));
        assertEquals("2m", JobShaper.text(Duration.ofMinutes(2)));
        assertEquals("1h", JobShaper.text(Duration.ofHours(1)));
    }

    @Test
    void theEnvironmentIsTheCleanSetWithTheRequestsVariablesLast() throws Exception {
        JobRequest request = new JobRequest("true", "", List.of(), Map.of("PATH", "/opt/bin"), Optional.empty(),
                Optional.empty());
        Launch launch = shaper(JobRules.OPEN).plan(request).launch("job-1", "worker-1", work);
        assertEquals(List.of("PATH=/opt/bin", "HOME=" + System.getProperty("user.home"),
                "USER=" + System.getProperty("user.name"), "LANG=C.UTF-8", "TZ=Europe/Oslo",
                "JOBSCHEDULER_JOB_ID=job-1", "JOBSCHEDULER_WORKER_ID=worker-1"), launch.env());
    }

    @Test
    void aBareCommandFoundOnPathIsExecByThatFileAndKeepsItsNameAsArgvZero() throws Exception {
        Launch launch = shaper(JobRules.OPEN).plan(JobRequest.of("sh", "x.sh")).launch("j", "w", work);
        assertTrue(launch.executable().endsWith("/sh") && launch.executable().startsWith("/"), launch.executable());
        assertEquals(List.of("sh", "x.sh"), launch.argv());
        assertEquals("no-such-command-xyz",
                shaper(JobRules.OPEN).plan(JobRequest.of("no-such-command-xyz", "")).executable(),
                "one not found is left to the spawn, which names it");
    }

    @Test
    void anIsolatedJobGetsWorkDirsFilesAbsolute() throws Exception {
        JobRules isolated = new JobRules(List.of(), Optional.empty(), Optional.empty(), List.of(), false,
                Optional.empty(), List.of(), true);
        Path real = work.toRealPath();
        JobShaper.Plan plan = shaper(isolated).plan(JobRequest.of("./run.sh", "scripts/count.sh"));
        assertEquals(real.resolve("run.sh").toString(), real.resolve(plan.executable()).normalize().toString());
        assertEquals(List.of("./run.sh", real.resolve("scripts/count.sh").toString()), plan.argv());
        assertTrue(plan.isolated());
    }

    @Test
    void stepsNestTheLastAddedRunningFirst() {
        Launch job = new Launch("/usr/bin/id", List.of("id", "-u"), List.of("A=1"), work);
        Launch asUser = job.withStepInFront(List.of("/usr/bin/setpriv", "--reuid=7", "--"));
        Launch joined = asUser.withStepInFront(List.of("/bin/sh", "-c", "echo $$ > procs && exec \"$@\"", "sh"));
        assertEquals("/bin/sh", joined.executable());
        assertEquals(List.of("/bin/sh", "-c", "echo $$ > procs && exec \"$@\"", "sh", "/usr/bin/setpriv", "--reuid=7",
                "--", "/usr/bin/id", "-u"), joined.argv());
        assertEquals(job.env(), joined.env());
    }

    @Test
    void aRunAsUserNeedsRootAndALookUpAtStartUp() throws Exception {
        if (UserAccount.effectiveUid() != 0) {
            System.err.println("SKIPPED: the run-as plan needs a worker running as root");
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(UserAccount.effectiveUid() == 0, "runs as root");
        JobRules runAs = new JobRules(List.of(), Optional.empty(), Optional.empty(), List.of(), false,
                Optional.of("nobody"), List.of(), false);
        Launch launch = shaper(runAs).plan(JobRequest.of("id", "")).launch("j", "w", work);
        assertEquals(JobShaper.SETPRIV, launch.executable());
        assertEquals(List.of(JobShaper.SETPRIV, "--reuid=65534", "--regid=65534", "--init-groups", "--"),
                launch.argv().subList(0, 5));
        assertTrue(launch.env().contains("USER=nobody"), launch.env().toString());
        JobRules unknown = new JobRules(List.of(), Optional.empty(), Optional.empty(), List.of(), false,
                Optional.of("no-such-user-xyz"), List.of(), false);
        var e = assertThrows(io.jobscheduler.config.ConfigException.class, () -> shaper(unknown));
        assertEquals("jobs.run_as: no user 'no-such-user-xyz' on this machine", e.getMessage());
    }
}
