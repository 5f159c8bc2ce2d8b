package io.jobscheduler.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code [jobs] max_running} and {@code [labels]} in worker.toml; {@code [queue] max_size} in config.toml. */
class WorkerCapacityConfigTest {
    @TempDir
    Path dir;

    private WorkerSettings worker(String toml) throws IOException {
        Files.writeString(dir.resolve("worker.toml"), toml);
        var config = new ConfigLoader(WorkerSettings.SCHEMA, Map.of(), dir).load(Optional.empty(),
                WorkerSettings.FILE_NAME, Map.of());
        return WorkerSettings.from(config, dir);
    }

    @Test
    void byDefaultAWorkerIsUnlimitedAndHasNoLabels() throws IOException {
        WorkerCapacity capacity = worker("").capacity();
        assertEquals(0, capacity.maxRunning());
        assertEquals(Map.of(), capacity.labels());
    }

    @Test
    void maxRunningAndLabelsAreRead() throws IOException {
        WorkerCapacity capacity = worker("[jobs]\nmax_running = 8\n[labels]\nzone = \"a\"\ngpu-kind = \"t4\"\n").capacity();
        assertEquals(8, capacity.maxRunning());
        assertEquals(Map.of("zone", "a", "gpu-kind", "t4"), capacity.labels());
    }

    @Test
    void aLabelThatIsNotAStringOrABadNameStopsStartUpNamingIt() {
        String notString = assertThrows(ConfigException.class, () -> worker("[labels]\nzone = 3\n")).getMessage();
        assertTrue(notString.contains("labels.zone") && notString.contains("string"), notString);
        String negation = assertThrows(ConfigException.class, () -> worker("[labels]\nzone = \"!a\"\n")).getMessage();
        assertTrue(negation.contains("labels.zone"), negation);
        String nested = assertThrows(ConfigException.class, () -> worker("[labels.deep]\nx = \"a\"\n")).getMessage();
        assertTrue(nested.contains("labels.deep"), nested);
        String negative = assertThrows(ConfigException.class, () -> worker("[jobs]\nmax_running = -1\n")).getMessage();
        assertTrue(negative.contains("max_running"), negative);
    }

    @Test
    void theQueueBoundIsRead() throws IOException {
        Files.writeString(dir.resolve("config.toml"), "[queue]\nmax_size = 7\n");
        var config = new ConfigLoader(SchedulerSettings.SCHEMA, Map.of(), dir).load(Optional.empty(),
                SchedulerSettings.FILE_NAME, Map.of());
        assertEquals(7, SchedulerSettings.from(config).maxQueued());
    }
}
