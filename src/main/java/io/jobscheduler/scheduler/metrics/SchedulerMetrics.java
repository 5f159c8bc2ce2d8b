package io.jobscheduler.scheduler.metrics;

import io.grpc.Status;
import io.helidon.metrics.api.Counter;
import io.helidon.metrics.api.Gauge;
import io.helidon.metrics.api.Timer;
import io.jobscheduler.observe.Meters;
import io.jobscheduler.scheduler.JobState;
import io.jobscheduler.scheduler.SchedulerMeters;
import io.jobscheduler.scheduler.WorkerRegistry;
import io.jobscheduler.scheduler.http.RequestMeter;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * The scheduler's meters, served on {@code /observe/metrics} (README, "Observability", lists
 * them). Labels are few and bounded: job states, worker states, the proto's method names, gRPC
 * codes, the route table's templates and HTTP status codes.
 */
public final class SchedulerMetrics implements SchedulerMeters, RequestMeter, AutoCloseable {
    /**
     * The gauge {@code jobscheduler_jobs_queued} reads this until the scheduler has a queue; wire
     * the queue's length here ({@link #queuedJobs(Supplier)}).
     */
    public static final Supplier<Integer> NO_QUEUE = () -> 0;

    private final Meters meters;
    private final Counter started;
    private final Timer startLatency;
    private final Map<JobState, Counter> ended = new EnumMap<>(JobState.class);
    private final Counter heartbeatsMissed;
    private final Counter outputBytes;
    private final Map<String, Counter> workerCalls = new ConcurrentHashMap<>();
    private final Map<String, Timer> requests = new ConcurrentHashMap<>();
    private final List<Gauge<Double>> gauges = new CopyOnWriteArrayList<>();

    public SchedulerMetrics(Meters meters) {
        this.meters = meters;
        started = meters.counter("jobscheduler_jobs_started", "Jobs a worker started through this scheduler");
        startLatency = meters.timer("jobscheduler_job_start_duration",
                "Time from sending StartJob to the worker's answer, of the starts that succeeded");
        for (JobState state : JobState.values()) {
            if (state.done() && state != JobState.LOST) {
                ended.put(state, meters.counter("jobscheduler_jobs_ended",
                        "Jobs this scheduler saw end, by end state", "state", state.name()));
            }
        }
        heartbeatsMissed = meters.counter("jobscheduler_worker_heartbeats_missed",
                "Times a worker sent no heartbeat for its time-to-live and was marked down");
        outputBytes = meters.byteCounter("jobscheduler_output_streamed_bytes",
                "Bytes of job output passed on to HTTP clients");
    }

    /** Publishes the number of workers in each state, read from {@code registry} at every scrape. */
    public void workers(WorkerRegistry registry) {
        for (WorkerRegistry.State state : WorkerRegistry.State.values()) {
            gauges.add(meters.gauge("jobscheduler_workers", "Registered workers, by state",
                    () -> registry.overview().stream().filter(w -> w.health().state() == state).count(),
                    "state", state.name().toLowerCase(Locale.ROOT)));
        }
    }

    /** Publishes the number of jobs waiting for a worker; {@link #NO_QUEUE} until there is a queue. */
    public void queuedJobs(Supplier<? extends Number> queued) {
        gauges.add(meters.gauge("jobscheduler_jobs_queued", "Jobs waiting for a worker to start them", queued));
    }

    /** Removes the gauges, which read this scheduler's state (counters stay: they count for the process). */
    @Override
    public void close() {
        gauges.forEach(meters::remove);
        gauges.clear();
    }

    @Override
    public void jobStarted(Duration latency) {
        started.increment();
        startLatency.record(latency);
    }

    @Override
    public void jobEnded(JobState state) {
        Counter counter = ended.get(state);
        if (counter != null) {
            counter.increment();
        }
    }

    @Override
    public void outputStreamed(long bytes) {
        outputBytes.increment(bytes);
    }

    @Override
    public void heartbeatMissed() {
        heartbeatsMissed.increment();
    }

    @Override
    public void workerCall(String method, Status.Code code) {
        workerCalls.computeIfAbsent(method + " " + code, key -> meters.counter("jobscheduler_worker_calls",
                "Calls to workers, by gRPC method and status", "method", method, "code", code.name())).increment();
    }

    @Override
    public void served(String method, String route, int status, Duration took) {
        requests.computeIfAbsent(method + " " + route + " " + status, key -> meters.timer("jobscheduler_http_request_duration",
                "HTTP requests answered, by method, route template and status: time from the request to the last byte sent",
                "method", method, "route", route, "status", String.valueOf(status))).record(took);
    }
}
