// Many simulated workers in one process, for the registry-at-scale scenario.
//
// Serves the Worker gRPC service (grpc-java, grpc-netty-shaded) on ONE port bound to every
// address, and registers N distinct addresses 127.0.x.y:PORT with the scheduler (the whole of
// 127/8 is loopback on Linux, so the scheduler reaches this one port through each of them).
// Watch is implemented as a worker would: a Heartbeat every heartbeat_millis of the request
// until the scheduler cancels; the other methods answer UNIMPLEMENTED (the default).
//
// Run: java -cp 'target/jobscheduler.jar:target/libs/*' bench/WorkerSimulator.java \
//        --scheduler 127.0.0.1:50000 --port 40000 --workers 1000 --rounds 3 --concurrency 16
// Prints one JSON object per line: a "register"/"deregister" line per round (rate, latency),
// then "at_rest", then a "stats" line every 2 s (open Watch streams, heartbeats sent).
// The last round's registrations stay; the process runs until it is killed.

import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.InsecureServerCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.jobscheduler.grpc.DeregisterReq;
import io.jobscheduler.grpc.Heartbeat;
import io.jobscheduler.grpc.RegisterReq;
import io.jobscheduler.grpc.RegisterRes;
import io.jobscheduler.grpc.SchedulerGrpc;
import io.jobscheduler.grpc.WatchReq;
import io.jobscheduler.grpc.WorkerGrpc;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

