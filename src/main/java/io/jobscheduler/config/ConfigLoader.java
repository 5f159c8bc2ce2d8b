package io.jobscheduler.config;

import io.helidon.config.Config;
import io.helidon.config.ConfigSources;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Reads a component's configuration file (TOML, or HOCON/JSON: {@link ConfigFiles}) and layers it
 * into one Helidon {@link Config}:
 * built-in defaults &lt; file &lt; environment ({@code JOBSCHEDULER_<SECTION>_<KEY>}) &lt; flags.
 * Every value is checked against the component's schema; the first problem stops loading
 * with a {@link ConfigException} naming the source, the key and the problem.
 */
public final class ConfigLoader {
    private final List<ConfigKey> schema;
    private final Map<String, String> environment;
    private final Path workingDir;

    public ConfigLoader(List<ConfigKey> schema, Map<String, String> environment, Path workingDir) {
        this.schema = List.copyOf(schema);
        this.environment = Map.copyOf(environment);
        this.workingDir = workingDir;
    }

    /**
     * @param explicitFile the {@code --config} file, which must exist
     * @param defaultFileName read from the working folder when present and no file is named
     * @param flags dotted keys set on the command line
     */
    public Config load(Optional<Path> explicitFile, String defaultFileName, Map<String, String> flags) {
        Optional<Path> file = explicitFile.map(workingDir::resolve);
        if (file.isPresent() && !Files.isRegularFile(file.get())) {
            throw new ConfigException("--config: file " + file.get() + " does not exist");
        }
        if (file.isEmpty() && Files.isRegularFile(workingDir.resolve(defaultFileName))) {
            file = Optional.of(workingDir.resolve(defaultFileName));
        }
        return merge(file, flags);
    }

    /** Defaults, environment and flags, reading no file (the {@code dev} and {@code train} commands). */
    public Config loadWithoutFile(Map<String, String> flags) {
        return merge(Optional.empty(), flags);
    }

    private Config merge(Optional<Path> file, Map<String, String> flags) {
        // Default file names (server.pem) sit beside the configuration file that implies them.
        Path defaultsBase = file.map(f -> f.toAbsolutePath().getParent()).orElse(workingDir);
        Map<String, String> merged = new LinkedHashMap<>();
        for (ConfigKey key : schema) {
            if (key.defaultValue() != null) {
                merged.put(key.path(), checked("default", key, key.defaultValue(), defaultsBase));
            }
        }
        file.ifPresent(f -> merged.putAll(readFile(f)));
        for (ConfigKey key : schema) {
            String value = environment.get(key.envName());
            if (value != null) {
                merged.put(key.path(), checked(key.envName(), key, value, workingDir));
            }
        }
        for (Map.Entry<String, String> flag : flags.entrySet()) {
            ConfigKey key = find(flag.getKey()).orElseThrow(() -> new IllegalArgumentException(flag.getKey()));
            merged.put(key.path(), checked(key.flag() != null ? key.flag() : key.path(), key, flag.getValue(),
                    workingDir));
        }
        return Config.builder()
                .disableEnvironmentVariablesSource()
                .disableSystemPropertiesSource()
                .addSource(ConfigSources.create(merged))
                .build();
    }

    private Map<String, String> readFile(Path file) {
        Map<String, Object> document = ConfigFiles.read(file);
        Map<String, String> values = new LinkedHashMap<>();
        Path base = file.toAbsolutePath().getParent();
        for (Map.Entry<String, Object> top : document.entrySet()) {
            String section = top.getKey();
            boolean isTable = top.getValue() instanceof Map;
            boolean known = schema.stream().anyMatch(k -> k.section().equals(section));
            if (known && !isTable) {
                throw new ConfigException(file + ": [" + section + "] must be a table, found " + describe(top.getValue()));
            }
            if (!known) {
                throw new ConfigException(file + ": unknown " + (isTable ? "section [" + section + "]" : "key " + section));
            }
            readTable(file, section, (Map<?, ?>) top.getValue(), base, values);
        }
        return values;
    }

