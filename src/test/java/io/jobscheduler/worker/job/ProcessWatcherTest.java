package io.jobscheduler.worker.job;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The watcher hands output to each pipe's own writer: a stalled write holds up only its job. */
@Timeout(60)
class ProcessWatcherTest {
    @TempDir
    Path work;

    /** Records one process's reports; its output can be made to block, as a stalled disk would. */
    private static final class Recorder implements ProcessDriver.Listener {
        final CountDownLatch release;
        final CountDownLatch firstOutput = new CountDownLatch(1);
        final CountDownLatch ended = new CountDownLatch(2);   // output end and exit
        final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        final List<String> order = new CopyOnWriteArrayList<>();
        final List<String> threads = new CopyOnWriteArrayList<>();

        Recorder(CountDownLatch release) {
            this.release = release;
        }

        @Override
        public void output(ByteBuffer chunk) {
            threads.add(Thread.currentThread().getName());
            firstOutput.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
            synchronized (bytes) {
                byte[] copy = new byte[chunk.remaining()];
                chunk.get(copy);
                bytes.writeBytes(copy);
            }
            order.add("output");
        }

        @Override
        public void outputEnded() {
            order.add("end");
            ended.countDown();
        }

        @Override
        public void exited(OptionalInt exitCode, OptionalInt signal) {
            ended.countDown();
        }
    }

    @Test
    void aStalledOutputWriteHoldsUpNeitherAnotherJobNorItsOwnExit() throws Exception {
        ProcessSpawner spawner = new ProcessSpawner();
        CountDownLatch stalled = new CountDownLatch(1);
        Recorder slow = new Recorder(stalled);
        Recorder fast = new Recorder(new CountDownLatch(0));
        try (ProcessWatcher watcher = new ProcessWatcher("test-watcher")) {
            ProcessSpawner.Spawned a = spawner.spawn(JobFixtures.launch(work.toRealPath(), "sh", "-c"));
            // sh -c with no script prints its complaint and exits 2: output, then exit.
            watcher.watch(a.pidfd(), a.outputFd(), slow);
            assertTrue(slow.firstOutput.await(30, TimeUnit.SECONDS));

            ProcessSpawner.Spawned b = spawner.spawn(JobFixtures.launch(work.toRealPath(), "echo", "fast"));
            watcher.watch(b.pidfd(), b.outputFd(), fast);
            assertTrue(fast.ended.await(30, TimeUnit.SECONDS), "the other job ended while the first one's write stalled");
            assertEquals("fast\n", fast.bytes.toString(StandardCharsets.UTF_8));
            assertEquals(List.of("output", "end"), fast.order);

            stalled.countDown();
            assertTrue(slow.ended.await(30, TimeUnit.SECONDS));
            assertEquals("end", slow.order.getLast());
            assertTrue(slow.threads.stream().noneMatch(name -> name.equals("test-watcher")),
                    "output reported off the watcher thread: " + slow.threads);
        }
    }
}
