package io.jobscheduler.security;

import io.jobscheduler.config.Address;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Which sockets are loopback, and what the override says; the start-up refusals themselves are {@code ExposureIT}. */
class ExposureTest {
    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1:1", "127.255.3.4:1", "[::1]:1"})
    void loopbackIsAll127SlashEightAndColonColonOne(String address) {
        assertThat(Address.parse(address, true).isLoopback(), is(true));
    }

    @ParameterizedTest
    @ValueSource(strings = {"0.0.0.0:1", "[::]:1", "10.1.2.3:1", "128.0.0.1:1", "[::2]:1", "localhost:1"})
    void wildcardsEveryOtherAddressAndNamesAreNot(String address) {
        assertThat(Address.parse(address, true).isLoopback(), is(false));
    }

    @Test
    void onLoopbackNothingIsRequiredAndNothingSaid() {
        assertThat(new Exposure("grpc_server.addr", Address.parse("127.0.0.1:1", true), "x").check(false, true, false),
                is(Optional.empty()));
    }

    @Test
    void offLoopbackMutualTlsAndRunAsAreRequiredUnlessInsecure() {
        Exposure socket = new Exposure("grpc_server.addr", Address.parse("10.1.2.3:1", true), "start jobs");
        assertThat(socket.check(true, false, false), is(Optional.empty()));
        Exposure.UnsafeException both = assertThrows(Exposure.UnsafeException.class, () -> socket.check(false, true, false));
        assertThat(both.getMessage(), is("grpc_server.addr 10.1.2.3 is not a loopback address and the socket has no"
                + " mutual TLS and would run every job as root: set grpc_server.use_tls, crt_file, key_file and"
                + " client_ca_file; set jobs.run_as to the user jobs run as (or grpc_server.insecure = true to start anyway)"));
        assertThat(socket.check(false, true, true), is(Optional.of("grpc_server.insecure = true: grpc_server.addr"
                + " 10.1.2.3 is open off loopback: anyone who reaches it can start jobs; jobs run as root")));
    }
}
