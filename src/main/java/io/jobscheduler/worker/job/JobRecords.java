package io.jobscheduler.worker.job;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.Reader;
import java.io.Writer;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * Job records on disk: {@code <dataDir>/jobs/<id>/job.properties} beside the job's {@code output}.
 * A record is replaced atomically (temporary file, then move), so a crash leaves the old or the new
 * record, never half of one. The first record of a job goes straight into its new folder, see
 * {@link #writeFirst}.
 */
final class JobRecords {
    static final String RECORD = "job.properties";
    static final String OUTPUT = "output";
    static final String WORK = "work";
    /** A record up to this size fits one page of a fresh file: one write(2), never seen half-written. */
    private static final int ONE_WRITE = 4096;

    /** A record as stored: the job's status plus what a later worker needs to clean up after it. */
    record Stored(JobStatus status, int pgid, long startTicks) {
    }

    private final Path jobsDir;

    JobRecords(Path dataDir) throws IOException {
        this.jobsDir = dataDir.resolve("jobs");
        Files.createDirectories(jobsDir);
        // Only the worker reads records and output: a job of another user must not read other jobs'.
        Files.setPosixFilePermissions(jobsDir, PosixFilePermissions.fromString("rwx------"));
    }

    Path createDir(String id) throws IOException {
        return Files.createDirectory(jobsDir.resolve(id));
    }

    /**
     * A job's own empty working folder (job_dir = "isolated"), inside its folder so that it goes
     * with the job's other files; owned by the job's user, as root can make it.
     */
    Path createWorkDir(String id, Optional<UserAccount> owner) throws IOException {
        Path dir = Files.createDirectory(jobsDir.resolve(id).resolve(WORK));
        if (owner.isPresent()) {
            Files.setAttribute(dir, "unix:uid", owner.get().uid(), LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(dir, "unix:gid", owner.get().gid(), LinkOption.NOFOLLOW_LINKS);
        }
        return dir;
    }

    Path outputOf(String id) {
        return jobsDir.resolve(id).resolve(OUTPUT);
    }

    /**
     * Replaces the job's record atomically (temporary file, then move); on a full disk, in place
     * where that is as safe (see {@link #overwriteInPlace}).
     */
    void write(Job job) throws IOException {
        byte[] record = encode(job);
        Path dir = jobsDir.resolve(job.id());
        Path temp = dir.resolve(RECORD + ".tmp");
        try {
            Files.write(temp, record);
        } catch (IOException e) {
            Files.deleteIfExists(temp);
            if (overwriteInPlace(dir.resolve(RECORD), record, e)) {
                return;
            }
            throw e;
        }
        Files.move(temp, dir.resolve(RECORD), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * With the disk full there is no room for a temporary file, but a record of at most one page
     * still fits over the job's earlier record, in the block that one already holds: the final
     * record of a job whose output filled the disk is stored so. One write(2) at offset 0, over a
     * record no longer than the new one (the same keys with fewer values), which a crashed process
     * leaves whole or not at all, as {@link #writeFirst}'s. False, writing nothing, when the
     * failure was not a full disk or the record does not fit.
     */
    private static boolean overwriteInPlace(Path file, byte[] record, IOException failure) throws IOException {
        boolean diskFull = Errno.of(failure).filter(e -> e == Errno.ENOSPC || e == Errno.EDQUOT).isPresent();
        if (!diskFull || record.length > ONE_WRITE || !Files.isRegularFile(file) || Files.size(file) > record.length) {
            return false;
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ByteBuffer bytes = ByteBuffer.wrap(record);
            while (bytes.hasRemaining()) {
                channel.write(bytes, bytes.position());
            }
        }
        return true;
    }

    /**
     * Writes the first record of a job whose folder {@link #createDir} just made, without the
     * temporary file and move of {@link #write} (one rename less on every start). Crash-safety: the
     * file is created with CREATE_NEW in a folder no earlier worker used, so there is no old record
     * a crash could leave half-replaced; the record is written with one write(2) of at most one
     * page, which a crashed process leaves complete or not at all, so what a crash can leave is an
     * empty record, which {@link #loadAll} skips like a missing one (a crash mid-start either way).
     * Neither path fsyncs: after a power cut ext4 may equally show an empty file behind the move.
     * A larger record (a very long command) takes the temporary-file path.
     */
    void writeFirst(Job job) throws IOException {
        byte[] record = encode(job);
        if (record.length > ONE_WRITE) {
            write(job);
            return;
        }
        Files.write(jobsDir.resolve(job.id()).resolve(RECORD), record, StandardOpenOption.CREATE_NEW,
                StandardOpenOption.WRITE);
    }

    private static byte[] encode(Job job) throws IOException {
        JobStatus s = job.status();
        Properties p = new Properties();
        p.setProperty("id", s.id());
        p.setProperty("command", s.command());
        p.setProperty("path", s.path());
        p.setProperty("state", s.state().name());
        p.setProperty("exitCode", s.exitCode().isPresent() ? Integer.toString(s.exitCode().getAsInt()) : "");
        p.setProperty("signal", s.signal().isPresent() ? Integer.toString(s.signal().getAsInt()) : "");
        p.setProperty("errorText", s.errorText());
        p.setProperty("startedAt", s.startedAt().toString());
        p.setProperty("finishedAt", s.finishedAt() == null ? "" : s.finishedAt().toString());
        p.setProperty("pgid", Integer.toString(job.pgid()));
        p.setProperty("startTicks", Long.toString(job.startTicks()));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(512);
        try (Writer w = new OutputStreamWriter(bytes, StandardCharsets.UTF_8)) {
            p.store(w, null);
        }
        return bytes.toByteArray();
    }

    /**
     * Every stored record, oldest start first. Folders without a record or with an empty one (a crash
     * mid-start, see {@link #writeFirst}) are skipped.
     */
    List<Stored> loadAll() throws IOException {
        List<Stored> all = new ArrayList<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(jobsDir, Files::isDirectory)) {
            for (Path dir : dirs) {
                Path record = dir.resolve(RECORD);
                if (Files.isRegularFile(record) && Files.size(record) > 0) {
                    all.add(load(record));
                }
            }
        }
        all.sort(Comparator.comparing(s -> s.status().startedAt()));
        return all;
    }

    private static Stored load(Path record) throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(record, StandardCharsets.UTF_8)) {
            p.load(r);
        }
        try {
            String finished = required(p, "finishedAt");
            JobStatus status = new JobStatus(required(p, "id"), required(p, "command"), required(p, "path"),
                    JobState.valueOf(required(p, "state")), optionalInt(required(p, "exitCode")),
                    optionalInt(required(p, "signal")), required(p, "errorText"),
                    Instant.parse(required(p, "startedAt")), finished.isEmpty() ? null : Instant.parse(finished));
            return new Stored(status, Integer.parseInt(required(p, "pgid")), Long.parseLong(required(p, "startTicks")));
        } catch (IllegalArgumentException | DateTimeParseException e) {
            throw new IOException("malformed job record " + record + ": " + e.getMessage(), e);
        }
    }

    private static String required(Properties p, String key) {
        String value = p.getProperty(key);
        if (value == null) {
            throw new IllegalArgumentException("missing " + key);
        }
        return value;
    }

    private static OptionalInt optionalInt(String value) {
        return value.isEmpty() ? OptionalInt.empty() : OptionalInt.of(Integer.parseInt(value));
    }

    /**
     * Deletes a job's folder: record and output. Unlinks the two files a job has, then the folder;
     * walks the folder only if something else is left in it (a temporary record after a crash, an
     * isolated job's working folder).
     */
    void delete(String id) throws IOException {
        Path dir = jobsDir.resolve(id);
        Files.deleteIfExists(dir.resolve(RECORD));
        Files.deleteIfExists(dir.resolve(OUTPUT));
        try {
            Files.deleteIfExists(dir);
            return;
        } catch (DirectoryNotEmptyException more) {
            // fall through to the listing
        }
        // Deepest first, never following a link: a job's working folder holds whatever it left.
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(f);
            }
        } catch (NoSuchFileException gone) {
            return;
        }
        Files.deleteIfExists(dir);
    }
}
