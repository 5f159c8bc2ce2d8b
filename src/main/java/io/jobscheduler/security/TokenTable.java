package io.jobscheduler.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.regex.Pattern;
import org.tomlj.Toml;
import org.tomlj.TomlArray;
import org.tomlj.TomlParseResult;
import org.tomlj.TomlPosition;
import org.tomlj.TomlTable;

/**
 * The API tokens a scheduler accepts: {@code [[token]]} tables of {@code name}, {@code role} and
 * {@code sha256} (the hex SHA-256 of the token, never the token). Immutable; {@link #with} and
 * {@link #without} make changed copies for the {@code token} command.
 */
public final class TokenTable {
    /** Longer presented tokens are not even hashed (ours are 47 characters). */
    private static final int MAX_TOKEN_LENGTH = 512;
    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");
    private static final Set<String> KEYS = Set.of("name", "role", "sha256");

    private final List<Entry> entries;
    /** Each entry's digest as the ASCII bytes of its hex, in entry order, for {@link #lookup}. */
    private final List<byte[]> digests;

    /** One token: who holds it, what it may do, and the digest it is looked up by. */
    public record Entry(String name, ApiRole role, String sha256) {
    }

    private TokenTable(List<Entry> entries) {
        this.entries = List.copyOf(entries);
        this.digests = entries.stream().map(e -> e.sha256().getBytes(StandardCharsets.US_ASCII)).toList();
    }

    public static TokenTable empty() {
        return new TokenTable(List.of());
    }

    /** The table in {@code file}; a missing, unreadable or invalid file is a {@link TokenFileException}. */
    public static TokenTable read(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            throw new TokenFileException(file + ": no such file");
        } catch (IOException e) {
            throw new TokenFileException(file + ": cannot read: " + e.getMessage());
        }
        return parse(text, file.toString());
    }

    /** The table in {@code toml}; errors are one line starting with {@code source} (the file name). */
    public static TokenTable parse(String toml, String source) {
        TomlParseResult result = Toml.parse(toml);
        if (result.hasErrors()) {
            var error = result.errors().getFirst();
            throw new TokenFileException(source + ": line " + error.position().line() + ": " + error.getMessage());
        }
        for (String key : result.keySet()) {
            if (!key.equals("token")) {
                throw new TokenFileException(source + ": line " + result.inputPositionOf(key).line()
                        + ": unknown key \"" + key + "\" (only [[token]] tables belong here)");
            }
        }
        if (!result.contains("token")) {
            return empty();
        }
        if (!(result.get("token") instanceof TomlArray array)
                || !array.toList().stream().allMatch(TomlTable.class::isInstance)) {
            throw new TokenFileException(source + ": line " + result.inputPositionOf("token").line()
                    + ": \"token\" must be [[token]] tables");
        }
        List<Entry> entries = new ArrayList<>();
        Map<String, Integer> names = new HashMap<>();
        Map<String, Integer> digests = new HashMap<>();
        for (int i = 0; i < array.size(); i++) {
            TomlTable table = array.getTable(i);
            String where = source + ": token " + (i + 1) + where(table);
            Entry entry = entry(table, where);
            Integer earlier = names.putIfAbsent(entry.name(), i + 1);
            if (earlier != null) {
                throw new TokenFileException(where + ": name \"" + entry.name() + "\" is also token " + earlier);
            }
            earlier = digests.putIfAbsent(entry.sha256(), i + 1);
            if (earlier != null) {
                throw new TokenFileException(where + ": sha256 is also token " + earlier + "'s");
            }
            entries.add(entry);
        }
        return new TokenTable(entries);
    }

    /**
     * The entry whose digest is the SHA-256 of {@code presentedToken}. Every stored digest is
     * compared, each in constant time ({@link MessageDigest#isEqual}), so the time taken says
     * nothing of how close a guess came nor which entry matched; a table holds tens of tokens.
     */
    public Optional<Entry> lookup(String presentedToken) {
        if (presentedToken.isEmpty() || presentedToken.length() > MAX_TOKEN_LENGTH) {
            return Optional.empty();
        }
        byte[] presented = ApiToken.sha256(presentedToken).getBytes(StandardCharsets.US_ASCII);
        Entry found = null;
        for (int i = 0; i < digests.size(); i++) {
            if (MessageDigest.isEqual(presented, digests.get(i))) {
                found = entries.get(i);
            }
        }
        return Optional.ofNullable(found);
    }

    public List<Entry> entries() {
        return entries;
    }

    public Optional<Entry> named(String name) {
        return entries.stream().filter(e -> e.name().equals(name)).findFirst();
    }

    /** This table and {@code entry}; its name must be new. */
    public TokenTable with(Entry entry) {
        if (named(entry.name()).isPresent()) {
            throw new IllegalStateException("a token named \"" + entry.name() + "\" already exists");
        }
        List<Entry> more = new ArrayList<>(entries);
        more.add(entry);
        return new TokenTable(more);
    }

    /** This table without the token {@code name}, which must exist. */
    public TokenTable without(String name) {
        if (named(name).isEmpty()) {
            throw new IllegalStateException("no token named \"" + name + "\"");
        }
        return new TokenTable(entries.stream().filter(e -> !e.name().equals(name)).toList());
    }

    /** The file's text; names and digests never need quoting (see {@link Names}). */
    public String toToml() {
        StringBuilder text = new StringBuilder("""
                # jobscheduler API tokens: the SHA-256 of each token, never the token.
                # Managed by `bin/jobscheduler token create|revoke|list`.
                """);
        for (Entry entry : entries) {
            text.append("\n[[token]]\nname = \"").append(entry.name())
                    .append("\"\nrole = \"").append(entry.role().word())
                    .append("\"\nsha256 = \"").append(entry.sha256()).append("\"\n");
        }
        return text.toString();
    }

    private static Entry entry(TomlTable table, String where) {
        for (String key : table.keySet()) {
            if (!KEYS.contains(key)) {
                throw new TokenFileException(where + ": unknown key \"" + key + "\" (expected name, role, sha256)");
            }
        }
        String name = string(table, "name", where);
        if (!Names.isSafe(name)) {
            throw new TokenFileException(where + ": " + Names.unsafe(name));
        }
        ApiRole role;
        try {
            role = ApiRole.parse(string(table, "role", where));
        } catch (IllegalArgumentException e) {
            throw new TokenFileException(where + ": " + e.getMessage());
        }
        String sha256 = string(table, "sha256", where);
        if (!SHA256_HEX.matcher(sha256).matches()) {
            throw new TokenFileException(where + ": sha256 must be 64 lower-case hex digits");
        }
        return new Entry(name, role, sha256);
    }

    private static String string(TomlTable table, String key, String where) {
        if (!table.contains(key)) {
            throw new TokenFileException(where + ": missing \"" + key + "\"");
        }
        if (!(table.get(key) instanceof String value)) {
            throw new TokenFileException(where + ": \"" + key + "\" must be a string");
        }
        return value;
    }

    /** " (line N)" of the entry's first key, or nothing for an empty table. */
    private static String where(TomlTable table) {
        OptionalInt line = table.keySet().stream().map(table::inputPositionOf).filter(Objects::nonNull)
                .mapToInt(TomlPosition::line).min();
        return line.isPresent() ? " (line " + line.getAsInt() + ")" : "";
    }
}
