package io.jobscheduler.security;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * {@code token create|revoke|list --file F}. Changes are written to a temporary file in the
 * same folder and renamed over the file, so a reader (the scheduler) sees the old table or the
 * new one, never half of one; a lock file beside it keeps two concurrent changes from losing one.
 */
final class TokenCommand {
    static final String USAGE = """
            usage: jobscheduler token create --file FILE --name NAME --role viewer|operator|admin
                   jobscheduler token revoke --file FILE --name NAME
                   jobscheduler token list   --file FILE
            """;

    private TokenCommand() {
    }

    static void run(List<String> args, PrintStream out, PrintStream err) {
        if (args.isEmpty()) {
            throw new UsageException("missing create, revoke or list");
        }
        String sub = args.getFirst();
        List<String> rest = args.subList(1, args.size());
        switch (sub) {
            case "create" -> {
                Arguments parsed = parse(rest, "--file", "--name", "--role");
                String name = safeName(parsed.required("--name"));
                ApiRole role;
                try {
                    role = ApiRole.parse(parsed.required("--role"));
                } catch (IllegalArgumentException e) {
                    throw new UsageException(e.getMessage());
                }
                Path file = Path.of(parsed.required("--file"));
                String token = ApiToken.generate();
                update(file, true, table -> table.with(new TokenTable.Entry(name, role, ApiToken.sha256(token))));
                out.println(token);
                err.println("added token \"" + name + "\" (" + role.word() + ") to " + file
                        + "; this is the only time it is shown");
            }
            case "revoke" -> {
                Arguments parsed = parse(rest, "--file", "--name");
                String name = safeName(parsed.required("--name"));
                Path file = Path.of(parsed.required("--file"));
                update(file, false, table -> table.without(name));
                err.println("revoked token \"" + name + "\" in " + file);
            }
            case "list" -> {
                Path file = Path.of(parse(rest, "--file").required("--file"));
                List<TokenTable.Entry> entries = TokenTable.read(file).entries();
                int width = entries.stream().mapToInt(e -> e.name().length()).max().orElse(0);
                entries.forEach(e -> out.println(e.name() + " ".repeat(width - e.name().length() + 2) + e.role().word()));
            }
            default -> throw new UsageException("unknown sub-command " + Names.printable(sub));
        }
    }

    private static Arguments parse(List<String> args, String... flags) {
        Arguments parsed = Arguments.parse(args, Set.of(flags), Set.of());
        parsed.noPositional();
        return parsed;
    }

    private static String safeName(String name) {
        if (!Names.isSafe(name)) {
            throw new UsageException(Names.unsafe(name));
        }
        return name;
    }

    /** Applies {@code change} to the table in {@code file} (empty if {@code mayCreate} and absent) and writes it back. */
    private static void update(Path file, boolean mayCreate, UnaryOperator<TokenTable> change) {
        Path absolute = file.toAbsolutePath();
        Path dir = absolute.getParent();
        String baseName = absolute.getFileName().toString();
        try (FileChannel lockFile = FileChannel.open(dir.resolve("." + baseName + ".lock"),
                Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(Pem.OWNER_ONLY)));
             var lock = lockFile.lock()) {
            TokenTable current = mayCreate && !Files.exists(absolute) ? TokenTable.empty() : TokenTable.read(absolute);
            TokenTable changed;
            try {
                changed = change.apply(current);
            } catch (IllegalStateException e) {
                throw new IllegalStateException(file + ": " + e.getMessage());
            }
            replace(absolute, changed.toToml());
        } catch (NoSuchFileException e) {
            throw new UncheckedIOException("cannot update " + file + ": no such folder", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot update " + file + ": " + e.getMessage(), e);
        }
    }

    private static void replace(Path file, String text) throws IOException {
        Path temporary = Files.createTempFile(file.getParent(), "." + file.getFileName() + ".", ".tmp",
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString(Pem.OWNER_ONLY)));
        try {
            try (FileChannel out = FileChannel.open(temporary, StandardOpenOption.WRITE)) {
                ByteBuffer bytes = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
                while (bytes.hasRemaining()) {
                    out.write(bytes);
                }
                out.force(true); // on disk before the rename makes it the file
            }
            Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temporary);
        }
    }
}
