package io.jobscheduler.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code [auth]}, {@code [audit]} and {@code [http_server] insecure} as the scheduler loads them. */
class AccessSettingsTest {
    @TempDir
    Path dir;

    private SchedulerSettings load(String toml, Map<String, String> env) throws IOException {
        Files.writeString(dir.resolve("config.toml"), toml);
        return SchedulerSettings.from(new ConfigLoader(SchedulerSettings.SCHEMA, env, dir)
                .load(Optional.empty(), SchedulerSettings.FILE_NAME, Map.of()));
    }

    private String failure(String toml) {
        return assertThrows(ConfigException.class, () -> load(toml, Map.of())).getMessage();
    }

    @Test
    void byDefaultThereAreNoTokensNoAuditLogAndNoOverride() throws IOException {
        AccessSettings access = load("", Map.of()).access();
        assertEquals(AccessSettings.OPEN, access);
        assertEquals(100_000_000, access.auditMaxBytes());
    }

    @Test
    void filesResolveBesideTheConfigurationFile() throws IOException {
        Files.writeString(dir.resolve("tokens.toml"), "");
        AccessSettings access = load("""
                [auth]
                tokens_file = "tokens.toml"
                [audit]
                file = "logs/audit.log"
                max_size = "2MiB"
                [http_server]
                insecure = true
                """, Map.of()).access();
        assertEquals(Optional.of(dir.resolve("tokens.toml")), access.tokensFile());
        assertEquals(Optional.of(dir.resolve("logs/audit.log")), access.auditFile());
        assertEquals(2 << 20, access.auditMaxBytes());
        assertTrue(access.httpInsecure());
    }

    @Test
    void theEnvironmentSetsThemToo() throws IOException {
        Files.writeString(dir.resolve("t.toml"), "");
        AccessSettings access = load("", Map.of("JOBSCHEDULER_AUTH_TOKENS_FILE", "t.toml",
                "JOBSCHEDULER_HTTP_SERVER_INSECURE", "false", "JOBSCHEDULER_AUDIT_MAX_SIZE", "5000B")).access();
        assertEquals(Optional.of(dir.resolve("t.toml")), access.tokensFile());
        assertFalse(access.httpInsecure());
        assertEquals(5000, access.auditMaxBytes());
    }

    @Test
    void aTokensFileThatCannotBeReadStopsStartUpNamingTheKey() {
        assertEquals("auth.tokens_file: cannot read " + dir.resolve("missing.toml"),
                failure("[auth]\ntokens_file = \"missing.toml\"\n"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "100 MB | audit.max_size: '100 MB' is not a size like \"100MB\", \"512KB\" or \"1GiB\"",
            "100mb  | audit.max_size: '100mb' is not a size like \"100MB\", \"512KB\" or \"1GiB\"",
            "1KB    | audit.max_size: must be at least 4096B, was 1KB",
            "999999999999999GB | audit.max_size: long overflow"})
    void aMaxSizeThatIsNoSizeStopsStartUp(String size, String message) {
        assertEquals(message, failure("[audit]\nmax_size = \"" + size + "\"\n"));
    }

    @Test
    void anUnknownKeyOfTheNewSectionsIsRefused() {
        assertTrue(failure("[auth]\ntoken = \"jst_x\"\n").endsWith("unknown key auth.token"));
    }
}
