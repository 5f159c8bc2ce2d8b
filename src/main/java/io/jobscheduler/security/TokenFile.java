package io.jobscheduler.security;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The scheduler's view of its tokens file: the table read at start, replaced when the file's
 * modification time, size or inode changes (looked at no more than once a second, on the
 * request path). A changed file that cannot be read or parsed — e.g. caught half-written —
 * leaves the previous table in force, with one log line per such change.
 */
public final class TokenFile {
    static final Duration CHECK_INTERVAL = Duration.ofSeconds(1);
    private static final System.Logger LOG = System.getLogger(TokenFile.class.getName());

    private final Path file;
    private final Clock clock;
    /** Only one caller stats and reads the file; the others use the current table meanwhile. */
    private final ReentrantLock checking = new ReentrantLock();
    private volatile TokenTable table;
    private volatile Instant nextCheck;
    private Stamp seen; // guarded by checking: the file as last read, good or bad

    private record Stamp(FileTime modified, long size, Object fileKey) {
    }

    private TokenFile(Path file, Clock clock, TokenTable table, Stamp seen) {
        this.file = file;
        this.clock = clock;
        this.table = table;
        this.seen = seen;
        this.nextCheck = clock.instant().plus(CHECK_INTERVAL);
    }

    /** Reads {@code file}, which must exist and parse (a {@link TokenFileException} otherwise). */
    public static TokenFile open(Path file, Clock clock) {
        Stamp before = stamp(file).orElseThrow(() -> new TokenFileException(file + ": no such file"));
        return new TokenFile(file, clock, TokenTable.read(file), before);
    }

    public Path path() {
        return file;
    }

    /** The table in force now, after looking at the file if it has not been looked at for a second. */
    public TokenTable table() {
        Instant now = clock.instant();
        if (now.isBefore(nextCheck) || !checking.tryLock()) {
            return table;
        }
        try {
            nextCheck = now.plus(CHECK_INTERVAL);
            reloadIfChanged();
            return table;
        } finally {
            checking.unlock();
        }
    }

    private void reloadIfChanged() {
        Optional<Stamp> before = stamp(file);
        if (before.isPresent() && before.get().equals(seen)) {
            return;
        }
        if (before.isEmpty()) {
            if (seen != null) {
                LOG.log(System.Logger.Level.WARNING, "tokens file " + file + " is gone; keeping the previous "
                        + table.entries().size() + " token(s)");
            }
            seen = null;
            return;
        }
        try {
            TokenTable read = TokenTable.read(file);
            // A file rewritten while it was read is read again at the next check.
            if (before.equals(stamp(file))) {
                table = read;
                seen = before.get();
            }
        } catch (TokenFileException e) {
            seen = before.get();
            LOG.log(System.Logger.Level.WARNING, "tokens file changed but cannot be used, keeping the previous "
                    + table.entries().size() + " token(s): " + e.getMessage());
        }
    }

    private static Optional<Stamp> stamp(Path file) {
        try {
            BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
            return Optional.of(new Stamp(attributes.lastModifiedTime(), attributes.size(),
                    Objects.requireNonNullElse(attributes.fileKey(), "")));
        } catch (IOException e) {
            return Optional.empty();
        }
    }
}
