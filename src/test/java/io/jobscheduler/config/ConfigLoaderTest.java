package io.jobscheduler.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertThrows;

class ConfigLoaderTest {
    @TempDir
    Path dir;

    private SchedulerSettings scheduler(Map<String, String> env, Map<String, String> flags, Optional<Path> file) {
        var config = new ConfigLoader(SchedulerSettings.SCHEMA, env, dir).load(file, SchedulerSettings.FILE_NAME, flags);
        return SchedulerSettings.from(config);
    }

    private Path write(String name, String toml) throws IOException {
        return Files.writeString(dir.resolve(name), toml);
    }

    private String failure(String toml) throws IOException {
        write("config.toml", toml);
        return assertThrows(ConfigException.class, () -> scheduler(Map.of(), Map.of(), Optional.empty())).getMessage();
    }

    @Test
    void withoutAFileTheSchedulerRunsOnTheDocumentedDefaults() {
        SchedulerSettings settings = scheduler(Map.of(), Map.of(), Optional.empty());
        assertThat(settings.httpAddress(), is(new Address("127.0.0.1", 3000)));
        assertThat(settings.grpcAddress(), is(new Address("127.0.0.1", 50000)));
        assertThat(settings.grpcTls().isPresent(), is(false));
        assertThat(settings.workerTtl(), is(Duration.ofSeconds(5)));
    }

    @Test
    void theRepositoryConfigFileLoadsAsDocumented() throws IOException {
        Files.copy(Path.of("config.toml"), dir.resolve("config.toml"));
        SchedulerSettings settings = scheduler(Map.of(), Map.of(), Optional.empty());
        assertThat(settings.httpAddress().toString(), is("127.0.0.1:3000"));
        assertThat(settings.grpcAddress().toString(), is("127.0.0.1:50000"));
    }

    @Test
    void environmentOverridesTheFileAndFlagsOverrideTheEnvironment() throws IOException {
        write("config.toml", "[http_server]\naddr = \"127.0.0.1:4000\"\n[grpc_server]\naddr = \"127.0.0.1:4001\"\n");
        SchedulerSettings fromFile = scheduler(Map.of(), Map.of(), Optional.empty());
        assertThat(fromFile.httpAddress().port(), is(4000));

        var env = Map.of("JOBSCHEDULER_HTTP_SERVER_ADDR", "127.0.0.1:5000", "JOBSCHEDULER_GRPC_SERVER_ADDR", "127.0.0.1:5001");
        SchedulerSettings fromEnv = scheduler(env, Map.of(), Optional.empty());
        assertThat(fromEnv.httpAddress().port(), is(5000));

        SchedulerSettings fromFlags = scheduler(env, Map.of("http_server.addr", "127.0.0.1:6000"), Optional.empty());
        assertThat(fromFlags.httpAddress().port(), is(6000));
        assertThat(fromFlags.grpcAddress().port(), is(5001));
    }

    @Test
    void anUnknownKeyStopsStartUpNamingTheKey() throws IOException {
        assertThat(failure("[http_server]\naddr = \"127.0.0.1:3000\"\nport = 3\n"), containsString("unknown key http_server.port"));
    }

    @Test
    void anUnknownSectionStopsStartUpNamingTheSection() throws IOException {
        assertThat(failure("[htp_server]\naddr = \"127.0.0.1:3000\"\n"), containsString("unknown section [htp_server]"));
    }

    @Test
    void aKnownSectionThatIsNotATableIsNamed() throws IOException {
        assertThat(failure("[[workers]]\nttl = \"5s\"\n"), containsString("[workers] must be a table, found an array"));
        assertThat(failure("jobs = 5\n"), containsString("[jobs] must be a table, found the integer 5"));
    }

    @Test
    void aWrongTypeStopsStartUpNamingTheKeyAndBothTypes() throws IOException {
        String message = failure("[grpc_server]\nuse_tls = \"yes\"\n");
        assertThat(message, containsString("grpc_server.use_tls"));
        assertThat(message, containsString("expected a boolean, found the string \"yes\""));
        assertThat(failure("[http_server]\naddr = 3000\n"), containsString("http_server.addr: expected a \"host:port\" string, found the integer 3000"));
    }

    @Test
    void aMalformedAddressStopsStartUpNamingTheKey() throws IOException {
        assertThat(failure("[http_server]\naddr = \"localhost\"\n"), containsString("http_server.addr: 'localhost' is not host:port"));
        assertThat(failure("[grpc_server]\naddr = \"127.0.0.1:70000\"\n"), containsString("grpc_server.addr"));
        assertThat(failure("[grpc_server]\naddr = \"127.0.0.1:-1\"\n"), containsString("grpc_server.addr"));
    }

