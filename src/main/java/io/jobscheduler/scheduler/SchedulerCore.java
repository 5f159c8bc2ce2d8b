package io.jobscheduler.scheduler;

import io.jobscheduler.config.SchedulerSettings;
import java.time.Clock;
import java.time.Duration;

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

    private SchedulerCore(WorkerRegistry registry, JobGateway gateway, Duration sweepPeriod) {
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
        JobTable table = new JobTable(settings.jobIndexSize(), meters);
        WorkerWatch watch = new WorkerWatch(settings.workerTtl(), settings.workerExpiry(), clock,
                new JobSync(table, settings.callTimeout(), clock), meters);
        WorkerRegistry registry = new WorkerRegistry(clock, new WorkerConnections.Factory(settings.workerTls(), meters),
                watch, observer);
        JobGateway gateway = new JobGateway(registry, table, settings.callTimeout(), settings.stopTimeout(), clock,
                meters);
        return new SchedulerCore(registry, gateway, watch.sweepPeriod());
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
    }
}
