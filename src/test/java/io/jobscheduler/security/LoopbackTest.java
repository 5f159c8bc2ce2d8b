package io.jobscheduler.security;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class LoopbackTest {
    @ParameterizedTest
    @ValueSource(strings = {"127.0.0.1", "127.0.0.2", "127.255.255.254", "::1", "0:0:0:0:0:0:0:1", "localhost"})
    void loopbackIs127Slash8AndColonColon1(String host) {
        assertTrue(Loopback.is(host), host);
    }

    @ParameterizedTest
    @ValueSource(strings = {"0.0.0.0", "::", "10.0.0.1", "192.168.1.7", "128.0.0.1", "fe80::1", "::ffff:10.0.0.1",
            "no-such-host.invalid"})
    void wildcardsAndEveryOtherAddressAreNot(String host) {
        assertFalse(Loopback.is(host), host);
    }
}