    /** The values of one table; a table inside it ([jobs.max_limits]) is a section of its own if the schema has it. */
    private void readTable(Path file, String section, Map<?, ?> table, Path base, Map<String, String> values) {
        for (Map.Entry<?, ?> entry : table.entrySet()) {
            String path = section + "." + entry.getKey();
            if (entry.getValue() instanceof Map<?, ?> inner && schema.stream().anyMatch(k -> k.section().equals(path))) {
                readTable(file, path, inner, base, values);
                continue;
            }
            ConfigKey key = find(path).orElseThrow(() -> new ConfigException(file + ": unknown key " + path));
            Object value = entry.getValue();
            String where = file + ": " + path;
            String text = switch (value) {
                // HOCON and JSON scalars arrive as text; the check below says what is wrong with one.
                case ConfigFiles.Text t -> t.value();
                case Boolean b when key.kind() == ConfigKey.Kind.BOOLEAN -> b.toString();
                case Long l when key.kind() == ConfigKey.Kind.INTEGER || key.kind() == ConfigKey.Kind.BYTES
                        || key.kind() == ConfigKey.Kind.CORES -> l.toString();
                case Double d when key.kind() == ConfigKey.Kind.CORES -> d.toString();
                case List<?> list when key.kind() == ConfigKey.Kind.STRING_LIST -> listText(where, list);
                case String s when key.kind() != ConfigKey.Kind.BOOLEAN && key.kind() != ConfigKey.Kind.INTEGER
                        && key.kind() != ConfigKey.Kind.STRING_LIST && key.kind() != ConfigKey.Kind.CORES -> s;
                default -> null;
            };
            if (text == null) {
                throw new ConfigException(where + ": expected " + expected(key.kind()) + ", found "
                        + describe(value));
            }
            values.put(path, checked(where, key, text, base));
        }
    }

    /** An array of strings as the list kind's text: its elements joined by commas. */
    private static String listText(String where, List<?> list) {
        List<String> items = new java.util.ArrayList<>();
        for (Object item : list) {
            String text = switch (item) {
                case String s -> s;
                case ConfigFiles.Text t -> t.value();
                default -> throw new ConfigException(where + ": expected an array of strings, found "
                        + describe(item) + " in it");
            };
            if (text.isEmpty() || text.contains(",")) {
                throw new ConfigException(where + ": an element must be non-empty and hold no ',', found \""
                        + text + "\"");
            }
            items.add(text);
        }
        return String.join(",", items);
    }

    private String checked(String where, ConfigKey key, String value, Path base) {
        try {
            key.check(value);
        } catch (IllegalArgumentException e) {
            throw new ConfigException(where + ": " + e.getMessage());
        }
        return key.kind() == ConfigKey.Kind.PATH && !value.isEmpty() ? base.resolve(value).normalize().toString() : value;
    }

    private Optional<ConfigKey> find(String path) {
        return schema.stream().filter(k -> k.path().equals(path)).findFirst();
    }

    private static String expected(ConfigKey.Kind kind) {
        return switch (kind) {
            case BOOLEAN -> "a boolean";
            case INTEGER -> "an integer";
            case DURATION -> "a duration string like \"5s\"";
            case LISTEN_ADDRESS, ADDRESS -> "a \"host:port\" string";
            case STRING, PATH -> "a string";
            case STRING_LIST -> "an array of strings";
            case BYTES -> "a size like \"256M\" or a number of bytes";
            case CORES -> "a number of cores like 0.5";
        };
    }

    private static String describe(Object value) {
        return switch (value) {
            case String s -> "the string \"" + s + "\"";
            case Boolean b -> "the boolean " + b;
            case Long l -> "the integer " + l;
            case Double d -> "the number " + d;
            case Map<?, ?> table -> "a table";
            case List<?> array -> "an array";
            case java.time.temporal.TemporalAccessor time -> "the date-time " + time;
            default -> value.getClass().getSimpleName();
        };
    }
}
