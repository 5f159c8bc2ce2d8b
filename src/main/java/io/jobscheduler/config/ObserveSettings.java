package io.jobscheduler.config;

import io.helidon.config.Config;
import java.util.List;
import java.util.Optional;

import static io.jobscheduler.config.ConfigKey.Kind.BOOLEAN;
import static io.jobscheduler.config.ConfigKey.Kind.LISTEN_ADDRESS;

/**
 * A worker's {@code [observe]} section: the HTTP socket its metrics are served on, if any.
 * Off by default. The socket has no authentication, so it must be a loopback address
 * (127.0.0.0/8 or ::1, written as an IP literal) unless {@code insecure = true} says the network
 * it is reachable from is trusted.
 *
 * @param address where {@code /observe/metrics} and {@code /observe/health} are served; empty: nowhere
 */
public record ObserveSettings(Optional<Address> address) {
    public static final ObserveSettings OFF = new ObserveSettings(Optional.empty());

    public static final List<ConfigKey> KEYS = List.of(
            new ConfigKey("observe", "addr", LISTEN_ADDRESS, null),
            new ConfigKey("observe", "insecure", BOOLEAN, "false"));

    public static ObserveSettings from(Config config) {
        Settings observe = Settings.of(config, "observe");
        String text = observe.string("addr");
        if (text.isEmpty()) {
            return OFF;
        }
        Address address = Address.parse(text, true);
        if (!observe.bool("insecure") && !address.isLoopback()) {
            throw new ConfigException("observe.addr: " + address + " is not a loopback address (127.0.0.0/8 or ::1);"
                    + " the metrics socket has no authentication: bind it to 127.0.0.1, or set observe.insecure = true"
                    + " if every host that can reach it may read the worker's metrics");
        }
        return new ObserveSettings(Optional.of(address));
    }
}
