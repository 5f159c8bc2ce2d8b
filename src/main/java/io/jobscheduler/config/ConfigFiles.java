package io.jobscheduler.config;

import io.helidon.common.media.type.MediaType;
import io.helidon.common.media.type.MediaTypes;
import io.helidon.config.hocon.HoconConfigParser;
import io.helidon.config.spi.ConfigNode;
import io.helidon.config.spi.ConfigParser;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.tomlj.Toml;
import org.tomlj.TomlArray;
import org.tomlj.TomlParseResult;
import org.tomlj.TomlTable;

/**
 * Reads a configuration file into a plain tree: tables are {@link Map}s, arrays {@link List}s.
 * A {@code .conf} (HOCON) or {@code .json} file is read by Helidon's HOCON parser, which resolves
 * {@code ${...}} substitutions (against the file, then the environment) and hands every scalar
 * over as text ({@link Text}); any other file is TOML, read by tomlj, whose values keep their types.
 * A file that cannot be read or parsed is a {@link ConfigException} naming the file and the line.
 */
final class ConfigFiles {
    /** A HOCON or JSON scalar: Helidon's parser keeps only its text, so its type is checked from that. */
    record Text(String value) {
    }

    private ConfigFiles() {
    }

    static boolean isHocon(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        return name.endsWith(".conf") || name.endsWith(".json");
    }

    static Map<String, Object> read(Path file) {
        return isHocon(file) ? readHocon(file) : readToml(file);
    }

    private static Map<String, Object> readToml(Path file) {
        TomlParseResult toml;
        try {
            toml = Toml.parse(file);
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read: " + e.getMessage());
        }
        if (toml.hasErrors()) {
            var error = toml.errors().getFirst();
            throw new ConfigException(file + ":" + error.position().line() + ":" + error.position().column()
                    + ": " + error.getMessage());
        }
        return tomlTable(toml);
    }

    private static Map<String, Object> tomlTable(TomlTable table) {
        Map<String, Object> plain = new LinkedHashMap<>();
        for (String key : table.keySet()) {
            plain.put(key, tomlValue(table.get(List.of(key))));
        }
        return plain;
    }

    private static Object tomlValue(Object value) {
        return switch (value) {
            case TomlTable table -> tomlTable(table);
            case TomlArray array -> {
                List<Object> items = new ArrayList<>();
                for (int i = 0; i < array.size(); i++) {
                    items.add(tomlValue(array.get(i)));
                }
                yield items;
            }
            default -> value;
        };
    }

    private static Map<String, Object> readHocon(Path file) {
        Path base = file.toAbsolutePath().getParent();
        MediaType type = file.toString().toLowerCase(Locale.ROOT).endsWith(".json")
                ? MediaTypes.APPLICATION_JSON : MediaTypes.APPLICATION_HOCON;
        ConfigNode.ObjectNode root;
        try (InputStream data = Files.newInputStream(file)) {
            ConfigParser.Content content = ConfigParser.Content.builder()
                    .data(data).mediaType(type).charset(StandardCharsets.UTF_8).build();
            // include "other.conf" reads beside this file.
            // Substitutions are resolved here, as HOCON defines them; Helidon leaves them to later otherwise.
            root = HoconConfigParser.builder().resolvingEnabled(true).build()
                    .parse(content, name -> open(base.resolve(name)));
        } catch (IOException e) {
            throw new ConfigException(file + ": cannot read: " + e.getMessage());
        } catch (RuntimeException e) {
            // Helidon wraps the HOCON parser's exception, which knows the line.
            for (Throwable cause = e; cause != null; cause = cause.getCause()) {
                if (cause instanceof com.typesafe.config.ConfigException hocon) {
                    int line = hocon.origin() == null ? -1 : hocon.origin().lineNumber();
                    throw new ConfigException(file + (line > 0 ? ":" + line : "") + ": " + withoutOrigin(hocon));
                }
            }
            throw new ConfigException(file + ": cannot parse: " + e.getMessage());
        }
        return hoconObject(root);
    }

    private static Map<String, Object> hoconObject(ConfigNode.ObjectNode node) {
        Map<String, Object> plain = new LinkedHashMap<>();
        // Helidon escapes a '.' inside a quoted HOCON key as "~1"; error messages show the key as written.
        node.forEach((key, value) -> plain.put(key.replace("~1", ".").replace("~0", "~"), hoconValue(value)));
        return plain;
    }

    private static Object hoconValue(ConfigNode node) {
        return switch (node) {
            case ConfigNode.ObjectNode object -> hoconObject(object);
            case ConfigNode.ListNode list -> list.stream().map(ConfigFiles::hoconValue).toList();
            case ConfigNode.ValueNode value -> new Text(value.get());
            default -> throw new IllegalStateException("unexpected config node " + node.nodeType());
        };
    }

    /** The HOCON parser's message starts with where it read from ("Reader: 3: "); the caller says that. */
    private static String withoutOrigin(com.typesafe.config.ConfigException e) {
        String message = String.valueOf(e.getMessage());
        if (e.origin() != null) {
            String prefix = e.origin().description() + ": ";
            if (message.startsWith(prefix)) {
                return message.substring(prefix.length());
            }
        }
        return message;
    }

    private static Optional<InputStream> open(Path file) {
        try {
            return Optional.of(Files.newInputStream(file));
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
