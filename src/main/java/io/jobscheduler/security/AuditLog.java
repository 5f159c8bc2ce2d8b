package io.jobscheduler.security;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

import static java.lang.System.Logger.Level.WARNING;

/**
 * The audit log ({@code [audit] file}): one JSON line per audited action, appended by this
 * process alone. A line holds the action's time (the injected clock), its {@link AuditEntry}
 * and, last, its {@code status}.
 *
 * <p>An action that must not happen unrecorded (a start, a stop) is written <em>before</em> it is
 * done, by {@link #begin}, with {@code "status":null} and, for a start, room for the job id the
 * worker will give it (spaces, which JSON ignores); {@link Pending#complete} later overwrites the
 * line's tail ({@code "status":null,"job_id":null} and the room) in place with the status and the
 * job id. So each action is one line, the line is on disk before anything runs (if it cannot be
 * written, {@link #begin} throws and the caller refuses), completing it needs no new space on a
 * full disk, and an action cut short by a crash is left with {@code "status":null}. That is why
 * the file is written at positions of our own rather than opened for appending (Linux's
 * {@code pwrite} ignores the position of a file opened with {@code O_APPEND}).
 *
 * <p>Beyond {@code maxBytes} the file is renamed to {@code FILE.1} (replacing an older one) and a
 * new file started; a line still pending in the renamed file is completed there. Refused requests
 * ({@link #refused}) are rate-limited: at most {@value #REFUSED_PER_SECOND} lines a second, and
 * one summary line with the count of the others once the second is over ({@link #flushRefused},
 * called every second by the server, and before any later line). Lines are not fsynced: a
 * written line survives the scheduler's crash, not the machine's.
 */
public final class AuditLog implements AutoCloseable {
    static final int REFUSED_PER_SECOND = 20;
    private static final System.Logger LOG = System.getLogger(AuditLog.class.getName());
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'")
            .withZone(ZoneOffset.UTC);
    /** Room left in a start's line for its job id: a job id of up to 128 characters, quoted. */
    static final int JOB_ID_ROOM = 130;
    private static final String TAIL = ",\"status\":";

    private final Path file;
    private final long maxBytes;
    private final Clock clock;
    private final ReentrantLock lock = new ReentrantLock();
    private Segment current;              // guarded by lock; null when disabled or closed
    private long refusedSecond = Long.MIN_VALUE; // guarded by lock
    private int refusedInSecond;          // guarded by lock
    private int refusedSuppressed;        // guarded by lock
    private boolean failing;              // guarded by lock: the last write failed (logged once)

    /** One file the log writes to: the current one, or a rotated one with lines still pending. */
    private static final class Segment {
        final FileChannel channel;
        long size;
        int pending;
        boolean rotated;

        Segment(FileChannel channel, long size) {
            this.channel = channel;
            this.size = size;
        }
    }

    /** A line written with {@code "status":null}, to be completed with the action's outcome. */
    public final class Pending {
        private final Segment segment;
        private final long statusAt;
        private final int room;
        private final String jobId;
        private boolean completed;

        private Pending(Segment segment, long statusAt, int room, String jobId) {
            this.segment = segment;
            this.statusAt = statusAt;
            this.room = room;
            this.jobId = jobId;
        }

        /** Writes the outcome into the line; a failure is logged, as the action has happened. */
        public void complete(int status) {
            complete(status, null);
        }

        /**
         * Writes the outcome, and the job id the action made ({@code null}: the one the entry had),
         * into the line; a failure is logged, as the action has happened.
         */
        public void complete(int status, String madeJobId) {
            if (status < 100 || status > 999) {
                throw new IllegalArgumentException("status " + status + " is not three digits");
            }
            if (segment == null) {
                return; // a disabled log
            }
            String tail = status + ",\"job_id\":" + json(madeJobId != null ? madeJobId : jobId);
            if (tail.getBytes(StandardCharsets.UTF_8).length > room) {
                tail = status + ",\"job_id\":" + json(jobId);
            }
            byte[] text = (tail + " ".repeat(room - tail.getBytes(StandardCharsets.UTF_8).length))
                    .getBytes(StandardCharsets.UTF_8);
            lock.lock();
            try {
                if (completed) {
                    return;
                }
                completed = true;
                ByteBuffer bytes = ByteBuffer.wrap(text);
                try {
                    while (bytes.hasRemaining()) {
                        segment.channel.write(bytes, statusAt + bytes.position());
                    }
                } catch (IOException e) {
                    LOG.log(WARNING, "audit log " + file + ": cannot record status " + status + " of a line: " + e);
                }
                segment.pending--;
                closeIfDone(segment);
            } finally {
                lock.unlock();
            }
        }
    }

