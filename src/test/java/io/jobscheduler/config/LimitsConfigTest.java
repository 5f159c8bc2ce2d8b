package io.jobscheduler.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code [jobs.default_limits]} and {@code [jobs.max_limits]}, and the forms of a limit's value. */
class LimitsConfigTest {
    @TempDir
    Path dir;

    private JobRules load(String toml, Map<String, String> env) throws IOException {
        Files.writeString(dir.resolve(WorkerSettings.FILE_NAME), toml);
        var loader = new ConfigLoader(WorkerSettings.SCHEMA, env, dir);
        return WorkerSettings.from(loader.load(Optional.empty(), WorkerSettings.FILE_NAME, Map.of()), dir).jobRules();
    }

    @Test
    void bothTablesAreRead() throws IOException {
        JobRules rules = load("""
                [jobs.default_limits]
                memory = "256M"
                cpu = 0.5
                [jobs.max_limits]
                memory = "2G"
                cpu = 2
                pids = 100
                output = 1048576
                """, Map.of());
        assertEquals(new Limits(OptionalLong.of(256L << 20), OptionalLong.of(500), OptionalLong.empty(),
                OptionalLong.empty()), rules.defaultLimits());
        assertEquals(new Limits(OptionalLong.of(2L << 30), OptionalLong.of(2000), OptionalLong.of(100),
                OptionalLong.of(1 << 20)), rules.maxLimits());
    }

    @Test
    void theEnvironmentSetsALimitByItsDottedName() throws IOException {
        JobRules rules = load("", Map.of("JOBSCHEDULER_JOBS_MAX_LIMITS_OUTPUT", "10K",
                "JOBSCHEDULER_JOBS_DEFAULT_LIMITS_CPU", "1.25"));
        assertEquals(OptionalLong.of(10240), rules.maxLimits().outputBytes());
        assertEquals(OptionalLong.of(1250), rules.defaultLimits().cpuMillis());
        assertEquals(Limits.NONE, load("", Map.of()).defaultLimits());
    }

    @Test
    void badValuesAndUnknownKeysStopStartUpNamingTheKey() {
        String size = assertThrows(ConfigException.class, () -> load("[jobs.max_limits]\nmemory = \"256X\"\n",
                Map.of())).getMessage();
        assertTrue(size.endsWith("jobs.max_limits.memory: '256X' is not a size like \"256M\" (K, M, G: powers of"
                + " 1024) or a number of bytes"), size);
        String cpu = assertThrows(ConfigException.class, () -> load("[jobs.max_limits]\ncpu = \"half\"\n",
                Map.of())).getMessage();
        assertTrue(cpu.contains("jobs.max_limits.cpu: expected a number of cores like 0.5"), cpu);
        String unknown = assertThrows(ConfigException.class, () -> load("[jobs.max_limits]\ndisk = \"1G\"\n",
                Map.of())).getMessage();
        assertTrue(unknown.endsWith("unknown key jobs.max_limits.disk"), unknown);
        String above = assertThrows(ConfigException.class, () -> load("""
                [jobs.default_limits]
                pids = 50
                [jobs.max_limits]
                pids = 10
                """, Map.of())).getMessage();
        assertEquals("jobs.default_limits.pids: 50 is more than the maximum of 10 in jobs.max_limits", above);
    }

    @Test
    void sizesAreBinaryAndCoresThousandths() {
        assertEquals(256L << 20, Limits.parseBytes("256M"));
        assertEquals(1L << 30, Limits.parseBytes("1G"));
        assertEquals(512L << 10, Limits.parseBytes("512K"));
        assertEquals(1000, Limits.parseBytes("1000"));
        for (String bad : new String[] {"", "0", "0M", "1.5G", "256m", "256MB", "-1", "99999999999999999999G"}) {
            assertThrows(IllegalArgumentException.class, () -> Limits.parseBytes(bad), bad);
        }
        assertEquals(500, Limits.parseCpuMillis("0.5"));
        assertEquals(1, Limits.parseCpuMillis("0.001"));
        assertEquals(2000, Limits.cpuMillis(2));
        for (String bad : new String[] {"0", "0.0004", "-1", "1e3", "half"}) {
            assertThrows(IllegalArgumentException.class, () -> Limits.parseCpuMillis(bad), bad);
        }
        assertEquals("256 MiB", Limits.describe("memory", 256L << 20));
        assertEquals("0.5 cores", Limits.describe("cpu", 500));
    }
}
