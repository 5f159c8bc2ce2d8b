package io.jobscheduler.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.statistics.Statistics;

/**
 * Random configuration files against the real loader: TOML documents (and the same shapes as
 * HOCON) built from the schemas' sections and keys and others, values of every type, malformed
 * lines, huge numbers, Unicode, nested tables and arrays. Whatever the file, loading and building
 * the settings either succeeds or throws a {@link ConfigException} whose message is one line
 * naming a key or a line of the file; never another exception. The seed is fixed (jqwik prints it
 * with any failure), the tries bounded so the suite takes seconds.
 */
class ConfigLoaderPropertyTest {
    private static final String SEED = "20261201";
    private static final String SETTING = Stream.concat(SchedulerSettings.SCHEMA.stream(), WorkerSettings.SCHEMA.stream())
            // A free section ([labels]) names each of its keys.
            .map(key -> key.name().equals(ConfigKey.ANY) ? Pattern.quote(key.section() + ".") + "[^:]+"
                    : Pattern.quote(key.path())).distinct().collect(java.util.stream.Collectors.joining("|", "(", ")"));
    /** A one-line message naming a line of the file, an unknown key or section of it, or a setting. */
    private static final Pattern NAMES_A_KEY_OR_LINE = Pattern.compile(
            "config\\.(toml|conf)(:\\d+)+: .+"
            + "|config\\.(toml|conf): (unknown (key|section) .+|\\[[a-z_]+] must be a table, .+|" + SETTING + ": .+)"
            + "|" + SETTING + ": .+"
            // HOCON's include names the file it could not include.
            + "|config\\.conf: cannot parse: .+ is missing");
    private static final List<String> SECTIONS = Stream.concat(SchedulerSettings.SCHEMA.stream(),
            WorkerSettings.SCHEMA.stream()).map(ConfigKey::section).distinct().toList();
    private static final List<String> KEYS = Stream.concat(SchedulerSettings.SCHEMA.stream(),
            WorkerSettings.SCHEMA.stream()).map(ConfigKey::name).distinct().toList();

    @Property(tries = 1500, seed = SEED, shrinking = ShrinkingMode.BOUNDED)
    void anyTomlDocumentLoadsOrFailsWithOneLineNamingAKeyOrALine(@ForAll("tomlDocuments") String toml,
                                                                 @ForAll boolean worker) {
        assertLoadsOrFailsCleanly("config.toml", toml, worker);
    }

    @Property(tries = 700, seed = SEED, shrinking = ShrinkingMode.BOUNDED)
    void anyHoconDocumentLoadsOrFailsWithOneLineNamingAKeyOrALine(@ForAll("hoconDocuments") String hocon,
                                                                  @ForAll boolean worker) {
        assertLoadsOrFailsCleanly("config.conf", hocon, worker);
    }

