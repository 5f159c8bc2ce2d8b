package io.jobscheduler.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The {@code [jobs]} settings that shape and confine jobs, read from files, the environment and defaults. */
class JobRulesConfigTest {
    @TempDir
    Path dir;

    private JobRules load(String toml, Map<String, String> env) throws IOException {
        Files.writeString(dir.resolve(WorkerSettings.FILE_NAME), toml);
        var loader = new ConfigLoader(WorkerSettings.SCHEMA, env, dir);
        return WorkerSettings.from(loader.load(Optional.empty(), WorkerSettings.FILE_NAME, Map.of()), dir).jobRules();
    }

    private String refusal(String toml) {
        return assertThrows(ConfigException.class, () -> load(toml, Map.of())).getMessage();
    }

    @Test
    void byDefaultNothingIsShapedOrConfined() throws IOException {
        assertEquals(JobRules.OPEN, load("", Map.of()));
    }

    @Test
    void everyKeyIsRead() throws IOException {
        JobRules rules = load("""
                [jobs]
                pass_env = ["HTTP_PROXY", "LC_ALL"]
                default_timeout = "30s"
                max_timeout = "1h"
                allowed_commands = ["bash", "/opt/tools/report"]
                confine = true
                run_as = "jobs"
                allowed_users = ["jobs", "reports"]
                job_dir = "isolated"
                """, Map.of());
        assertEquals(new JobRules(List.of("HTTP_PROXY", "LC_ALL"), Optional.of(Duration.ofSeconds(30)),
                Optional.of(Duration.ofHours(1)), List.of("bash", "/opt/tools/report"), true, Optional.of("jobs"),
                List.of("jobs", "reports"), true), rules);
    }

    @Test
    void aListInTheEnvironmentIsCommaSeparated() throws IOException {
        assertEquals(List.of("bash", "python3"),
                load("", Map.of("JOBSCHEDULER_JOBS_ALLOWED_COMMANDS", "bash,python3")).allowedCommands());
        assertThrows(ConfigException.class, () -> load("", Map.of("JOBSCHEDULER_JOBS_PASS_ENV", "A,,B")));
    }

    @Test
    void badValuesStopStartUpNamingTheKey() {
        assertEquals(dir.resolve("worker.toml") + ": jobs.pass_env: expected an array of strings, found the string \"HOME\"",
                refusal("[jobs]\npass_env = \"HOME\"\n"));
        assertEquals(dir.resolve("worker.toml") + ": jobs.pass_env: expected an array of strings, found the integer 1 in it",
                refusal("[jobs]\npass_env = [1]\n"));
        assertEquals("jobs.pass_env: 'NOT-A-NAME' is not a variable name", refusal("[jobs]\npass_env = [\"NOT-A-NAME\"]\n"));
        assertEquals("jobs.allowed_commands: 'bin/tool' must be a command name or an absolute path",
                refusal("[jobs]\nallowed_commands = [\"bin/tool\"]\n"));
        assertEquals("jobs.job_dir: expected \"shared\" or \"isolated\", found \"private\"",
                refusal("[jobs]\njob_dir = \"private\"\n"));
        assertEquals("jobs.default_timeout: 2h is longer than jobs.max_timeout 1h",
                refusal("[jobs]\ndefault_timeout = \"2h\"\nmax_timeout = \"1h\"\n"));
        assertEquals("jobs.max_timeout: must be more than 0", refusal("[jobs]\nmax_timeout = \"0s\"\n"));
    }

    @Test
    void theExampleWorkerTomlConfinesJobs() throws IOException {
        Files.copy(Path.of("worker.toml"), dir.resolve(WorkerSettings.FILE_NAME));
        var loader = new ConfigLoader(WorkerSettings.SCHEMA, Map.of(), dir);
        JobRules rules = WorkerSettings.from(loader.load(Optional.empty(), WorkerSettings.FILE_NAME, Map.of()), dir)
                .jobRules();
        assertEquals(new JobRules(List.of(), Optional.empty(), Optional.empty(), List.of(), true, Optional.empty(),
                List.of(), false), rules);
    }
}
