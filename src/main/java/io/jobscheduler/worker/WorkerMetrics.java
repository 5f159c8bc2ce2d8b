package io.jobscheduler.worker;

import io.helidon.metrics.api.Counter;
import io.helidon.metrics.api.Gauge;
import io.helidon.metrics.api.Timer;
import io.jobscheduler.observe.Meters;
import io.jobscheduler.worker.job.JobRunner;
import io.jobscheduler.worker.job.RunnerMeters;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A worker's meters, served on its {@code [observe] addr} socket (README, "Observability"):
 * running jobs, spawn latency, output bytes written, free bytes where {@code data_dir} is.
 */
final class WorkerMetrics implements RunnerMeters, AutoCloseable {
    private final Meters meters;
    private final Timer spawn;
    private final Counter outputWritten;
    private final List<Gauge<Double>> gauges = new CopyOnWriteArrayList<>();

    WorkerMetrics(Meters meters) {
        this.meters = meters;
        spawn = meters.timer("jobscheduler_worker_spawn_duration",
                "Time to spawn a job's process (posix_spawn, and joining its cgroup where jobs have one)");
        outputWritten = meters.byteCounter("jobscheduler_worker_output_written_bytes",
                "Bytes of job output appended to the output logs in data_dir");
    }

    /** Publishes {@code runner}'s running jobs and the free space of the file system {@code dataDir} is on. */
    void watch(JobRunner runner, Path dataDir) {
        FileStore store;
        try {
            store = Files.getFileStore(dataDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot use data_dir " + dataDir + ": " + e.getMessage(), e);
        }
        gauges.add(meters.gauge("jobscheduler_worker_jobs_running", "Jobs running on this worker", runner::runningCount));
        gauges.add(meters.byteGauge("jobscheduler_worker_data_dir_free_bytes",
                "Bytes this worker's user may still write on the file system of data_dir (-1 if it cannot be read)", () -> {
                    try {
                        return store.getUsableSpace();
                    } catch (IOException e) {
                        return -1;
                    }
                }));
    }

    @Override
    public void spawned(Duration took) {
        spawn.record(took);
    }

    @Override
    public void outputWritten(long bytes) {
        outputWritten.increment(bytes);
    }

    /** Removes the gauges, which read this worker's state. */
    @Override
    public void close() {
        gauges.forEach(meters::remove);
        gauges.clear();
    }
}