    @Test
    void aMalformedAddressInTheEnvironmentNamesTheVariable() {
        var error = assertThrows(ConfigException.class,
                () -> scheduler(Map.of("JOBSCHEDULER_HTTP_SERVER_ADDR", "nope"), Map.of(), Optional.empty()));
        assertThat(error.getMessage(), containsString("JOBSCHEDULER_HTTP_SERVER_ADDR: 'nope' is not host:port"));
    }

    @Test
    void aMalformedFlagNamesTheFlag() {
        var error = assertThrows(ConfigException.class,
                () -> scheduler(Map.of(), Map.of("grpc_server.addr", "1.2.3.4"), Optional.empty()));
        assertThat(error.getMessage(), containsString("--grpc-addr: '1.2.3.4' is not host:port"));
    }

    @Test
    void aMissingConfigFileNamedOnTheCommandLineStopsStartUp() {
        var error = assertThrows(ConfigException.class,
                () -> scheduler(Map.of(), Map.of(), Optional.of(Path.of("missing.toml"))));
        assertThat(error.getMessage(), containsString("--config"));
        assertThat(error.getMessage(), containsString("missing.toml does not exist"));
    }

    @Test
    void aTomlSyntaxErrorNamesTheLine() throws IOException {
        assertThat(failure("[http_server]\naddr = \n"), containsString("config.toml:2:"));
    }

    @Test
    void anUnreadableTlsFileStopsStartUpOnlyWhenTlsIsOn() throws IOException {
        String toml = "[grpc_server]\nuse_tls = %s\ncrt_file = \"missing.pem\"\nkey_file = \"missing.key\"\n";
        write("config.toml", toml.formatted("false"));
        assertThat(scheduler(Map.of(), Map.of(), Optional.empty()).grpcTls().isPresent(), is(false));
        assertThat(failure(toml.formatted("true")), containsString("grpc_server.crt_file: cannot read"));
    }

    @Test
    void tlsFilesResolveAgainstTheConfigFilesFolder() throws IOException {
        Path sub = Files.createDirectories(dir.resolve("etc"));
        Files.writeString(sub.resolve("server.pem"), "pem");
        Files.writeString(sub.resolve("server.key"), "key");
        Path file = Files.writeString(sub.resolve("scheduler.toml"), "[grpc_server]\nuse_tls = true\n");
        SchedulerSettings settings = scheduler(Map.of(), Map.of(), Optional.of(file));
        assertThat(settings.grpcTls().orElseThrow().certificateFile(), is(sub.resolve("server.pem")));
    }

    @Test
    void aMalformedDurationNamesTheKey() throws IOException {
        assertThat(failure("[workers]\nttl = \"5 seconds\"\n"), containsString("workers.ttl: '5 seconds' is not a duration"));
    }

    @Test
    void theWorkerRefusesAWildcardAddressWithoutAnAdvertisedOne() throws IOException {
        Files.writeString(dir.resolve("worker.toml"), "[grpc_server]\naddr = \"0.0.0.0:30001\"\n");
        var loader = new ConfigLoader(WorkerSettings.SCHEMA, Map.of(), dir);
        var error = assertThrows(ConfigException.class,
                () -> WorkerSettings.from(loader.load(Optional.empty(), WorkerSettings.FILE_NAME, Map.of()), dir));
        assertThat(error.getMessage(), containsString("grpc_server.advertise_addr: required"));

        Files.writeString(dir.resolve("worker.toml"),
                "[grpc_server]\naddr = \"0.0.0.0:30001\"\nadvertise_addr = \"10.0.0.5:30001\"\n");
        WorkerSettings settings = WorkerSettings.from(loader.load(Optional.empty(), WorkerSettings.FILE_NAME, Map.of()), dir);
        assertThat(settings.advertiseAddress().toString(), is("10.0.0.5:30001"));
    }

    @Test
    void theWorkerDefaultsKeepTwoWorkersOnOneHostApart() {
        var loader = new ConfigLoader(WorkerSettings.SCHEMA, Map.of(), dir);
        WorkerSettings a = WorkerSettings.from(loader.load(Optional.empty(), WorkerSettings.FILE_NAME,
                Map.of("grpc_server.addr", "127.0.0.1:30001")), dir);
        WorkerSettings b = WorkerSettings.from(loader.load(Optional.empty(), WorkerSettings.FILE_NAME,
                Map.of("grpc_server.addr", "127.0.0.1:30002")), dir);
        assertThat(a.dataDir(), not(is(b.dataDir())));
        assertThat(a.workDir(), is(dir));
        assertThat(a.schedulerAddress().toString(), is("127.0.0.1:50000"));
    }
}
