package io.jobscheduler.security;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A sub-command's arguments, parsed as {@code Main} parses its own: {@code --flag value} or
 * {@code --flag=value}; anything not starting with "--" is positional.
 */
final class Arguments {
    private final List<String> positional = new ArrayList<>();
    private final Map<String, List<String>> values = new HashMap<>();

    private Arguments() {
    }

    /** Parses {@code args}; {@code repeatable} flags may appear more than once, the others once. */
    static Arguments parse(List<String> args, Set<String> flags, Set<String> repeatable) {
        Arguments parsed = new Arguments();
        for (int i = 0; i < args.size(); i++) {
            String arg = args.get(i);
            if (!arg.startsWith("--")) {
                parsed.positional.add(arg);
                continue;
            }
            String value = null;
            int equals = arg.indexOf('=');
            if (equals > 0) {
                value = arg.substring(equals + 1);
                arg = arg.substring(0, equals);
            } else if (i + 1 < args.size()) {
                value = args.get(++i);
            }
            if (!flags.contains(arg) && !repeatable.contains(arg)) {
                throw new UsageException("unknown flag " + Names.printable(arg));
            }
            if (value == null) {
                throw new UsageException("missing value for " + arg);
            }
            List<String> list = parsed.values.computeIfAbsent(arg, k -> new ArrayList<>());
            if (!list.isEmpty() && !repeatable.contains(arg)) {
                throw new UsageException(arg + " given twice");
            }
            list.add(value);
        }
        return parsed;
    }

    /** The one positional argument, named {@code what} in the error when it is missing or not alone. */
    String onlyPositional(String what) {
        if (positional.size() != 1) {
            throw new UsageException(positional.isEmpty() ? "missing " + what
                    : "unexpected argument " + Names.printable(positional.get(1)));
        }
        return positional.getFirst();
    }

    void noPositional() {
        if (!positional.isEmpty()) {
            throw new UsageException("unexpected argument " + Names.printable(positional.getFirst()));
        }
    }

    String required(String flag) {
        return optional(flag).orElseThrow(() -> new UsageException("missing " + flag));
    }

    Optional<String> optional(String flag) {
        return all(flag).stream().findFirst();
    }

    List<String> all(String flag) {
        return values.getOrDefault(flag, List.of());
    }
}
