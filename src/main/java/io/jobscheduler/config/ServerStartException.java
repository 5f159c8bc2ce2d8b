package io.jobscheduler.config;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.Locale;
import java.util.Optional;

/**
 * A server (the scheduler or a worker) could not start serving; the message is one line naming
 * the setting and the cause, and {@link #setting()} is the listener setting that could not be
 * bound, if that was the cause (the command line names its flag).
 */
public final class ServerStartException extends RuntimeException {
    private final String setting;

    public ServerStartException(String message, Throwable cause) {
        this(message, null, cause);
    }

    private ServerStartException(String message, String setting, Throwable cause) {
        super(message, cause);
        this.setting = setting;
    }

    /** {@code setting} ({@code grpc_server.addr}…) at {@code address} cannot be bound, for {@code reason}. */
    public static ServerStartException bindFailure(String setting, Address address, String reason, Throwable cause) {
        return new ServerStartException("cannot bind " + setting + " " + address + ": " + reason, setting, cause);
    }

    /** The listener setting whose address could not be bound, when that stopped the start. */
    public Optional<String> setting() {
        return Optional.ofNullable(setting);
    }

    /**
     * Why {@code address} cannot be bound right now, if it cannot: Helidon reports only that a
     * listener failed, so binding the address once more ourselves tells which one, and why.
     */
    public static Optional<String> bindError(Address address) {
        try (ServerSocket probe = new ServerSocket()) {
            probe.bind(new InetSocketAddress(address.host(), address.port()));
            return Optional.empty();
        } catch (IOException probeFailure) {
            String message = probeFailure.getMessage();
            return Optional.of(message == null ? probeFailure.getClass().getSimpleName()
                    : message.toLowerCase(Locale.ROOT).replace("already in use", "in use"));
        }
    }
}
