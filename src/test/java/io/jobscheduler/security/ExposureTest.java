package io.jobscheduler.security;

import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Which hosts are loopback, and what the override says; the start-up refusals themselves are {@code ExposureIT}. */
class ExposureTest {
    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "127.255.3.4", "::1", "[::1]", "localhost"})
    void loopbackIsAll127SlashEightAndColonColonOne(String host) {
        assertThat(Exposure.loopback(host), is(true));
    }

    @ParameterizedTest
    @ValueSource(strings = {"0.0.0.0", "::", "[::]", "10.1.2.3", "128.0.0.1", "::2", "no-such-host.invalid"})
    void wildcardsAndEveryOtherAddressAreNot(String host) {
        assertThat(Exposure.loopback(host), is(false));
    }

    @Test
    void onLoopbackNothingIsRequiredAndNothingSaid() {
        assertThat(new Exposure("grpc_server.addr", "127.0.0.1", "x").check(false, true, false), is(Optional.empty()));
    }

    @Test
    void offLoopbackMutualTlsAndRunAsAreRequiredUnlessInsecure() {
        Exposure socket = new Exposure("grpc_server.addr", "10.1.2.3", "start jobs");
        assertThat(socket.check(true, false, false), is(Optional.empty()));
        Exposure.UnsafeException both = assertThrows(Exposure.UnsafeException.class, () -> socket.check(false, true, false));
        assertThat(both.getMessage(), is("grpc_server.addr 10.1.2.3 is not a loopback address and the socket has no"
                + " mutual TLS and would run every job as root: set grpc_server.use_tls, crt_file, key_file and"
                + " client_ca_file; set jobs.run_as to the user jobs run as (or grpc_server.insecure = true to start anyway)"));
        assertThat(socket.check(false, true, true), is(Optional.of("grpc_server.insecure = true: grpc_server.addr"
                + " 10.1.2.3 is open off loopback: anyone who reaches it can start jobs; jobs run as root")));
    }
}
