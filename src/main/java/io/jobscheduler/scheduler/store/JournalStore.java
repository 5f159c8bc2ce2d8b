package io.jobscheduler.scheduler.store;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.zip.CRC32C;

/**
 * The local {@link SchedulerStore}: an append-only journal file in {@code [store] data_dir}.
 * Each record is a frame {@code length (4 bytes) | CRC32C of length and payload (4) | payload
 * (JSON)}. On load, the first frame that is short or fails its CRC ends the journal: a torn tail
 * (a crash mid-write) is cut off there, and nothing after it is trusted.
 *
 * <p>Group commit: appends only queue their frame; the first waiter becomes the leader, writes
 * every queued frame and syncs the file once for all of them (outside the lock), while the others
 * wait for it. A {@link #replaceAll} in the batch writes the live records to a new file, syncs it,
 * renames it over the journal and syncs the folder, so a crash leaves the old journal or the new
 * one, never neither. The folder is synced when the journal is created too. The first failure to
 * write is sticky: every later wait throws it, since what follows may not be on disk.
 *
 * <p>A record nobody waits for is written behind: an append with no write under way starts a
 * background writer, which leads batches until nothing is pending. So every record reaches the
 * file (and survives a crash of the process) within a batch or two, and is synced with it, without
 * making its owner wait; {@link #close} writes what is left.
 */
public final class JournalStore implements SchedulerStore {
    private static final System.Logger LOG = System.getLogger(JournalStore.class.getName());
    static final String FILE = "journal";
    private static final String NEXT = "journal.next";
    /** A frame longer than this is corruption, not a record. */
    private static final int MAX_RECORD = 16 << 20;
    private static final int HEADER = 8;

    private final Path dir;
    private final ObjectMapper json = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition written = lock.newCondition();
    private final List<Object> pending = new ArrayList<>();   // guarded by lock: frames (byte[]) and Compactions
    private long ordered;                                      // guarded by lock: tickets handed out
    private long durable;                                      // guarded by lock: tickets on disk
    private boolean leading;                                   // guarded by lock: a leader is writing
    private IOException failure;                               // guarded by lock: sticky
    private long size;                                         // guarded by lock
    private boolean closed;                                    // guarded by lock
    private boolean writingBehind;                             // guarded by lock: the background writer runs
    /** Touched only by the leader (one at a time), or before the first append, or at close. */
    private FileChannel channel;
    private FileLock owner;

    private record Compaction(List<byte[]> frames) {
    }

    public JournalStore(Path dir) {
        this.dir = dir;
    }

