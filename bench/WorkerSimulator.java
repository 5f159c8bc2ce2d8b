// Many simulated workers in one process, for the registry-at-scale scenario.
//
// Serves the Worker gRPC service (grpc-java, grpc-netty-shaded) on ONE port bound to every
// address, and registers N distinct addresses 127.x.y.z:PORT with the scheduler (the whole of
// 127/8 is loopback on Linux, so the scheduler reaches this one port through each of them).
// Like the real worker's Helidon server, it lets the scheduler's channels ping (keepalive) as
// often as they do; grpc-java's own server default would end their connections after two pings.
// Watch is implemented as a worker would: a Heartbeat every heartbeat_millis of the request
// until the scheduler cancels; the other methods answer UNIMPLEMENTED (the default). Like a
// worker, a Watch that arrives while its address's registration is still unanswered waits for
// the answer (the scheduler opens the watch before it answers), instead of refusing it.
//
// Run: java -cp 'target/jobscheduler.jar:target/libs/*' bench/WorkerSimulator.java \
//        --scheduler 127.0.0.1:50000 --port 40000 --workers 10000 --rounds 3 --concurrency 16
// Prints one JSON object per line: a "register"/"deregister" line per round (rate, latency),
// then "at_rest", then a "stats" line every 2 s (open Watch streams, heartbeats sent in all and
// per second over the last 2 s, and the rate the open streams ask for together).
// The last round's registrations stay; the process runs until it is killed.

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
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
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

