package io.jobscheduler.worker.job;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Commands that cannot start, with real spawns: each error named in words, none left behind. */
class SpawnErrorsTest {
    @TempDir
    Path work;
    @TempDir
    Path data;
    private JobRunner runner;

    @BeforeEach
    void open() throws Exception {
        runner = new JobRunner(work, data, Duration.ofMillis(300), 100, 1L << 30);
    }

    @AfterEach
    void close() {
        runner.close();
    }

    private String refusal(String command, String path) throws Exception {
        SpawnException e = assertThrows(SpawnException.class, () -> runner.start(command, path));
        assertFalse(e.workerExhausted(), e.getMessage());
        assertTrue(runner.list().isEmpty(), "a job that never started is not listed");
        try (var left = Files.list(data.resolve("jobs"))) {
            assertEquals(0, left.count(), "a failed start leaves no folder");
        }
        return e.getMessage();
    }

    @Test
    void anArgumentLongerThanTheKernelTakesIsRefusedBeforeTheSpawnNamingIt() throws Exception {
        // The kernel's bound is 128 KiB per string (E2BIG); JobShaper refuses it first, naming it.
        var e = assertThrows(StartRefusedException.class, () -> runner.start("echo", "a".repeat(200_000)));
        assertEquals(StartRefusedException.Reason.INVALID, e.reason());
        assertEquals("path: 200000 bytes, at most 131071", e.getMessage());
        try (var left = Files.list(data.resolve("jobs"))) {
            assertEquals(0, left.count(), "a refused start leaves no folder");
        }
    }

    @Test
    void aPathThroughAFileIsNotADirectory() throws Exception {
        Files.writeString(work.resolve("plain"), "x");
        assertEquals("cannot start ./plain/run: not a directory (ENOTDIR)", refusal("./plain/run", ""));
    }

    @Test
    void aSymbolicLinkLoopIsNamed() throws Exception {
        Files.createSymbolicLink(work.resolve("loop"), work.resolve("loop"));
        assertEquals("cannot start ./loop: too many levels of symbolic links (ELOOP)", refusal("./loop", ""));
    }

    @Test
    void aFileNameTooLongIsNamed() throws Exception {
        // One component beyond NAME_MAX (255).
        String name = "./" + "n".repeat(300);
        assertEquals("cannot start " + name.substring(0, 200) + "… (302 characters): file name too long (ENAMETOOLONG)",
                refusal(name, ""));
    }

    @Test
    void aLongCommandIsQuotedShortenedSoTheReasonIsRead() throws Exception {
        String name = "./" + "m".repeat(5_000);
        assertEquals("cannot start " + name.substring(0, 200) + "… (5002 characters): file name too long (ENAMETOOLONG)",
                refusal(name, ""));
        assertEquals("x".repeat(199) + "… (401 characters)", ProcessSpawner.quoted("x".repeat(199) + "\uD83D\uDE00".repeat(101)));
    }

    @Test
    void aDirectoryIsNotExecutable() throws Exception {
        Files.createDirectory(work.resolve("folder"));
        assertEquals("cannot start ./folder: permission denied (EACCES)", refusal("./folder", ""));
    }
}
