package io.jobscheduler.worker.job;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.OptionalInt;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * Job records on disk: {@code <dataDir>/jobs/<id>/job.properties} beside the job's {@code output}.
 * A record is replaced atomically (temporary file, then move), so a crash leaves the old or the new
 * record, never half of one.
 */
final class JobRecords {
    static final String RECORD = "job.properties";
    static final String OUTPUT = "output";

    /** A record as stored: the job's status plus what a later worker needs to clean up after it. */
    record Stored(JobStatus status, int pgid, long startTicks) {
    }

    private final Path jobsDir;

    JobRecords(Path dataDir) throws IOException {
        this.jobsDir = dataDir.resolve("jobs");
        Files.createDirectories(jobsDir);
    }

    Path createDir(String id) throws IOException {
        return Files.createDirectory(jobsDir.resolve(id));
    }

    Path outputOf(String id) {
        return jobsDir.resolve(id).resolve(OUTPUT);
    }

    void write(Job job) throws IOException {
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
        Path dir = jobsDir.resolve(s.id());
        Path temp = dir.resolve(RECORD + ".tmp");
        try (Writer w = Files.newBufferedWriter(temp, StandardCharsets.UTF_8)) {
            p.store(w, null);
        }
        Files.move(temp, dir.resolve(RECORD), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Every stored record, oldest start first. Folders without a record (a crash mid-start) are skipped. */
    List<Stored> loadAll() throws IOException {
        List<Stored> all = new ArrayList<>();
        try (DirectoryStream<Path> dirs = Files.newDirectoryStream(jobsDir, Files::isDirectory)) {
            for (Path dir : dirs) {
                Path record = dir.resolve(RECORD);
                if (Files.isRegularFile(record)) {
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

    /** Deletes a job's folder: record and output. */
    void delete(String id) throws IOException {
        Path dir = jobsDir.resolve(id);
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Files.deleteIfExists(f);
            }
        } catch (NoSuchFileException gone) {
            return;
        }
        Files.deleteIfExists(dir);
    }
}
