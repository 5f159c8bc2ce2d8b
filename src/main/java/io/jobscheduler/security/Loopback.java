package io.jobscheduler.security;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Whether a socket's host is reachable only from this machine: {@code 127.0.0.0/8} or {@code ::1}.
 * The wildcards {@code 0.0.0.0} and {@code ::} listen on every interface, so they are not; a
 * name is loopback only when every address it resolves to is.
 */
public final class Loopback {
    private Loopback() {
    }

    public static boolean is(String host) {
        InetAddress[] addresses;
        try {
            addresses = InetAddress.getAllByName(host);
        } catch (UnknownHostException e) {
            return false;
        }
        for (InetAddress address : addresses) {
            // isLoopbackAddress is 127/8 and ::1; an IPv4-mapped ::ffff:127.x arrives as Inet4Address.
            if (!address.isLoopbackAddress()) {
                return false;
            }
        }
        return addresses.length > 0;
    }
}
