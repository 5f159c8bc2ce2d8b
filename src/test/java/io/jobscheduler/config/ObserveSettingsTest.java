package io.jobscheduler.config;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** {@code [observe]} of worker.toml: off by default, loopback only unless {@code insecure}. */
class ObserveSettingsTest {
    @TempDir
    Path dir;

    private ObserveSettings load(Map<String, String> env) {
        return ObserveSettings.from(new ConfigLoader(WorkerSettings.SCHEMA, env, dir).loadWithoutFile(Map.of()));
    }

    @Test
    void theMetricsSocketIsOffByDefault() {
        assertEquals(Optional.empty(), load(Map.of()).address());
    }

    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1:9464", "127.1.2.3:0", "[::1]:9464"})
    void aLoopbackAddressIsServed(String address) {
        assertEquals(Optional.of(Address.parse(address, true)), load(Map.of("JOBSCHEDULER_OBSERVE_ADDR", address)).address());
    }

    @ParameterizedTest
    @ValueSource(strings = {"0.0.0.0:9464", "10.0.0.7:9464", "[::]:9464", "localhost:9464", "128.0.0.1:9464"})
    void anyOtherAddressIsRefusedNamingTheKeyUnlessInsecure(String address) {
        ConfigException e = assertThrows(ConfigException.class, () -> load(Map.of("JOBSCHEDULER_OBSERVE_ADDR", address)));
        assertThat(e.getMessage(), containsString("observe.addr"));
        assertThat(e.getMessage(), containsString("observe.insecure"));

        assertEquals(Optional.of(Address.parse(address, true)), load(Map.of("JOBSCHEDULER_OBSERVE_ADDR", address,
                "JOBSCHEDULER_OBSERVE_INSECURE", "true")).address());
    }

    @Test
    void aMalformedAddressStopsStartUpNamingWhereItCameFrom() {
        ConfigException e = assertThrows(ConfigException.class, () -> load(Map.of("JOBSCHEDULER_OBSERVE_ADDR", "nope")));
        assertThat(e.getMessage(), containsString("JOBSCHEDULER_OBSERVE_ADDR: 'nope' is not host:port"));
    }
}
