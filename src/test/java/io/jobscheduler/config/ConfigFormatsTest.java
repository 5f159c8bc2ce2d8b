package io.jobscheduler.config;

import io.helidon.config.Config;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** HOCON ({@code .conf}) and JSON ({@code .json}) configuration reads as its TOML equivalent. */
class ConfigFormatsTest {
    @TempDir
    Path dir;

    private Config load(List<ConfigKey> schema, String fileName, String text, Map<String, String> env,
                        Map<String, String> flags) throws IOException {
        Path file = Files.writeString(dir.resolve(fileName), text);
        return new ConfigLoader(schema, env, dir).load(Optional.of(file), "none.toml", flags);
    }

    /** Every key of the schema as the loader resolved it. */
    private Map<String, String> resolved(List<ConfigKey> schema, String fileName, String text) throws IOException {
        Config config = load(schema, fileName, text, Map.of(), Map.of());
        Map<String, String> values = new LinkedHashMap<>();
        schema.forEach(key -> values.put(key.path(), config.get(key.path()).asString().orElse("(unset)")));
        return values;
    }

    private String failure(String fileName, String text) {
        return assertThrows(ConfigException.class,
                () -> load(SchedulerSettings.SCHEMA, fileName, text, Map.of(), Map.of())).getMessage();
    }