    private AuditLog(Path file, long maxBytes, Clock clock, Segment current) {
        this.file = file;
        this.maxBytes = maxBytes;
        this.clock = clock;
        this.current = current;
    }

    /** A log that records nothing (no {@code [audit] file}). */
    public static AuditLog disabled() {
        return new AuditLog(null, Long.MAX_VALUE, Clock.systemUTC(), null);
    }

    /** Opens {@code file} for appending (created with mode 0600); its folder must exist and be writable. */
    public static AuditLog open(Path file, long maxBytes, Clock clock) {
        try {
            return new AuditLog(file, maxBytes, clock, segment(file));
        } catch (IOException e) {
            throw new AuditException("audit.file: cannot open " + file + " for writing: " + e.getMessage(), e);
        }
    }

    public boolean enabled() {
        return file != null;
    }

    /**
     * Writes {@code entry} with {@code "status":null} before its action is done; throws
     * {@link AuditException} when the line cannot be written, and the caller must then not act.
     * With {@code jobIdToCome}, the line has room for the job id {@link Pending#complete} is given.
     * On a disabled log, a pending line that records nothing.
     */
    public Pending begin(AuditEntry entry, boolean jobIdToCome) {
        if (!enabled()) {
            return new Pending(null, 0, 0, null);
        }
        byte[] whole = line(entry, null);
        String text = new String(whole, StandardCharsets.UTF_8);
        // The tail is the last ',"status":' of the line: inside a JSON string a quote is escaped.
        int tailAt = text.lastIndexOf(TAIL) + TAIL.length();
        String closing = text.substring(tailAt, text.length() - 2); // before "}\n"
        int pad = jobIdToCome ? JOB_ID_ROOM : 0;
        byte[] head = text.substring(0, tailAt).getBytes(StandardCharsets.UTF_8);
        byte[] line = (text.substring(0, text.length() - 2) + " ".repeat(pad) + "}\n").getBytes(StandardCharsets.UTF_8);
        int room = closing.getBytes(StandardCharsets.UTF_8).length + pad;
        lock.lock();
        try {
            flushRefusedLocked();
            Segment segment = writeLocked(line);
            long statusAt = segment.size - line.length + head.length;
            segment.pending++;
            return new Pending(segment, statusAt, room, entry.jobId());
        } finally {
            lock.unlock();
        }
    }

    /** As {@link #begin(AuditEntry, boolean)} for an action that makes no job. */
    public Pending begin(AuditEntry entry) {
        return begin(entry, false);
    }

    /** Writes a finished action's line; throws {@link AuditException} when it cannot. */
    public void write(AuditEntry entry, Object status) {
        if (!enabled()) {
            return;
        }
        byte[] line = line(entry, status);
        lock.lock();
        try {
            flushRefusedLocked();
            writeLocked(line);
        } finally {
            lock.unlock();
        }
    }

    /** Writes a finished action's line; a failure is logged (once per run of failures), never thrown. */
    public void record(AuditEntry entry, Object status) {
        try {
            write(entry, status);
        } catch (AuditException e) {
            // Logged by writeLocked.
        }
    }

    /** A refused request's line, rate-limited; never throws. */
    public void refused(AuditEntry entry, int status) {
        if (!enabled()) {
            return;
        }
        byte[] line = line(entry, status);
        lock.lock();
        try {
            long second = Math.floorDiv(clock.millis(), 1000);
            if (second != refusedSecond) {
                summaryLocked();
                refusedSecond = second;
                refusedInSecond = 0;
            }
            if (++refusedInSecond > REFUSED_PER_SECOND) {
                refusedSuppressed++;
                return;
            }
            writeLocked(line);
        } catch (AuditException e) {
            // Logged by writeLocked.
        } finally {
            lock.unlock();
        }
    }