    @Override
    public List<StoreRecord> load() throws IOException {
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir);
            syncFolder(dir.toAbsolutePath().getParent());
        }
        Path file = dir.resolve(FILE);
        boolean created = !Files.exists(file);
        channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
        try {
            owner = channel.tryLock();
        } catch (java.nio.channels.OverlappingFileLockException e) {
            owner = null;   // held by this process: another scheduler in this JVM
        }
        if (owner == null) {
            channel.close();
            throw new IOException(dir + " is in use by another scheduler");
        }
        if (created) {
            syncFolder(dir);
        }
        Files.deleteIfExists(dir.resolve(NEXT));   // a compaction that never reached its rename
        byte[] all = new byte[(int) channel.size()];
        ByteBuffer into = ByteBuffer.wrap(all);
        while (into.hasRemaining() && channel.read(into, into.position()) >= 0) {
            // Read it all: positional reads, the append position is set below.
        }
        List<StoreRecord> records = new ArrayList<>();
        int good = 0;
        ByteBuffer frames = ByteBuffer.wrap(all);
        while (frames.remaining() >= HEADER) {
            int length = frames.getInt(good);
            int crc = frames.getInt(good + 4);
            if (length < 0 || length > MAX_RECORD || frames.limit() - good - HEADER < length
                    || crc(all, good, length) != crc) {
                break;
            }
            try {
                records.add(json.readValue(all, good + HEADER, length, StoreRecord.class));
            } catch (IOException e) {
                break;   // a frame that checks but does not parse: a writer of another version
            }
            good += HEADER + length;
            frames.position(good);
        }
        if (good < all.length) {
            LOG.log(System.Logger.Level.WARNING, "journal " + file
                    + ": cut off a torn or corrupt tail of " + (all.length - good) + " bytes after "
                    + records.size() + " records");
            channel.truncate(good);
            channel.force(true);
        }
        channel.position(good);
        lock.lock();
        try {
            size = records.size();
        } finally {
            lock.unlock();
        }
        return records;
    }

    /** CRC32C of a frame's length field and payload. */
    private static int crc(byte[] all, int frame, int length) {
        CRC32C crc = new CRC32C();
        crc.update(all, frame, 4);
        crc.update(all, frame + HEADER, length);
        return (int) crc.getValue();
    }

    private byte[] frame(StoreRecord record) {
        byte[] payload;
        try {
            payload = json.writeValueAsBytes(record);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ByteBuffer frame = ByteBuffer.allocate(HEADER + payload.length);
        frame.putInt(payload.length).putInt(0).put(payload);
        byte[] bytes = frame.array();
        ByteBuffer.wrap(bytes).putInt(4, crc(bytes, 0, payload.length));
        return bytes;
    }

    @Override
    public Commit append(StoreRecord record) {
        return order(frame(record), 1);
    }

    @Override
    public Commit replaceAll(List<StoreRecord> live) {
        return order(new Compaction(live.stream().map(this::frame).toList()), live.size());
    }

    private Commit order(Object item, long records) {
        long ticket;
        boolean startWriter = false;
        lock.lock();
        try {
            if (closed) {
                return () -> {
                    throw new IOException("the store is closed");
                };
            }
            pending.add(item);
            ticket = ++ordered;
            size = item instanceof Compaction ? records : size + records;
            if (!writingBehind && failure == null) {
                writingBehind = startWriter = true;
            }
        } finally {
            lock.unlock();
        }
        if (startWriter) {
            Thread.ofVirtual().name("journal-writer").start(this::writeBehind);
        }
        return () -> await(ticket);
    }

    /** The background writer: leads (or waits for) batches until every record ordered is durable. */
    private void writeBehind() {
        while (true) {
            long upTo;
            lock.lock();
            try {
                // Cleared under the lock that orders appends: an append after this starts a new writer.
                if (closed || failure != null || durable >= ordered) {
                    writingBehind = false;
                    return;
                }
                upTo = ordered;
            } finally {
                lock.unlock();
            }
            try {
                await(upTo);
            } catch (IOException e) {
                // Sticky: the next waiter is told; the loop ends at the check above.
                LOG.log(System.Logger.Level.ERROR,
                        "cannot write the journal in " + dir + ": " + e.getMessage());
            } catch (InterruptedException e) {
                lock.lock();
                try {
                    writingBehind = false;
                } finally {
                    lock.unlock();
                }
                return;
            }
        }
    }

    @Override
    public long size() {
        lock.lock();
        try {
            return size;
        } finally {
            lock.unlock();
        }
    }

    private void await(long ticket) throws IOException, InterruptedException {
        lock.lock();
        try {
            while (durable < ticket) {
                if (failure != null) {
                    throw failure;
                }
                if (leading) {
                    written.await();
                    continue;
                }
                leading = true;
                List<Object> batch = new ArrayList<>(pending);
                pending.clear();
                long upTo = ordered;
                lock.unlock();
                IOException failed = null;
                try {
                    write(batch);
                } catch (IOException e) {
                    failed = e;
                } finally {
                    lock.lock();
                }
                leading = false;
                if (failed != null) {
                    failure = failed;
                } else {
                    durable = upTo;
                }
                written.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** Writes a batch and syncs it once; only the leader calls this, under no lock. */
    private void write(List<Object> batch) throws IOException {
        int start = 0;
        for (int i = 0; i < batch.size(); i++) {
            if (batch.get(i) instanceof Compaction) {
                start = i;   // everything before the last compaction is replaced by it
            }
        }
        FileChannel target = channel;
        Path next = dir.resolve(NEXT);
        boolean compacting = batch.get(start) instanceof Compaction;
        if (compacting) {
            target = FileChannel.open(next, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                    StandardOpenOption.WRITE);
        }
        List<ByteBuffer> buffers = new ArrayList<>();
        for (Object item : batch.subList(start, batch.size())) {
            if (item instanceof Compaction c) {
                c.frames().forEach(f -> buffers.add(ByteBuffer.wrap(f)));
            } else {
                buffers.add(ByteBuffer.wrap((byte[]) item));
            }
        }
        ByteBuffer[] all = buffers.toArray(ByteBuffer[]::new);
        long left = buffers.stream().mapToLong(ByteBuffer::remaining).sum();
        while (left > 0) {
            left -= target.write(all);
        }
        target.force(false);
        if (compacting) {
            Files.move(next, dir.resolve(FILE), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            syncFolder(dir);
            FileChannel old = channel;
            channel = target;
            owner.release();
            owner = channel.tryLock();
            old.close();
        }
    }

    private static void syncFolder(Path folder) throws IOException {
        try (FileChannel f = FileChannel.open(folder, StandardOpenOption.READ)) {
            f.force(true);
        }
    }

    @Override
    public void close() {
        long upTo;
        lock.lock();
        try {
            upTo = ordered;
        } finally {
            lock.unlock();
        }
        try {
            await(upTo);   // what was written behind and is not on disk yet
        } catch (IOException e) {
            // Already logged by the writer, or told to the waiter it belonged to.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        lock.lock();
        try {
            closed = true;
            while (leading) {
                written.awaitUninterruptibly();
            }
        } finally {
            lock.unlock();
        }
        try {
            if (channel != null) {
                channel.close();   // releases the lock on it
            }
        } catch (IOException e) {
            // Nothing is left to write: every commit either returned or is reported to its waiter.
        }
    }
}