    /** One setting of each kind the schemas use, as TOML, HOCON and JSON write it. */
    static Stream<Arguments> oneKeyOfEachKind() {
        return Stream.of(
                Arguments.of("listen address", SchedulerSettings.SCHEMA, "http_server", "addr", "\"0.0.0.0:4000\""),
                Arguments.of("address", WorkerSettings.SCHEMA, "grpc_server", "advertise_addr", "\"10.0.0.5:30001\""),
                Arguments.of("duration", SchedulerSettings.SCHEMA, "workers", "ttl", "\"250ms\""),
                Arguments.of("boolean", SchedulerSettings.SCHEMA, "workers", "use_tls", "true"),
                Arguments.of("integer", SchedulerSettings.SCHEMA, "jobs", "index_size", "42"),
                Arguments.of("path", WorkerSettings.SCHEMA, "jobs", "data_dir", "\"var/data\""),
                Arguments.of("path outside the file's folder", WorkerSettings.SCHEMA, "jobs", "work_dir", "\"/srv/jobs\""));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("oneKeyOfEachKind")
    void hoconAndJsonLoadEveryKindAsTomlDoes(String kind, List<ConfigKey> schema, String section, String name,
                                             String value) throws IOException {
        Map<String, String> toml = resolved(schema, "c.toml", "[" + section + "]\n" + name + " = " + value + "\n");
        Map<String, String> hocon = resolved(schema, "c.conf", section + " {\n  " + name + " = " + value + "\n}\n");
        Map<String, String> hoconPath = resolved(schema, "d.conf", section + "." + name + " = " + value + "\n");
        Map<String, String> json = resolved(schema, "c.json", "{\"" + section + "\": {\"" + name + "\": " + value + "}}");

        assertThat(hocon, is(toml));
        assertThat(hoconPath, is(toml));
        assertThat(json, is(toml));
        assertThat(toml.get(section + "." + name), not(is(resolved(schema, "empty.toml", "").get(section + "." + name))));
    }

    @Test
    void theExampleHoconFileLoadsAsTheExampleTomlFile() throws IOException {
        var fromToml = SchedulerSettings.from(new ConfigLoader(SchedulerSettings.SCHEMA, Map.of(), dir)
                .load(Optional.of(Path.of("config.toml").toAbsolutePath()), "none", Map.of()));
        var fromHocon = SchedulerSettings.from(new ConfigLoader(SchedulerSettings.SCHEMA, Map.of(), dir)
                .load(Optional.of(Path.of("config.conf").toAbsolutePath()), "none", Map.of()));
        assertThat(fromHocon, is(fromToml));
    }

    @ParameterizedTest
    @ValueSource(strings = {"c.conf", "c.json"})
    void anUnknownKeyOrSectionIsNamed(String fileName) {
        assertThat(failure(fileName, "{\"http_server\": {\"port\": 3}}"), containsString("unknown key http_server.port"));
        assertThat(failure(fileName, "{\"htp_server\": {\"addr\": \"127.0.0.1:1\"}}"),
                containsString("unknown section [htp_server]"));
        assertThat(failure(fileName, "{\"addr\": \"127.0.0.1:1\"}"), containsString("unknown key addr"));
        assertThat(failure(fileName, "{\"workers\": [1]}"), containsString("[workers] must be a table, found an array"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"c.conf", "c.json"})
    void aWrongTypeIsNamed(String fileName) {
        assertThat(failure(fileName, "{\"grpc_server\": {\"use_tls\": \"yes\"}}"),
                containsString("grpc_server.use_tls: 'yes' is not true or false"));
        assertThat(failure(fileName, "{\"http_server\": {\"addr\": 3000}}"),
                containsString("http_server.addr: '3000' is not host:port"));
        assertThat(failure(fileName, "{\"jobs\": {\"index_size\": 1.5}}"),
                containsString("jobs.index_size: '1.5' is not an integer"));
        assertThat(failure(fileName, "{\"workers\": {\"ttl\": [1, 2]}}"),
                containsString("workers.ttl: expected a duration string like \"5s\", found an array"));
        assertThat(failure(fileName, "{\"workers\": {\"ttl\": {\"s\": 5}}}"),
                containsString("workers.ttl: expected a duration string like \"5s\", found a table"));
    }

    @Test
    void aTopLevelHelperKeyIsUnknownLikeAnyKeyOutsideTheSchema() {
        assertThat(failure("c.conf", "host = \"127.0.0.1\"\nhttp_server { addr = ${host}\":4100\" }\n"),
                containsString("unknown key host"));
    }

    @Test
    void aSubstitutionOfAnotherKeyOfTheFileResolves() throws IOException {
        var settings = SchedulerSettings.from(load(SchedulerSettings.SCHEMA, "c.conf", """
                workers { ttl = "3s", expiry = ${workers.ttl} }
                http_server { addr = "127.0.0.1:4200", drain_timeout = ${workers.ttl} }
                """, Map.of(), Map.of()));
        assertThat(settings.workerExpiry(), is(Duration.ofSeconds(3)));
        assertThat(settings.drainTimeout(), is(Duration.ofSeconds(3)));
    }

    @Test
    void aSubstitutionOfTheEnvironmentResolves() throws IOException {
        // HOCON falls back to the process's environment; HOME is set for any test run.
        String home = System.getenv("HOME");
        var settings = WorkerSettings.from(load(WorkerSettings.SCHEMA, "w.conf",
                "jobs { work_dir = ${HOME}\"/jobs\" }\n", Map.of(), Map.of()), dir);
        assertThat(settings.workDir(), is(Path.of(home, "jobs")));
    }

    @Test
    void anUnresolvableSubstitutionNamesTheLine() {
        assertThat(failure("c.conf", "workers {\n  ttl = ${nowhere.at.all}\n}\n"), containsString("c.conf:2: "));
    }

    @ParameterizedTest
    @ValueSource(strings = {"c.conf", "c.json"})
    void aSyntaxErrorNamesTheFileAndLine(String fileName) {
        String message = failure(fileName, "{\n\"workers\": {\n\"ttl\": \"5s\",,\n");
        assertThat(message, containsString(fileName + ":3: "));
        assertThat(message, not(containsString("\n")));
    }

    @Test
    void theEnvironmentOverridesAHoconFileAndFlagsOverrideTheEnvironment() throws IOException {
        String hocon = "http_server.addr = \"127.0.0.1:4000\"\ngrpc_server.addr = \"127.0.0.1:4001\"\n";
        var env = Map.of("JOBSCHEDULER_HTTP_SERVER_ADDR", "127.0.0.1:5000", "JOBSCHEDULER_GRPC_SERVER_ADDR", "127.0.0.1:5001");
        var settings = SchedulerSettings.from(load(SchedulerSettings.SCHEMA, "c.conf", hocon, env,
                Map.of("http_server.addr", "127.0.0.1:6000")));
        assertThat(settings.httpAddress().port(), is(6000));
        assertThat(settings.grpcAddress().port(), is(5001));
    }

    @Test
    void anIncludeReadsTheFileBesideIt() throws IOException {
        Files.writeString(dir.resolve("common.conf"), "workers { ttl = \"7s\" }\n");
        var settings = SchedulerSettings.from(load(SchedulerSettings.SCHEMA, "c.conf",
                "include \"common.conf\"\nworkers { expiry = ${workers.ttl} }\n", Map.of(), Map.of()));
        assertThat(settings.workerTtl(), is(Duration.ofSeconds(7)));
        assertThat(settings.workerExpiry(), is(Duration.ofSeconds(7)));
    }

    @Test
    void relativePathsInAHoconFileResolveAgainstItsFolder() throws IOException {
        Path etc = Files.createDirectories(dir.resolve("etc"));
        Files.writeString(etc.resolve("server.pem"), "pem");
        Files.writeString(etc.resolve("server.key"), "key");
        Path file = Files.writeString(etc.resolve("scheduler.conf"), "grpc_server { use_tls = true }\n");
        var settings = SchedulerSettings.from(new ConfigLoader(SchedulerSettings.SCHEMA, Map.of(), dir)
                .load(Optional.of(file), "none", Map.of()));
        assertThat(settings.grpcTls().orElseThrow().certificateFile(), is(etc.resolve("server.pem")));
    }
}
