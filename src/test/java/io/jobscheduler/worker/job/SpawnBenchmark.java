package io.jobscheduler.worker.job;

import java.io.File;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Spawns /bin/true N times on 1 and 2 threads, through {@link JobRunner} (start, then wait for the
 * end: spawn, reap, output pipe, two job records, retention) and through {@link ProcessBuilder}
 * (start, waitFor, output appended to a file), and through the bare spawner and watcher, and prints the median spawns/s over a few rounds.
 * Not a test: {@code java --enable-native-access=ALL-UNNAMED -cp target/classes:target/test-classes
 * io.jobscheduler.worker.job.SpawnBenchmark [spawnsPerThread] [rounds]}.
 */
public final class SpawnBenchmark {
    private interface Spawn {
        void once() throws Exception;
    }

    public static void main(String[] args) throws Exception {
        int perThread = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        Path work = Files.createTempDirectory("spawn-bench-work");
        Path data = Files.createTempDirectory("spawn-bench-data");
        File sink = work.resolve("pb-output").toFile();
        try (JobRunner runner = new JobRunner(work, data, Duration.ofSeconds(1), 100, 1L << 30)) {
            Spawn viaRunner = () -> {
                JobStatus ended = runner.awaitEnd(runner.start("/bin/true", "").id(), Duration.ofSeconds(30));
                if (ended.state() != JobState.SUCCEEDED) {
                    throw new IllegalStateException("unexpected " + ended);
                }
            };
            Spawn viaProcessBuilder = () -> {
                Process p = new ProcessBuilder("/bin/true").directory(work.toFile())
                        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(sink)).start();
                if (p.waitFor() != 0) {
                    throw new IllegalStateException("exit " + p.exitValue());
                }
            };
            ProcessSpawner spawner = new ProcessSpawner();
            try (ProcessWatcher watcher = new ProcessWatcher("bench-watcher")) {
                // The same spawn and reap machinery without job records, output files or retention.
                Spawn bare = () -> {
                    CountDownLatch done = new CountDownLatch(2);
                    ProcessSpawner.Spawned p = spawner.spawn(JobFixtures.launch(work, "/bin/true", ""));
                    watcher.watch(p.pidfd(), p.outputFd(), new ProcessDriver.Listener() {
                        @Override
                        public void output(ByteBuffer bytes) {
                        }

                        @Override
                        public void outputEnded() {
                            done.countDown();
                        }

                        @Override
                        public void exited(OptionalInt exitCode, OptionalInt signal) {
                            done.countDown();
                        }
                    });
                    done.await();
                };
                for (int threads : new int[] {1, 2}) {
                    report("posix_spawnp + watcher only", threads, measure(bare, threads, perThread, rounds));
                }
            }
            for (int threads : new int[] {1, 2}) {
                report("JobRunner (posix_spawnp/FFM)", threads, measure(viaRunner, threads, perThread, rounds));
                report("ProcessBuilder", threads, measure(viaProcessBuilder, threads, perThread, rounds));
            }
        } finally {
            deleteTree(work);
            deleteTree(data);
        }
    }

    private static void deleteTree(Path root) throws java.io.IOException {
        try (var paths = Files.walk(root)) {
            for (Path p : (Iterable<Path>) paths.sorted(java.util.Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }

    private static double measure(Spawn spawn, int threads, int perThread, int rounds) throws Exception {
        measureRound(spawn, threads, Math.max(1, perThread / 5)); // warm-up
        double[] rates = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            rates[r] = measureRound(spawn, threads, perThread);
        }
        Arrays.sort(rates);
        return rates[rounds / 2];
    }

    private static double measureRound(Spawn spawn, int threads, int perThread) throws Exception {
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Callable<Void>> tasks = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                tasks.add(() -> {
                    for (int i = 0; i < perThread; i++) {
                        spawn.once();
                    }
                    return null;
                });
            }
            long begin = System.nanoTime();
            for (Future<Void> f : pool.invokeAll(tasks)) {
                f.get();
            }
            return threads * perThread / ((System.nanoTime() - begin) / 1e9);
        }
    }

    private static void report(String what, int threads, double rate) {
        System.out.printf("%-30s %d thread(s): %,8.0f spawns/s%n", what, threads, rate);
    }
}