    /** Writes the summary of refused requests left out during a second that is over. */
    public void flushRefused() {
        if (!enabled()) {
            return;
        }
        lock.lock();
        try {
            flushRefusedLocked();
        } catch (AuditException e) {
            // Logged by writeLocked.
        } finally {
            lock.unlock();
        }
    }

    private void flushRefusedLocked() {
        if (refusedSuppressed > 0 && Math.floorDiv(clock.millis(), 1000) != refusedSecond) {
            summaryLocked();
        }
    }

    /** The summary line of the current second's suppressed refusals, if any. */
    private void summaryLocked() {
        if (refusedSuppressed == 0) {
            return;
        }
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("time", TIME.format(clock.instant()));
        summary.put("event", "refused_summary");
        summary.put("second", TIME.format(Instant.ofEpochSecond(refusedSecond)));
        summary.put("logged", REFUSED_PER_SECOND);
        summary.put("suppressed", refusedSuppressed);
        refusedSuppressed = 0;
        writeLocked(bytes(summary));
    }

    private Segment writeLocked(byte[] line) {
        if (current == null) {
            throw new AuditException("audit log " + file + " is closed", null);
        }
        long before = current.size;
        try {
            if (current.size > 0 && current.size + line.length > maxBytes) {
                rotateLocked();
                before = 0;
            }
            ByteBuffer bytes = ByteBuffer.wrap(line);
            while (bytes.hasRemaining()) {
                current.channel.write(bytes, before + bytes.position());
            }
            current.size = before + line.length;
            if (failing) {
                failing = false;
                LOG.log(WARNING, "audit log " + file + " is written again");
            }
            return current;
        } catch (IOException e) {
            undoPartialWrite(before);
            if (!failing) {
                failing = true;
                LOG.log(WARNING, "audit log " + file + ": cannot write (starts and stops are refused until it can): " + e);
            }
            throw new AuditException("the audit log cannot be written: " + e.getMessage(), e);
        }
    }

    /** A half-written line is cut off, so the file stays one JSON object a line. */
    private void undoPartialWrite(long size) {
        try {
            if (current.channel.size() > size) {
                current.channel.truncate(size);
            }
        } catch (IOException ignored) {
            // The next line is written at `size` anyway, over whatever is there.
        }
    }

    private void rotateLocked() throws IOException {
        Path older = file.resolveSibling(file.getFileName() + ".1");
        Files.move(file, older, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        Segment rotated = current;
        rotated.rotated = true;
        try {
            current = segment(file);
        } catch (IOException e) {
            // Keep writing to the renamed file rather than nowhere; the next line retries.
            rotated.rotated = false;
            throw e;
        }
        closeIfDone(rotated);
    }

    private static void closeIfDone(Segment segment) {
        if (segment.rotated && segment.pending == 0) {
            try {
                segment.channel.close();
            } catch (IOException ignored) {
                // Nothing more is written to it.
            }
        }
    }

    private static Segment segment(Path file) throws IOException {
        try {
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (FileAlreadyExistsException e) {
            // Appended to.
        }
        FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE);
        return new Segment(channel, channel.size());
    }

    private byte[] line(AuditEntry entry, Object status) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("time", TIME.format(clock.instant()));
        line.put("event", entry.event());
        line.put("who", entry.who());
        line.put("from", entry.from());
        line.put("method", entry.method());
        line.put("route", entry.route());
        line.put("worker_id", entry.workerId());
        line.put("address", entry.address());
        line.put("command", entry.command());
        line.put("path", entry.path());
        line.put("args", entry.args());
        line.put("env", entry.env());
        line.put("status", status);
        line.put("job_id", entry.jobId());
        return bytes(line);
    }

    private static String json(String value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a string is always JSON", e);
        }
    }

    private static byte[] bytes(Map<String, Object> line) {
        try {
            return (JSON.writeValueAsString(line) + "\n").getBytes(StandardCharsets.UTF_8);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a map of strings is always JSON", e);
        }
    }

    /** Writes any pending refusal summary and closes the file. */
    @Override
    public void close() {
        if (!enabled()) {
            return;
        }
        lock.lock();
        try {
            if (current == null) {
                return;
            }
            try {
                summaryLocked();
            } catch (AuditException e) {
                // Logged by writeLocked.
            }
            try {
                current.channel.close();
            } catch (IOException ignored) {
                // Nothing more is written.
            }
            current = null;
        } finally {
            lock.unlock();
        }
    }
}
