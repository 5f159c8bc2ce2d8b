package io.jobscheduler.scheduler.store;

import java.io.IOException;
import java.util.List;

/**
 * The scheduler's durable state (the queue, where dispatched jobs went, idempotency keys) as an
 * ordered stream of {@link StoreRecord}s: the one interface it goes through, so another
 * implementation (ZooKeeper: a sequential znode per record, a multi-op for {@link #replaceAll})
 * needs nothing else changed. {@link JournalStore} keeps it in a local file; {@link MemoryStore}
 * keeps nothing across a restart (tests, and a scheduler run without a data folder).
 *
 * <p>{@link #append} and {@link #replaceAll} only order the change and return at once, so the
 * owner may call them under its own lock (the order of the records is the order of its changes);
 * the owner then waits for durability with {@link Commit#await} outside every lock.
 */
public interface SchedulerStore extends AutoCloseable {
    /** Every record kept, oldest first; called once, before the first append. */
    List<StoreRecord> load() throws IOException;

    /** Orders a record after every one before it. */
    Commit append(StoreRecord record);

    /** Orders the replacement of everything before it by {@code live} (compaction); records after it stay. */
    Commit replaceAll(List<StoreRecord> live);

    /** How many records the stream holds now: the owner compacts when it is well beyond what is live. */
    long size();

    @Override
    void close();

    /** A change ordered in the store; {@link #await} returns once it is durable. */
    interface Commit {
        Commit DONE = () -> { };

        void await() throws IOException, InterruptedException;
    }
}
