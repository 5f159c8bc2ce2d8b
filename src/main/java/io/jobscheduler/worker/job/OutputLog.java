package io.jobscheduler.worker.job;

import java.io.EOFException;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The output of one job: exact bytes in a file, appended by one writer, read by any number of
 * readers from any offset. Readers read the file with positional reads outside the lock, so a
 * slow reader never holds up the writer or another reader; a follower waits on a condition the
 * writer signals after every append and when the output is complete.
 */
public final class OutputLog {
    /** The largest chunk {@link Reader#read} returns. */
    public static final int MAX_CHUNK = 64 * 1024;

    private final Path file;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private long length;            // guarded by lock: bytes readable in the file
    private boolean complete;       // guarded by lock
    private IOException failure;    // guarded by lock: why appending stopped, if it did
    private FileChannel writer;     // touched by the single writer only

    private OutputLog(Path file, long length, boolean complete, FileChannel writer) {
        this.file = file;
        this.length = length;
        this.complete = complete;
        this.writer = writer;
    }

    /** A new, empty, open log in a file that must not exist yet. */
    static OutputLog create(Path file) throws IOException {
        FileChannel writer = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND);
        return new OutputLog(file, 0, false, writer);
    }

    /** The complete log of a job that ended earlier (or in an earlier worker process). */
    static OutputLog completed(Path file) throws IOException {
        long size = Files.exists(file) ? Files.size(file) : 0;
        return new OutputLog(file, size, true, null);
    }

    /**
     * A reader with its own open file, for a stream that reads many chunks. A follower blocked in
     * it is woken by {@link Reader#cancel()}, never by an interrupt: interrupting a thread that
     * may be writing to a socket closes that socket, and with it every stream sharing it.
     */
    public Reader reader() throws IOException {
        return new Reader(FileChannel.open(file, StandardOpenOption.READ));
    }

    /** Reads one log from any offset; see {@link #reader()}. Not for concurrent use by several threads. */
    public final class Reader implements AutoCloseable {
        private final FileChannel channel;
        private boolean cancelled;      // guarded by the log's lock
        private Arena arena;            // of the shared buffer, made on first use
        private ByteBuffer shared;

        private Reader(FileChannel channel) {
            this.channel = channel;
        }

        /**
         * Up to {@code maxBytes} (at most {@link #MAX_CHUNK}) from {@code offset}, in this reader's
         * own buffer: native memory, so the file is read straight into it, and no allocation per
         * chunk. What it returns holds until the next call or {@link #close()}; it is empty at the
         * end of a complete log (or, without follow, at the current end). With follow, waits
         * (interruptibly) until bytes exist beyond {@code offset}, the output is complete, or the
         * reader is cancelled.
         *
         * @throws CancellationException once {@link #cancel()} was called
         */
        public ByteBuffer read(long offset, int maxBytes, boolean follow) throws IOException, InterruptedException {
            int n = await(offset, maxBytes, follow);
            if (shared == null) {
                arena = Arena.ofShared();
                shared = arena.allocate(MAX_CHUNK).asByteBuffer();
            }
            shared.clear().limit(n);
            fill(shared, offset);
            return shared.flip();
        }

        /** Bytes to read at {@code offset} (0 at the end), waiting for them when following. */
        private int await(long offset, int maxBytes, boolean follow) throws IOException, InterruptedException {
            if (offset < 0) {
                throw new IllegalArgumentException("offset must not be negative: " + offset);
            }
            if (maxBytes <= 0) {
                throw new IllegalArgumentException("maxBytes must be positive: " + maxBytes);
            }
            long available;
            lock.lockInterruptibly();
            try {
                while (length <= offset || cancelled) {
                    if (cancelled) {
                        throw new CancellationException("reader cancelled");
                    }
                    if (failure != null) {
                        throw new IOException(JobReports.outputCut(length, failure), failure);
                    }
                    if (complete || !follow) {
                        return 0;
                    }
                    changed.await();
                }
                available = length - offset;
            } finally {
                lock.unlock();
            }
            return (int) Math.min(available, Math.min(maxBytes, MAX_CHUNK));
        }

        /** Fills {@code buffer} (from its position 0 to its limit) with the file's bytes from {@code offset}. */
        private void fill(ByteBuffer buffer, long offset) throws IOException {
            while (buffer.hasRemaining()) {
                if (channel.read(buffer, offset + buffer.position()) < 0) {
                    throw new EOFException("output file " + file + " is shorter than " + (offset + buffer.limit()) + " bytes");
                }
            }
        }

        /** Wakes a follower waiting in {@link #read}, which then throws CancellationException. */
        public void cancel() {
            lock.lock();
            try {
                cancelled = true;
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }

        @Override
        public void close() throws IOException {
            try {
                channel.close();
            } finally {
                if (arena != null) {
                    arena.close();
                    arena = null;
                    shared = null;
                }
            }
        }
    }

    /** Bytes readable now. */
    public long length() {
        lock.lock();
        try {
            return length;
        } finally {
            lock.unlock();
        }
    }

    /** True once the job's output has ended: no byte will be added. */
    public boolean complete() {
        lock.lock();
        try {
            return complete;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Appends bytes and wakes followers; for the single writer. A write failure ends appending:
     * what was written stays readable, followers get the failure once they have read it all, and
     * this and every later call answer it (the bytes were not stored).
     */
    Optional<IOException> append(ByteBuffer bytes) {
        if (writer == null) {
            return Optional.ofNullable(failure());
        }
        long written = 0;
        IOException failed = null;
        try {
            while (bytes.hasRemaining()) {
                written += writer.write(bytes);
            }
        } catch (IOException e) {
            failed = e;
            closeWriter();
        }
        lock.lock();
        try {
            length += written;
            if (failed != null) {
                failure = failed;
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        return Optional.ofNullable(failed);
    }

    private IOException failure() {
        lock.lock();
        try {
            return failure;
        } finally {
            lock.unlock();
        }
    }

    /** The job's output has ended; followers see the end. */
    void markComplete() {
        closeWriter();
        lock.lock();
        try {
            complete = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    void closeWriter() {
        if (writer != null) {
            try {
                writer.close();
            } catch (IOException ignored) {
                // Nothing was buffered in the JVM; the bytes already written stay readable.
            }
            writer = null;
        }
    }

    Path file() {
        return file;
    }
}