    private static void assertLoadsOrFailsCleanly(String fileName, String text, boolean worker) {
        Path dir = null;
        try {
            dir = Files.createTempDirectory("config-property");
            // UTF-8 (a lone surrogate becomes '?', as any editor would save it).
            Path file = Files.write(dir.resolve(fileName), text.getBytes(StandardCharsets.UTF_8));
            try {
                if (worker) {
                    WorkerSettings.from(new ConfigLoader(WorkerSettings.SCHEMA, Map.of(), dir)
                            .load(Optional.of(file), "none", Map.of()), dir);
                } else {
                    SchedulerSettings.from(new ConfigLoader(SchedulerSettings.SCHEMA, Map.of(), dir)
                            .load(Optional.of(file), "none", Map.of()));
                }
                Statistics.label("outcome").collect("loaded");
            } catch (ConfigException e) {
                String message = e.getMessage();
                // Which check refused it, so the printed statistics show the documents reach every check.
                Statistics.label("outcome").collect(message.replace(dir + "/", "").replaceAll("^(config\\.\\w+):\\d.*", "$1: line")
                        .replaceAll("^(\\S+: (unknown (key|section)|[a-z_]+\\.[a-z_]+)).*", "$1"));
                if (message.contains("\n") || message.contains("\r")) {
                    throw new AssertionError("a message of more than one line: " + message);
                }
                if (!NAMES_A_KEY_OR_LINE.matcher(message.replace(dir + "/", "")).matches()) {
                    throw new AssertionError("a message naming no key and no line: " + message);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            delete(dir);
        }
    }

    private static void delete(Path dir) {
        if (dir == null) {
            return;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    // ---- TOML ----

    @Provide
    Arbitrary<String> tomlDocuments() {
        Arbitrary<String> line = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(12, tomlKeyValue()),
                net.jqwik.api.Tuple.of(1, garbage()),
                net.jqwik.api.Tuple.of(1, Arbitraries.of("", "# a comment", "\t")));
        Arbitrary<String> table = Combinators.combine(tomlHeader(),
                        line.list().ofMaxSize(5).uniqueElements(l -> l.split("=", -1)[0].trim()))
                .as((header, lines) -> header + "\n" + String.join("\n", lines));
        Arbitrary<String> anyShape = Arbitraries.frequencyOf(
                        net.jqwik.api.Tuple.of(8, table),
                        net.jqwik.api.Tuple.of(1, line))
                .list().ofMaxSize(5).uniqueElements(part -> part.lines().findFirst().orElse(""))
                .map(parts -> String.join("\n", parts) + "\n");
        // Half the documents use only the schemas' own sections and keys, so the values' checks are reached.
        Arbitrary<String> ownKeys = Arbitraries.of(SECTIONS).flatMap(section -> Arbitraries.of(keysOf(section))
                        .list().ofMinSize(1).ofMaxSize(4).uniqueElements()
                        .flatMap(keys -> tomlValue().list().ofSize(keys.size()).map(values -> {
                            StringBuilder text = new StringBuilder("[" + section + "]\n");
                            for (int i = 0; i < keys.size(); i++) {
                                text.append(keys.get(i)).append(" = ").append(values.get(i)).append('\n');
                            }
                            return text.toString();
                        })))
                .list().ofMaxSize(4).uniqueElements(part -> part.lines().findFirst().orElse(""))
                .map(tables -> String.join("", tables));
        return Arbitraries.oneOf(anyShape, ownKeys);
    }

    private static List<String> keysOf(String section) {
        return Stream.concat(SchedulerSettings.SCHEMA.stream(), WorkerSettings.SCHEMA.stream())
                .filter(key -> key.section().equals(section)).map(ConfigKey::name).distinct().toList();
    }

    private static Arbitrary<String> tomlHeader() {
        return Combinators.combine(Arbitraries.frequencyOf(
                        net.jqwik.api.Tuple.of(10, Arbitraries.just("[%s]")),
                        net.jqwik.api.Tuple.of(1, Arbitraries.of("[[%s]]", "[%s.sub]", "[ %s ]", "[\"%s\"]", "[%s"))),
                sectionName()).as(String::formatted);
    }

    private static Arbitrary<String> tomlKeyValue() {
        return Combinators.combine(keyName(), Arbitraries.frequencyOf(
                        net.jqwik.api.Tuple.of(10, Arbitraries.of(" = ", "=")),
                        net.jqwik.api.Tuple.of(1, Arbitraries.of(" : ", " "))), tomlValue())
                .as((key, equals, value) -> key + equals + value);
    }

    private static Arbitrary<String> tomlValue() {
        return Arbitraries.lazyOf(
                ConfigLoaderPropertyTest::scalar, ConfigLoaderPropertyTest::scalar, ConfigLoaderPropertyTest::scalar,
                ConfigLoaderPropertyTest::scalar,
                () -> scalar().list().ofMaxSize(4).map(items -> "[" + String.join(", ", items) + "]"),
                () -> Combinators.combine(keyName(), scalar()).as((k, v) -> "{ " + k + " = " + v + " }"),
                () -> Arbitraries.strings().ofMaxLength(30).map(s -> "\"\"\"" + s + "\"\"\""),
                () -> Arbitraries.strings().ofMaxLength(30).map(s -> "'" + s + "'"),
                () -> Arbitraries.of("1979-05-27T07:32:00Z", "07:32:00", "inf", "nan", "0x7fffffff", "1e400",
                        "0o777", "+", "\"\\uD800\"", "\"\\x41\""));
    }

    // ---- HOCON ----

    @Provide
    Arbitrary<String> hoconDocuments() {
        Arbitrary<String> entry = Arbitraries.lazyOf(
                () -> Combinators.combine(keyName(), Arbitraries.of(" = ", ": ", " ", " += "), hoconValue())
                        .as((key, sep, value) -> key + sep + value),
                () -> Combinators.combine(sectionName(), hoconEntries()).as((section, body) -> section + " { " + body + " }"),
                () -> Combinators.combine(sectionName(), keyName(), hoconValue()).as((s, k, v) -> s + "." + k + " = " + v),
                () -> Combinators.combine(sectionName(), hoconEntries()).as((section, body) -> section + " { " + body + " }"),
                () -> Combinators.combine(sectionName(), keyName(), hoconValue()).as((s, k, v) -> s + "." + k + " = " + v),
                ConfigLoaderPropertyTest::garbage,
                () -> Arbitraries.of("include \"missing.conf\"", "include required(\"missing.conf\")", "// comment"));
        return entry.list().ofMaxSize(10).map(lines -> String.join("\n", lines) + "\n");
    }

    private static Arbitrary<String> hoconEntries() {
        return Combinators.combine(keyName(), hoconValue()).as((k, v) -> k + " = " + v)
                .list().ofMaxSize(4).map(entries -> String.join(", ", entries));
    }

    private static Arbitrary<String> hoconValue() {
        return Arbitraries.lazyOf(
                ConfigLoaderPropertyTest::scalar, ConfigLoaderPropertyTest::scalar, ConfigLoaderPropertyTest::scalar,
                () -> scalar().list().ofMaxSize(3).map(items -> "[" + String.join(", ", items) + "]"),
                () -> Combinators.combine(keyName(), scalar()).as((k, v) -> "{ " + k + " = " + v + " }"),
                () -> Combinators.combine(sectionName(), keyName()).as((s, k) -> "${" + s + "." + k + "}"),
                () -> Arbitraries.of("${?HOME}", "${?NO_SUCH_VARIABLE_EVER}", "${undefined}", "null",
                        "\"127.0.0.1\":${?PORT}", "10 seconds", "${workers.ttl}", "\"\"\"multi\nline\"\"\""));
    }

    // ---- shared pieces ----

    private static Arbitrary<String> sectionName() {
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, Arbitraries.of(SECTIONS)),
                net.jqwik.api.Tuple.of(1, identifier()),
                net.jqwik.api.Tuple.of(1, Arbitraries.strings().ofMinLength(1).ofMaxLength(8).map(s -> "\"" + s + "\"")));
    }

    private static Arbitrary<String> keyName() {
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, Arbitraries.of(KEYS)),
                net.jqwik.api.Tuple.of(1, identifier()),
                net.jqwik.api.Tuple.of(1, Combinators.combine(Arbitraries.of(SECTIONS), Arbitraries.of(KEYS))
                        .as((s, k) -> s + "." + k)),
                net.jqwik.api.Tuple.of(1, Arbitraries.strings().ofMaxLength(8).map(s -> "\"" + s + "\"")));
    }

    private static Arbitrary<String> identifier() {
        return Arbitraries.strings().withChars("abcxyz_-0123ÄéΩ中").ofMinLength(1).ofMaxLength(10);
    }

    /** A scalar as both formats write it: strings, addresses, durations, numbers of any size, booleans. */
    private static Arbitrary<String> scalar() {
        return Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(6, Arbitraries.of("\"127.0.0.1:0\"", "\"0.0.0.0:30000\"", "\"[::1]:50000\"",
                        "\"localhost\"", "\"host:99999\"", "\"5s\"", "\"0s\"", "\"250ms\"", "\"1h\"",
                        "\"99999999999999999999h\"", "true", "false", "\"true\"", "\"\"", "\"server.pem\"",
                        "\"/dev/null\"", "\"../..\"", "0", "-1", "1.5", "1e9", "\"10.0.0.1:1\"", "7")),
                net.jqwik.api.Tuple.of(1, Arbitraries.longs().map(String::valueOf)),
                net.jqwik.api.Tuple.of(1, Arbitraries.bigIntegers()
                        .between(java.math.BigInteger.TEN.pow(18), java.math.BigInteger.TEN.pow(40)).map(String::valueOf)),
                net.jqwik.api.Tuple.of(2, printable().map(s -> "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"")),
                // Any characters at all, control characters and lone surrogates included.
                net.jqwik.api.Tuple.of(1, Arbitraries.strings().ofMaxLength(12).map(s -> "\"" + s + "\"")));
    }

    private static Arbitrary<String> printable() {
        return Arbitraries.strings().withCharRange(' ', '~').withChars("éß中文😀\u2028").ofMaxLength(20);
    }

    /** Lines no parser accepts, or accepts in surprising ways. */
    private static Arbitrary<String> garbage() {
        return Arbitraries.oneOf(
                Arbitraries.strings().ofMaxLength(25),
                Arbitraries.of("[", "]", "=", "==", "{", "}", "\"", "\"\"\"", "a = \"unterminated", "= 5",
                        "key = = 1", "[jobs]]", "\u0000", "\u2028", "a.b.c.d.e = 1", "[grpc_server]\n[grpc_server]",
                        "addr = 1\naddr = 2"));
    }
}
