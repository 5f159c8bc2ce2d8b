package io.jobscheduler.scheduler.store;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JournalStoreTest {
    @TempDir
    Path dir;

    private static StoreRecord queued(int i) {
        return new StoreRecord.Queued("job-" + i, new StoreRecord.Start("sh", "x.sh", List.of("a"), Map.of("K", "v"), 0, "", Map.of("memory", 1L << 28, "cpu", 500L)),
                Map.of("zone", "a"), "", i % 3, i, 1_000 + i, null);
    }

    @Test
    void whatIsAppendedAndAwaitedIsLoadedAgainInOrder() throws Exception {
        Path data = dir.resolve("new/scheduler");
        try (JournalStore store = new JournalStore(data)) {
            assertEquals(List.of(), store.load(), "a new folder is made, empty");
            store.append(queued(1)).await();
            store.append(new StoreRecord.Dispatching("job-1", "w", null,
                    new StoreRecord.Key("anonymous", "k", "00", "job-1", 5))).await();
            store.append(new StoreRecord.Removed("job-1", "", "STOPPED", "why")).await();
        }
        try (JournalStore store = new JournalStore(data)) {
            List<StoreRecord> loaded = store.load();
            assertEquals(3, loaded.size());
            assertEquals(queued(1), loaded.get(0));
            assertEquals("anonymous", ((StoreRecord.Dispatching) loaded.get(1)).key().scope());
            assertEquals(new StoreRecord.Removed("job-1", "", "STOPPED", "why"), loaded.get(2));
        }
    }

    @Test
    void recordsNobodyWaitsForAreWrittenBehindAndReachTheFileWithoutAClose() throws Exception {
        Path data = dir.resolve("behind");
        Path copy = dir.resolve("copy");
        try (JournalStore store = new JournalStore(data)) {
            store.load();
            for (int i = 0; i < 50; i++) {
                store.append(queued(i));   // never awaited
            }
            // The process is still running, nothing closed: what a SIGKILL now would leave is the file.
            Path file = data.resolve(JournalStore.FILE);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            List<StoreRecord> onDisk = List.of();
            while (System.nanoTime() < deadline) {
                Files.createDirectories(copy);
                Files.copy(file, copy.resolve(JournalStore.FILE), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                try (JournalStore reader = new JournalStore(copy)) {
                    onDisk = reader.load();
                }
                if (onDisk.size() == 50) {
                    break;
                }
                Thread.sleep(10);
            }
            assertEquals(50, onDisk.size(), "every record appended reaches the file without a wait or a close");
            assertEquals(queued(49), onDisk.get(49));
        }
    }

    @Test
    void closeWritesWhatWasAppendedButNotYetWritten() throws Exception {
        try (JournalStore store = new JournalStore(dir)) {
            store.load();
            for (int i = 0; i < 200; i++) {
                store.append(queued(i));
            }
        }
        try (JournalStore store = new JournalStore(dir)) {
            assertEquals(200, store.load().size());
        }
    }

    @Test
    void aTornTailIsCutOffAndTheRecordsBeforeItAreKept() throws Exception {
        try (JournalStore store = new JournalStore(dir)) {
            store.load();
            for (int i = 0; i < 5; i++) {
                store.append(queued(i)).await();
            }
        }
        Path file = dir.resolve(JournalStore.FILE);
        long whole = Files.size(file);
        // A crash in the middle of writing the last record, then a partial header after it.
        try (FileChannel f = FileChannel.open(file, StandardOpenOption.WRITE)) {
            f.truncate(whole - 7);
        }
        Files.write(file, new byte[]{0, 0, 1}, StandardOpenOption.APPEND);
        try (JournalStore store = new JournalStore(dir)) {
            List<StoreRecord> loaded = store.load();
            assertEquals(List.of(queued(0), queued(1), queued(2), queued(3)), loaded);
            store.append(queued(9)).await();
        }
        try (JournalStore store = new JournalStore(dir)) {
            assertEquals(List.of(queued(0), queued(1), queued(2), queued(3), queued(9)), store.load(),
                    "what is appended after the cut follows the good records");
        }
    }

    @Test
    void aRecordWithAFlippedBitEndsTheJournalThere() throws Exception {
        try (JournalStore store = new JournalStore(dir)) {
            store.load();
            for (int i = 0; i < 3; i++) {
                store.append(queued(i)).await();
            }
        }
        Path file = dir.resolve(JournalStore.FILE);
        byte[] bytes = Files.readAllBytes(file);
        bytes[bytes.length - 10] ^= 0x01;   // inside the last record's payload
        Files.write(file, bytes);
        try (JournalStore store = new JournalStore(dir)) {
            assertEquals(List.of(queued(0), queued(1)), store.load());
        }
    }

    @Test
    void aCompactionReplacesWhatCameBeforeItAndKeepsWhatCameAfter() throws Exception {
        try (JournalStore store = new JournalStore(dir)) {
            store.load();
            for (int i = 0; i < 100; i++) {
                store.append(queued(i));
            }
            store.replaceAll(List.of(queued(7)));
            store.append(queued(8)).await();
            assertEquals(2, store.size());
        }
        try (JournalStore store = new JournalStore(dir)) {
            assertEquals(List.of(queued(7), queued(8)), store.load());
        }
        assertTrue(Files.notExists(dir.resolve("journal.next")));
    }

    @Test
    void manyWritersAtOnceAreAllDurableEachInItsOrder() throws Exception {
        int writers = 16;
        int each = 50;
        try (JournalStore store = new JournalStore(dir)) {
            store.load();
            CountDownLatch done = new CountDownLatch(writers);
            List<Throwable> failures = new CopyOnWriteArrayList<>();
            for (int w = 0; w < writers; w++) {
                int writer = w;
                Thread.ofVirtual().start(() -> {
                    try {
                        for (int i = 0; i < each; i++) {
                            store.append(new StoreRecord.Requeued("w" + writer + "-" + i, "")).await();
                        }
                    } catch (Throwable t) {
                        failures.add(t);
                    } finally {
                        done.countDown();
                    }
                });
            }
            assertTrue(done.await(60, TimeUnit.SECONDS));
            assertEquals(List.of(), failures);
        }
        try (JournalStore store = new JournalStore(dir)) {
            List<StoreRecord> loaded = store.load();
            assertEquals(writers * each, loaded.size());
            for (int w = 0; w < writers; w++) {
                String prefix = "w" + w + "-";
                List<String> mine = loaded.stream().map(StoreRecord::jobId).filter(id -> id.startsWith(prefix)).toList();
                List<String> expected = new ArrayList<>();
                for (int i = 0; i < each; i++) {
                    expected.add(prefix + i);
                }
                assertEquals(expected, mine);
            }
        }
    }

    @Test
    void aSecondSchedulerCannotUseTheSameFolder() throws Exception {
        try (JournalStore store = new JournalStore(dir)) {
            store.load();
            IOException e = assertThrows(IOException.class, () -> new JournalStore(dir).load());
            assertTrue(e.getMessage().contains("in use"), e.getMessage());
        }
    }
}
