package io.jobscheduler.worker.job;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static io.jobscheduler.worker.job.JobFixtures.GENEROUS;
import static io.jobscheduler.worker.job.JobFixtures.readAll;
import static io.jobscheduler.worker.job.JobFixtures.script;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

@Timeout(180)
class OutputStreamingTest {
    private static final int BIG = 30_000_000;

    @TempDir
    Path work;
    @TempDir
    Path data;
    private JobRunner runner;

    @BeforeEach
    void open() throws Exception {
        runner = new JobRunner(work, data, Duration.ofMillis(300), 100, 1L << 34);
    }

    @AfterEach
    void close() {
        runner.close();
    }

    /** Reads a log from offset 0 to its end, digesting the bytes; counts down once {@code mark} bytes were read. */
    private static Digested follow(OutputLog log, long mark, CountDownLatch reachedMark) throws Exception {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        long offset = 0;
        while (true) {
            JobFixtures.Chunk chunk = JobFixtures.read(log, offset, OutputLog.MAX_CHUNK, true);
            if (chunk.end()) {
                return new Digested(offset, HexFormat.of().formatHex(sha.digest()));
            }
            assertEquals(offset, chunk.offset());
            assertTrue(chunk.bytes().length <= OutputLog.MAX_CHUNK);
            sha.update(chunk.bytes());
            long before = offset;
            offset += chunk.bytes().length;
            if (before < mark && offset >= mark) {
                reachedMark.countDown();
            }
        }
    }

    private record Digested(long length, String sha256) {
    }

    @Test
    void concurrentReadersEachGetTheExactBytesWhileTheJobRuns() throws Exception {
        byte[] content = new byte[BIG];
        new Random(42).nextBytes(content); // every byte value, nothing like UTF-8
        Files.write(work.resolve("big.bin"), content);
        String expected = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(content));
        assertEquals(JobState.SUCCEEDED, runner.awaitEnd(runner.start("mkfifo", "gate").id(), GENEROUS).state());
        // The job writes everything, then waits for the test to open the gate.
        script(work, "stream.sh", "cat big.bin\nread line < gate");

