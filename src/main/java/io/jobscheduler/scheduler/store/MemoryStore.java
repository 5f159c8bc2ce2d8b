package io.jobscheduler.scheduler.store;

import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/** A store that keeps nothing across a restart: for tests, and a scheduler run without a data folder. */
public final class MemoryStore implements SchedulerStore {
    private final AtomicLong size = new AtomicLong();

    @Override
    public List<StoreRecord> load() {
        return List.of();
    }

    @Override
    public Commit append(StoreRecord record) {
        size.incrementAndGet();
        return Commit.DONE;
    }

    @Override
    public Commit replaceAll(List<StoreRecord> live) {
        size.set(live.size());
        return Commit.DONE;
    }

    @Override
    public long size() {
        return size.get();
    }

    @Override
    public void close() {
    }
}
