package io.jobscheduler.security;

import io.jobscheduler.config.Address;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The safe defaults of a gRPC socket: on loopback ({@link Address#isLoopback}: an IP in
 * 127.0.0.0/8 or ::1; not the wildcards, not a name) anything goes, as {@code dev} needs; off loopback the socket needs mutual TLS, and a
 * worker running as root needs {@code jobs.run_as}, unless {@code [grpc_server] insecure = true},
 * which starts anyway and says, in one line, what is exposed.
 *
 * @param socketKey   the config key of the socket, as messages name it ({@code grpc_server.addr})
 * @param socket      the address it binds
 * @param exposed     what anyone who reaches a socket without mutual TLS can do
 */
public record Exposure(String socketKey, Address socket, String exposed) {

    /** Thrown when a socket may not start as configured; the message says how to fix it. */
    public static final class UnsafeException extends RuntimeException {
        UnsafeException(String message) {
            super(message);
        }
    }

    /**
     * Checks the socket. Answers the one line to log when {@code insecure} let an unsafe choice
     * through; empty when nothing is exposed.
     *
     * @param mutualTls  whether the socket requires a client certificate from the cluster's CA
     * @param rootWithoutRunAs whether jobs would run as root (a worker as root with no {@code jobs.run_as})
     * @throws UnsafeException when unsafe and not {@code insecure}
     */
    public Optional<String> check(boolean mutualTls, boolean rootWithoutRunAs, boolean insecure) {
        if (socket.isLoopback()) {
            return Optional.empty();
        }
        List<String> problems = new ArrayList<>();
        List<String> fixes = new ArrayList<>();
        if (!mutualTls) {
            problems.add("has no mutual TLS");
            fixes.add("set grpc_server.use_tls, crt_file, key_file and client_ca_file");
        }
        if (rootWithoutRunAs) {
            problems.add("would run every job as root");
            fixes.add("set jobs.run_as to the user jobs run as");
        }
        if (problems.isEmpty()) {
            return Optional.empty();
        }
        if (!insecure) {
            throw new UnsafeException(socketKey + " " + socket.host() + " is not a loopback address and the socket "
                    + String.join(" and ", problems) + ": " + String.join("; ", fixes)
                    + " (or grpc_server.insecure = true to start anyway)");
        }
        List<String> exposures = new ArrayList<>();
        if (!mutualTls) {
            exposures.add("anyone who reaches it can " + exposed);
        }
        if (rootWithoutRunAs) {
            exposures.add("jobs run as root");
        }
        return Optional.of("grpc_server.insecure = true: " + socketKey + " " + socket.host() + " is open off loopback: "
                + String.join("; ", exposures));
    }

    /**
     * Whether this process runs as root: the owner of {@code /proc/self} is its effective user.
     * Fails closed: when that cannot be read, the worker does not guess "not root" (which would let
     * a root worker off loopback run every job as root unasked).
     *
     * @throws UnsafeException when the effective user cannot be told
     */
    public static boolean runningAsRoot() {
        try {
            return Integer.valueOf(0).equals(Files.getAttribute(Path.of("/proc/self"), "unix:uid"));
        } catch (IOException | UnsupportedOperationException e) {
            throw new UnsafeException("cannot tell whether this worker runs as root (/proc/self: " + e.getMessage()
                    + "): set jobs.run_as (or grpc_server.insecure = true to start anyway)");
        }
    }
}
