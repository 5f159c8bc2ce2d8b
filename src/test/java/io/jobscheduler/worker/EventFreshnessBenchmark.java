package io.jobscheduler.worker;

import io.grpc.ManagedChannel;
import io.grpc.stub.StreamObserver;
import io.helidon.webserver.WebServer;
import io.jobscheduler.grpc.Heartbeat;
import io.jobscheduler.grpc.JobEvent;
import io.jobscheduler.grpc.StartJobReq;
import io.jobscheduler.grpc.WatchReq;
import io.jobscheduler.grpc.WorkerGrpc;
import io.jobscheduler.worker.job.JobRunner;
import io.jobscheduler.worker.job.OutputLog;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * How soon a job's end reaches a Watch client: each job is {@code date +%s%N}, which prints the
 * wall clock and exits, and the client notes the wall clock when the job's end event arrives.
 * The difference is process exit → event received over loopback gRPC (an upper bound of exit →
 * event written to the stream); beside it, exit → a waiter on the event log woke with the event
 * (what the worker itself adds, without gRPC). Jobs run one at a time, then {@code parallel} at a time.
 * Not a test: {@code java --enable-native-access=ALL-UNNAMED -cp <test classpath>
 * io.jobscheduler.worker.EventFreshnessBenchmark [jobs] [parallel]}.
 */
public final class EventFreshnessBenchmark {
    private static void print(String what, List<Long> micros) {
        Collections.sort(micros);
        System.out.printf("%s: p50 %.2f ms, p99 %.2f ms, max %.2f ms%n", what, micros.get(micros.size() / 2) / 1000.0,
                micros.get((int) (micros.size() * 0.99)) / 1000.0, micros.getLast() / 1000.0);
    }

    public static void main(String[] args) throws Exception {
        int jobs = args.length > 0 ? Integer.parseInt(args[0]) : 500;
        int parallel = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        Path work = Files.createTempDirectory("fresh-work");
        Path data = Files.createTempDirectory("fresh-data");
        Map<String, CompletableFuture<Instant>> ends = new ConcurrentHashMap<>();
        Map<String, Instant> published = new ConcurrentHashMap<>();
        try (JobRunner runner = new JobRunner(work, data, Duration.ofSeconds(1), 100, 1L << 30)) {
            WebServer server = WebServer.builder().host("127.0.0.1").port(0)
                    .update(b -> InJvmWorker.serve(b, runner)).build().start();
            ManagedChannel channel = TestWorkers.channel(server.port());
            // In-process, beside the stream: when a waiter on the event log wakes with the end event.
            Thread.ofVirtual().start(() -> {
                long seq = 0;
                try {
                    while (true) {
                        var batch = runner.events().next(seq, Duration.ofMinutes(1), () -> false);
                        Instant now = Instant.now();
                        batch.events().stream().filter(e -> e.status().done())
                                .forEach(e -> published.put(e.status().id(), now));
                        seq = batch.seq();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            try {
                WorkerGrpc.newStub(channel).watch(WatchReq.newBuilder().setWorkerID(InJvmWorker.WORKER_ID)
                        .setHeartbeatMillis(60_000).build(), new StreamObserver<>() {
                    @Override
                    public void onNext(Heartbeat beat) {
                        Instant now = Instant.now();
                        for (JobEvent event : beat.getEventsList()) {
                            if (!event.getState().equals("RUNNING")) {
                                ends.computeIfAbsent(event.getJobId(), id -> new CompletableFuture<>()).complete(now);
                            }
                        }
                    }

                    @Override
                    public void onError(Throwable t) {
                    }

                    @Override
                    public void onCompleted() {
                    }
                });
                var stub = WorkerGrpc.newBlockingStub(channel);
                for (int round = 0; round < 2; round++) {
                    int atOnce = round == 0 ? 1 : parallel;
                    List<Long> micros = new ArrayList<>();
                    List<Long> inProcess = new ArrayList<>();
                    for (int done = 0; done < jobs; done += atOnce) {
                        List<String> ids = new ArrayList<>();
                        for (int i = 0; i < atOnce; i++) {
                            ids.add(stub.startJob(StartJobReq.newBuilder().setCommand("date").setPath("+%s%N")
                                    .build()).getJobID());
                        }
                        for (String id : ids) {
                            Instant received = ends.computeIfAbsent(id, k -> new CompletableFuture<>())
                                    .get(30, TimeUnit.SECONDS);
                            String printed;
                            try (OutputLog.Reader reader = runner.output(id).reader()) {
                                printed = StandardCharsets.US_ASCII.decode(reader.read(0, 64, false)).toString().strip();
                            }
                            long exitedNanos = Long.parseLong(printed);
                            long receivedNanos = received.getEpochSecond() * 1_000_000_000L + received.getNano();
                            micros.add((receivedNanos - exitedNanos) / 1000);
                            Instant woke = published.get(id);
                            if (woke != null) {
                                inProcess.add((woke.getEpochSecond() * 1_000_000_000L + woke.getNano() - exitedNanos) / 1000);
                            }
                        }
                    }
                    print(jobs + " jobs, " + atOnce + " at a time: exit -> end event received by the client", micros);
                    print(jobs + " jobs, " + atOnce + " at a time: exit -> an in-process waiter woke with it", inProcess);
                }
            } finally {
                TestWorkers.close(channel);
                server.stop();
            }
        } finally {
            InJvmWorker.deleteTree(work);
            InJvmWorker.deleteTree(data);
        }
    }
}