public class WorkerSimulator {
    static final Set<String> ids = ConcurrentHashMap.newKeySet();
    static final AtomicInteger watchOpen = new AtomicInteger();
    static final AtomicLong watchTotal = new AtomicLong();
    static final AtomicLong watchRefused = new AtomicLong();
    static final AtomicLong heartbeats = new AtomicLong();
    static final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "heartbeats");
        t.setDaemon(true);
        return t;
    });

    static final class SimWorker extends WorkerGrpc.WorkerImplBase {
        @Override
        public void watch(WatchReq request, StreamObserver<Heartbeat> responses) {
            if (!ids.contains(request.getWorkerID())) {
                watchRefused.incrementAndGet();
                responses.onError(Status.NOT_FOUND.withDescription("this worker holds another id").asRuntimeException());
                return;
            }
            var call = (ServerCallStreamObserver<Heartbeat>) responses;
            long every = Math.max(1, request.getHeartbeatMillis() > 0 ? request.getHeartbeatMillis() : 1000);
            watchOpen.incrementAndGet();
            watchTotal.incrementAndGet();
            Heartbeat beat = Heartbeat.newBuilder().setRunningJobs(0).build();
            Object guard = new Object();
            ScheduledFuture<?>[] task = new ScheduledFuture<?>[1];
            boolean[] ended = {false};
            Runnable end = () -> {
                synchronized (guard) {
                    if (ended[0]) return;
                    ended[0] = true;
                    if (task[0] != null) task[0].cancel(false);
                }
                watchOpen.decrementAndGet();
            };
            call.setOnCancelHandler(end::run);
            synchronized (guard) {
                task[0] = ticker.scheduleAtFixedRate(() -> {
                    synchronized (guard) {
                        if (ended[0] || call.isCancelled()) return;
                        try {
                            call.onNext(beat);
                            heartbeats.incrementAndGet();
                        } catch (RuntimeException e) {
                            ended[0] = true;
                        }
                    }
                }, 0, every, TimeUnit.MILLISECONDS);
            }
        }
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) opt.put(args[i], args[i + 1]);
        String scheduler = opt.getOrDefault("--scheduler", "127.0.0.1:50000");
        int port = Integer.parseInt(opt.getOrDefault("--port", "40000"));
        int workers = Integer.parseInt(opt.getOrDefault("--workers", "1000"));
        int rounds = Integer.parseInt(opt.getOrDefault("--rounds", "3"));
        int concurrency = Integer.parseInt(opt.getOrDefault("--concurrency", "16"));

        Server server = Grpc.newServerBuilderForPort(port, InsecureServerCredentials.create())
                .addService(new SimWorker()).build().start();
        ManagedChannel channel = Grpc.newChannelBuilder(scheduler, InsecureChannelCredentials.create()).build();
        var stub = SchedulerGrpc.newBlockingStub(channel);
        // Warm the channel (connection, class loading) so round 1 measures registration, not start-up.
        stub.withDeadlineAfter(10, TimeUnit.SECONDS).deregisterWorker(DeregisterReq.newBuilder().setWorkerID("warm-up").build());

        String[] addresses = new String[workers];
        for (int i = 0; i < workers; i++) addresses[i] = "127.0." + (1 + i / 250) + "." + (1 + i % 250) + ":" + port;
        String[] assigned = new String[workers];
        long[] heartbeatMillis = {0};
        for (int round = 1; round <= rounds; round++) {
            long[] latency = new long[workers];
            AtomicInteger next = new AtomicInteger();
            AtomicInteger failures = new AtomicInteger();
            Thread[] threads = new Thread[concurrency];
            long start = System.nanoTime();
            for (int t = 0; t < concurrency; t++) {
                threads[t] = Thread.ofPlatform().start(() -> {
                    for (int i = next.getAndIncrement(); i < workers; i = next.getAndIncrement()) {
                        long t0 = System.nanoTime();
                        try {
                            RegisterRes res = stub.withDeadlineAfter(10, TimeUnit.SECONDS)
                                    .registerWorker(RegisterReq.newBuilder().setAddress(addresses[i]).build());
                            assigned[i] = res.getWorkerID();
                            ids.add(res.getWorkerID());
                            heartbeatMillis[0] = res.getHeartbeatMillis();
                        } catch (RuntimeException e) {
                            failures.incrementAndGet();
                        }
                        latency[i] = System.nanoTime() - t0;
                    }
                });
            }
            for (Thread t : threads) t.join();
            double seconds = (System.nanoTime() - start) / 1e9;
            Arrays.sort(latency);
            System.out.printf("{\"event\":\"register\",\"round\":%d,\"workers\":%d,\"failures\":%d,\"seconds\":%.4f,"
                            + "\"rate\":%.1f,\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"heartbeat_millis\":%d}%n",
                    round, workers, failures.get(), seconds, workers / seconds,
                    latency[workers / 2] / 1e6, latency[(int) (workers * 0.99)] / 1e6, heartbeatMillis[0]);
            if (round < rounds) {
                // Leave, so the next round registers 1,000 new workers rather than replacing them.
                next.set(0);
                long dstart = System.nanoTime();
                for (int t = 0; t < concurrency; t++) {
                    threads[t] = Thread.ofPlatform().start(() -> {
                        for (int i = next.getAndIncrement(); i < workers; i = next.getAndIncrement()) {
                            if (assigned[i] == null) continue;
                            try {
                                stub.withDeadlineAfter(10, TimeUnit.SECONDS)
                                        .deregisterWorker(DeregisterReq.newBuilder().setWorkerID(assigned[i]).build());
                            } catch (RuntimeException e) {
                                failures.incrementAndGet();
                            }
                            ids.remove(assigned[i]);
                        }
                    });
                }
                for (Thread t : threads) t.join();
                double dseconds = (System.nanoTime() - dstart) / 1e9;
                System.out.printf("{\"event\":\"deregister\",\"round\":%d,\"seconds\":%.4f,\"rate\":%.1f}%n",
                        round, dseconds, workers / dseconds);
            }
            System.out.flush();
        }
        System.out.println("{\"event\":\"at_rest\",\"registered\":" + ids.size() + "}");
        System.out.flush();
        while (true) {
            Thread.sleep(2000);
            System.out.printf("{\"event\":\"stats\",\"registered\":%d,\"watch_open\":%d,\"watch_total\":%d,"
                            + "\"watch_refused\":%d,\"heartbeats\":%d}%n",
                    ids.size(), watchOpen.get(), watchTotal.get(), watchRefused.get(), heartbeats.get());
            System.out.flush();
        }
    }
}