        JobStatus job = runner.start("sh", "stream.sh");
        OutputLog log = runner.output(job.id());
        int readers = 3;
        CountDownLatch allRead = new CountDownLatch(readers);
        List<Future<Digested>> results = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < readers; i++) {
                results.add(pool.submit(() -> follow(log, BIG, allRead)));
            }
            assertTrue(allRead.await(GENEROUS.toSeconds(), TimeUnit.SECONDS), "readers did not get all bytes");
            assertEquals(JobState.RUNNING, runner.status(job.id()).state(), "the bytes were streamed while it ran");
            assertTrue(!log.complete());

            Files.writeString(work.resolve("gate"), "go\n");
            for (Future<Digested> result : results) {
                assertEquals(new Digested(BIG, expected), result.get(GENEROUS.toSeconds(), TimeUnit.SECONDS));
            }
        }
        assertEquals(JobState.SUCCEEDED, runner.awaitEnd(job.id(), GENEROUS).state());
        assertTrue(log.complete());
        assertEquals(BIG, log.length());

        JobFixtures.Chunk middle = JobFixtures.read(log, 12_345_678, 1000, false);
        assertEquals(12_345_678, middle.offset());
        assertArrayEquals(Arrays.copyOfRange(content, 12_345_678, 12_346_678), middle.bytes());
        JobFixtures.Chunk tail = JobFixtures.read(log, BIG - 10, OutputLog.MAX_CHUNK, true);
        assertArrayEquals(Arrays.copyOfRange(content, BIG - 10, BIG), tail.bytes());
        assertTrue(JobFixtures.read(log, BIG, OutputLog.MAX_CHUNK, true).end(), "an empty chunk marks the end");
    }

    @Test
    void aReaderReadsIntoItsOwnBufferTheExactBytesFromAnyOffset() throws Exception {
        byte[] content = new byte[3 * OutputLog.MAX_CHUNK + 123];
        new Random(7).nextBytes(content);
        Files.write(work.resolve("some.bin"), content);
        JobStatus job = runner.start("cat", "some.bin");
        OutputLog log = runner.output(job.id());
        ByteArrayOutputStream streamed = new ByteArrayOutputStream();
        ByteBuffer first = null;
        try (OutputLog.Reader reader = log.reader()) {
            long offset = 0;
            while (true) {
                ByteBuffer chunk = reader.read(offset, OutputLog.MAX_CHUNK, true);
                if (first == null) {
                    first = chunk;
                } else {
                    assertSame(first, chunk, "one buffer, read into again");
                }
                if (!chunk.hasRemaining()) {
                    break;
                }
                byte[] bytes = new byte[chunk.remaining()];
                chunk.get(bytes);
                streamed.write(bytes);
                offset += bytes.length;
            }
            ByteBuffer middle = reader.read(70_000, 10, false);
            byte[] ten = new byte[middle.remaining()];
            middle.get(ten);
            assertArrayEquals(Arrays.copyOfRange(content, 70_000, 70_010), ten);
        }
        assertArrayEquals(content, streamed.toByteArray());
        ByteBuffer freed = first;
        assertThrows(IllegalStateException.class, () -> freed.get(0), "closing the reader frees its buffer");
    }

    @Test
    void aReaderThatStopsReadingDoesNotSlowTheJob() throws Exception {
        int size = 20_000_000;
        script(work, "lots.sh", "head -c " + size + " /dev/zero | tr '\\0' 'x'");
        JobStatus writer = runner.start("sh", "lots.sh");
        OutputLog log = runner.output(writer.id());

        CountDownLatch firstChunk = new CountDownLatch(1);
        CountDownLatch resume = new CountDownLatch(1);
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<Integer> parked = pool.submit(() -> {
                JobFixtures.read(log, 0, OutputLog.MAX_CHUNK, true);
                firstChunk.countDown();
                resume.await();
                return readAll(log).length;
            });
            // A follower waiting far beyond the end stays blocked while the job runs to its end.
            Future<Boolean> waiting = pool.submit(() -> JobFixtures.read(log, size + 1_000_000L, 10, true).end());
            assertTrue(firstChunk.await(GENEROUS.toSeconds(), TimeUnit.SECONDS));

            JobStatus ended = runner.awaitEnd(writer.id(), GENEROUS);

            assertEquals(JobState.SUCCEEDED, ended.state(), "the job completed while a reader was parked");
            assertEquals(size, log.length());
            assertTrue(!parked.isDone());
            resume.countDown();
            assertEquals(size, parked.get(GENEROUS.toSeconds(), TimeUnit.SECONDS));
            assertTrue(waiting.get(GENEROUS.toSeconds(), TimeUnit.SECONDS));
        }
    }

    @Test
    void aFollowerWaitingForOutputCanBeInterrupted() throws Exception {
        JobStatus job = runner.start("sleep", "1000");
        OutputLog log = runner.output(job.id());
        CompletableFuture<Throwable> outcome = new CompletableFuture<>();
        Thread follower = Thread.ofVirtual().start(() -> {
            try {
                JobFixtures.read(log, 0, 100, true);
                outcome.complete(null);
            } catch (Throwable t) {
                outcome.complete(t);
            }
        });
        follower.interrupt();
        assertInstanceOf(InterruptedException.class, outcome.get(GENEROUS.toSeconds(), TimeUnit.SECONDS));
        assertEquals(JobState.STOPPED, runner.stop(job.id()).state());
    }

    @Test
    void readingWithoutFollowReturnsWhatExistsNow() throws Exception {
        script(work, "two.sh", "printf abc\nread line < gate\nprintf def");
        assertEquals(JobState.SUCCEEDED, runner.awaitEnd(runner.start("mkfifo", "gate").id(), GENEROUS).state());
        JobStatus job = runner.start("sh", "two.sh");
        OutputLog log = runner.output(job.id());
        JobFixtures.awaitOutput(log, "abc");
        assertArrayEquals("bc".getBytes(), JobFixtures.read(log, 1, 100, false).bytes());
        assertTrue(JobFixtures.read(log, 3, 100, false).end(), "the current end, without follow");
        Files.writeString(work.resolve("gate"), "go\n");
        assertEquals("abcdef", JobFixtures.text(log));
    }
}
