package io.jobscheduler.scheduler;

import io.jobscheduler.config.SchedulerSettings;
import java.time.Clock;
import java.time.Duration;
import io.jobscheduler.scheduler.store.JournalStore;
import io.jobscheduler.scheduler.store.MemoryStore;
import io.jobscheduler.scheduler.store.SchedulerStore;
import io.jobscheduler.scheduler.store.StoreRecord;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * The scheduler's state and operations without its sockets: the worker registry (with each
 * worker's watch) and the job gateway over the job table, wired once. {@link SchedulerServer}
 * serves it; in-JVM tests serve it through the same routing ({@code SchedulerHttp.routing}).
 * Liveness sweeps are the owner's to run ({@link #sweep}, every {@link #sweepPeriod}).
 */
public final class SchedulerCore implements AutoCloseable {
    private final WorkerRegistry registry;
    private final JobGateway gateway;
    private final Duration sweepPeriod;

    private final SchedulerStore store;

    private SchedulerCore(WorkerRegistry registry, JobGateway gateway, Duration sweepPeriod, SchedulerStore store) {
        this.store = store;
        this.registry = registry;
        this.gateway = gateway;
        this.sweepPeriod = sweepPeriod;
    }

    /** A core with an empty registry; {@code observer} is told of every worker that joins. */
    public static SchedulerCore create(SchedulerSettings settings, Clock clock, WorkerRegistry.Listener observer) {
        return create(settings, clock, observer, SchedulerMeters.NONE);
    }

    /** As {@link #create(SchedulerSettings, Clock, WorkerRegistry.Listener)}, telling {@code meters} what happens. */
    public static SchedulerCore create(SchedulerSettings settings, Clock clock, WorkerRegistry.Listener observer,
                                       SchedulerMeters meters) {
        // Whatever frees room (a job's end, a worker joining, returning, resuming) wakes placement.
        Wakeup placement = new Wakeup();
        JobTable table = new JobTable(settings.jobIndexSize(), meters, placement::wake);
        WorkerWatch watch = new WorkerWatch(settings.workerTtl(), settings.workerExpiry(), clock,
                new JobSync(table, settings.callTimeout(), clock), meters, placement);
        WorkerRegistry registry = new WorkerRegistry(clock, new WorkerConnections.Factory(settings.workerTls(), meters),
                watch, new WorkerRegistry.Listener() {
                    @Override
                    public void added(WorkerRecord worker) {
                        observer.added(worker);
                        placement.wake();
                    }
                });
        SchedulerStore store = settings.storeDir().<SchedulerStore>map(JournalStore::new).orElseGet(MemoryStore::new);
        List<StoreRecord> journal;
        try {
            journal = store.load();
        } catch (IOException e) {
            store.close();
            registry.close();
            throw new UncheckedIOException("store.data_dir " + settings.storeDir().orElseThrow() + ": " + e.getMessage(), e);
        }
        // After a restart, dispatch waits for the workers it knew: three time-to-lives at most.
        JobGateway gateway = new JobGateway(registry, table, settings.callTimeout(), settings.stopTimeout(), clock,
                meters, new JobGateway.Queueing(settings.maxQueued(), placement, store, journal,
                        settings.workerTtl().multipliedBy(3), settings.idempotencyTtl()));
        return new SchedulerCore(registry, gateway, watch.sweepPeriod(), store);
    }

    public WorkerRegistry registry() {
        return registry;
    }

    public JobGateway gateway() {
        return gateway;
    }

    /** How often {@link #sweep} should run. */
    public Duration sweepPeriod() {
        return sweepPeriod;
    }

    /** One liveness pass over every worker ({@link WorkerRegistry#sweep}). */
    public void sweep() {
        registry.sweep();
    }

    /** Ends output streams and closes every worker's watch and channels. */
    @Override
    public void close() {
        gateway.endStreams();
        registry.close();
        store.close();
    }
}
