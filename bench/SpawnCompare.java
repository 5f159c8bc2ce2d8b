// Comparison only: Java's ProcessBuilder spawn rate of /bin/true (stdin /dev/null, stdout and
// stderr appended to a file, as the worker does), start + waitFor in a loop on N threads.
// Run twice: with the default launch mechanism and with -Djdk.lang.Process.launchMechanism=VFORK.
// usage: java bench/SpawnCompare.java THREADS SECONDS OUTDIR
import java.io.File;
import java.util.concurrent.atomic.AtomicLong;

public class SpawnCompare {
    public static void main(String[] args) throws Exception {
        int threads = Integer.parseInt(args[0]);
        double seconds = Double.parseDouble(args[1]);
        File out = new File(args[2], "pb.out");
        AtomicLong count = new AtomicLong();
        // Warm-up (class loading, the helper binary in the page cache).
        for (int i = 0; i < 20; i++) spawn(out);
        long end = System.nanoTime() + (long) (seconds * 1e9);
        long start = System.nanoTime();
        Thread[] ts = new Thread[threads];
        for (int t = 0; t < threads; t++) {
            ts[t] = Thread.ofPlatform().start(() -> {
                try {
                    while (System.nanoTime() < end) {
                        spawn(out);
                        count.incrementAndGet();
                    }
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });
        }
        for (Thread t : ts) t.join();
        double elapsed = (System.nanoTime() - start) / 1e9;
        String mechanism = System.getProperty("jdk.lang.Process.launchMechanism", "default");
        System.out.printf("{\"mechanism\":\"%s\",\"threads\":%d,\"spawns\":%d,\"seconds\":%.3f,\"rate\":%.1f}%n",
                mechanism, threads, count.get(), elapsed, count.get() / elapsed);
    }

    static void spawn(File out) throws Exception {
        Process p = new ProcessBuilder("/bin/true")
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(ProcessBuilder.Redirect.appendTo(out))
                .redirectErrorStream(true)
                .start();
        p.waitFor();
    }
}
