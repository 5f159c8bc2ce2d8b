package io.jobscheduler.config;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.regex.Pattern;

/** A {@code host:port} pair, as written in configuration and sent at registration. */
public record Address(String host, int port) {
    // host is a name, an IPv4 address or a bracketed IPv6 address; no scheme, no path.
    private static final Pattern HOST = Pattern.compile("[A-Za-z0-9._-]+|\\[[0-9A-Fa-f:.]+]");

    public Address {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port " + port + " is out of range");
        }
    }

    /**
     * Parses {@code host:port}. Port 0 is accepted only when {@code allowAnyPort} (a listener
     * asking for a free port); an advertised or dialled address needs 1–65535.
     */
    public static Address parse(String text, boolean allowAnyPort) {
        int colon = text == null ? -1 : text.lastIndexOf(':');
        if (colon <= 0 || colon == text.length() - 1) {
            throw new IllegalArgumentException("'" + text + "' is not host:port");
        }
        String host = text.substring(0, colon);
        String portText = text.substring(colon + 1);
        if (!HOST.matcher(host).matches() || !portText.chars().allMatch(Character::isDigit)
                || portText.length() > 5) {
            throw new IllegalArgumentException("'" + text + "' is not host:port");
        }
        int port = Integer.parseInt(portText);
        if (port > 65535 || (port == 0 && !allowAnyPort)) {
            throw new IllegalArgumentException("'" + text + "' has port " + port + ", outside 1-65535");
        }
        return new Address(host.startsWith("[") ? host.substring(1, host.length() - 1) : host, port);
    }

    /** True for 0.0.0.0 / :: , which a listener may bind but nobody can dial. */
    public boolean isWildcard() {
        return host.equals("0.0.0.0") || host.equals("::") || host.equals("0:0:0:0:0:0:0:0");
    }

    /**
     * True for an IP literal in 127.0.0.0/8 or ::1 (the wildcards are not loopback). A name is
     * never looked up, nor trusted: it could resolve elsewhere by the time a socket binds it.
     */
    public boolean isLoopback() {
        boolean literal = host.contains(":") ? host.matches("[0-9A-Fa-f:.]+") : host.matches("\\d{1,3}(\\.\\d{1,3}){3}");
        if (!literal) {
            return false;
        }
        try {
            // A literal is parsed, never resolved.
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    @Override
    public String toString() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
