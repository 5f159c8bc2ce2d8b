package io.jobscheduler.worker.job;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;

/** Runners for tests outside this package that need one the real driver cannot give. */
public final class TestRunners {
    private TestRunners() {
    }

    /**
     * A runner whose driver fails to set a spawn up the way {@link ProcessSpawner} does when a
     * {@code posix_spawnattr_init} fails: with the worker's own error, not the command's.
     */
    public static JobRunner withFailingSpawnSetUp(Path data) throws IOException {
        return new JobRunner(JobShaper.open(data), () -> "", data, Duration.ofMillis(100), 100, 1L << 20, new EventLog(),
                new ProcessDriver() {
            @Override
            public Started start(Launch launch) {
                throw new IllegalStateException("posix_spawnattr_init failed: error 12");
            }

            @Override
            public void recover(int pgid, long startTicks) {
            }

            @Override
            public void close() {
            }
        });
    }
}