public class WorkerSimulator {
    static final Set<String> ids = ConcurrentHashMap.newKeySet();
    /** The registration in flight of each address (its host), completed with the id it got. */
    static final Map<String, CompletableFuture<String>> registering = new ConcurrentHashMap<>();
    static final Context.Key<SocketAddress> LOCAL = Context.key("local-address");
    static final AtomicInteger watchOpen = new AtomicInteger();
    static final AtomicLong watchTotal = new AtomicLong();
    static final AtomicLong watchRefused = new AtomicLong();
    static final AtomicLong heartbeats = new AtomicLong();
    /** What the open streams ask for together, in thousandths of a heartbeat a second. */
    static final AtomicLong askedMilliPerSecond = new AtomicLong();
    static final ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "heartbeats");
        t.setDaemon(true);
        return t;
    });

    static final class SimWorker extends WorkerGrpc.WorkerImplBase {
        @Override
        public void watch(WatchReq request, StreamObserver<Heartbeat> responses) {
            WatchStream stream = new WatchStream(request, (ServerCallStreamObserver<Heartbeat>) responses);
            CompletableFuture<String> pending = LOCAL.get() instanceof InetSocketAddress local
                    ? registering.get(local.getAddress().getHostAddress()) : null;
            if (pending != null && !ids.contains(request.getWorkerID())) {
                pending.completeOnTimeout(null, 10, TimeUnit.SECONDS).whenComplete((id, e) -> stream.start());
            } else {
                stream.start();
            }
        }
    }

    /** One Watch: a heartbeat every heartbeat_millis from start() until the scheduler cancels. */
    static final class WatchStream {
        private static final Heartbeat BEAT = Heartbeat.newBuilder().setRunningJobs(0).build();
        private final WatchReq request;
        private final ServerCallStreamObserver<Heartbeat> call;
        private final long every;
        private boolean started;            // guarded by this
        private boolean ended;              // guarded by this
        private ScheduledFuture<?> task;    // guarded by this

        WatchStream(WatchReq request, ServerCallStreamObserver<Heartbeat> call) {
            this.request = request;
            this.call = call;
            this.every = Math.max(1, request.getHeartbeatMillis() > 0 ? request.getHeartbeatMillis() : 1000);
            call.setOnCancelHandler(this::end);     // only allowed before watch() returns
        }

        void start() {
            synchronized (this) {
                if (ended) return;
                if (ids.contains(request.getWorkerID())) {
                    started = true;
                    watchOpen.incrementAndGet();
                    watchTotal.incrementAndGet();
                    askedMilliPerSecond.addAndGet(1_000_000 / every);
                    task = ticker.scheduleAtFixedRate(this::beat, 0, every, TimeUnit.MILLISECONDS);
                    return;
                }
                ended = true;
            }
            watchRefused.incrementAndGet();
            try {
                call.onError(Status.NOT_FOUND.withDescription("this worker holds another id").asRuntimeException());
            } catch (RuntimeException cancelledMeanwhile) {
                // nothing to tell
            }
        }

        private synchronized void beat() {
            if (ended) return;
            try {
                call.onNext(BEAT);
                heartbeats.incrementAndGet();
            } catch (RuntimeException e) {
                end();
            }
        }

        private void end() {
            synchronized (this) {
                if (ended) return;
                ended = true;
                if (task != null) task.cancel(false);
                if (!started) return;
            }
            watchOpen.decrementAndGet();
            askedMilliPerSecond.addAndGet(-1_000_000 / every);
        }
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) opt.put(args[i], args[i + 1]);
        String scheduler = opt.getOrDefault("--scheduler", "127.0.0.1:50000");
        int port = Integer.parseInt(opt.getOrDefault("--port", "40000"));
        int workers = Integer.parseInt(opt.getOrDefault("--workers", "10000"));
        int rounds = Integer.parseInt(opt.getOrDefault("--rounds", "3"));
        int concurrency = Integer.parseInt(opt.getOrDefault("--concurrency", "16"));

        var builder = Grpc.newServerBuilderForPort(port, InsecureServerCredentials.create());
        if (builder instanceof io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder netty) {
            netty.permitKeepAliveTime(1, TimeUnit.SECONDS).permitKeepAliveWithoutCalls(true);
        }
        ServerInterceptor local = new ServerInterceptor() {
            @Override
            public <Q, A> ServerCall.Listener<Q> interceptCall(ServerCall<Q, A> call, Metadata headers, ServerCallHandler<Q, A> next) {
                return Contexts.interceptCall(Context.current().withValue(LOCAL,
                        call.getAttributes().get(Grpc.TRANSPORT_ATTR_LOCAL_ADDR)), call, headers, next);
            }
        };
        Server server = builder.addService(ServerInterceptors.intercept(new SimWorker(), local)).build().start();
        ManagedChannel channel = Grpc.newChannelBuilder(scheduler, InsecureChannelCredentials.create()).build();
        var stub = SchedulerGrpc.newBlockingStub(channel);
        // Warm the channel (connection, class loading) so round 1 measures registration, not start-up.
        stub.withDeadlineAfter(10, TimeUnit.SECONDS).deregisterWorker(DeregisterReq.newBuilder().setWorkerID("warm-up").build());

        String[] addresses = new String[workers];
        for (int i = 0; i < workers; i++) {
            addresses[i] = "127." + (i / 62500) + "." + (1 + i / 250 % 250) + "." + (1 + i % 250) + ":" + port;
        }
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
                        String host = addresses[i].substring(0, addresses[i].lastIndexOf(':'));
                        CompletableFuture<String> answer = new CompletableFuture<>();
                        registering.put(host, answer);
                        try {
                            RegisterRes res = stub.withDeadlineAfter(10, TimeUnit.SECONDS)
                                    .registerWorker(RegisterReq.newBuilder().setAddress(addresses[i]).build());
                            assigned[i] = res.getWorkerID();
                            ids.add(res.getWorkerID());
                            heartbeatMillis[0] = res.getHeartbeatMillis();
                        } catch (RuntimeException e) {
                            failures.incrementAndGet();
                        } finally {
                            registering.remove(host, answer);
                            answer.complete(assigned[i]);
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
                // Leave, so the next round registers new workers rather than replacing them.
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
        long before = heartbeats.get();
        while (true) {
            Thread.sleep(2000);
            long sent = heartbeats.get();
            System.out.printf("{\"event\":\"stats\",\"registered\":%d,\"watch_open\":%d,\"watch_total\":%d,"
                            + "\"watch_refused\":%d,\"heartbeats\":%d,\"heartbeats_per_s\":%.1f,\"asked_per_s\":%.1f}%n",
                    ids.size(), watchOpen.get(), watchTotal.get(), watchRefused.get(), sent, (sent - before) / 2.0,
                    askedMilliPerSecond.get() / 1000.0);
            before = sent;
            System.out.flush();
        }
    }
}
