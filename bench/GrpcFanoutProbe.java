// Diagnostic (not part of bench/run): N concurrent StreamJob followers of one job over ONE
// grpc-java channel straight to a worker (as the scheduler's gateway does for N HTTP readers),
// with the channel as the scheduler builds it today and with two changes: no gzip advertised,
// and a fixed flow-control window (which turns off grpc-java's BDP window auto-tuning).
// usage: java -cp 'target/jobscheduler.jar:target/libs/*' bench/GrpcFanoutProbe.java WORKER_ADDR GEN_PATH BYTES READERS
import io.grpc.*;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.jobscheduler.grpc.*;
import java.util.ArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

public class GrpcFanoutProbe {
    public static void main(String[] args) throws Exception {
        String addr = args[0], gen = args[1], bytes = args[2];
        int readers = Integer.parseInt(args[3]);
        for (String mode : new String[] {"as today", "identity", "identity + fixed 1 MiB window", "fixed 1 MiB window"}) {
            NettyChannelBuilder b = NettyChannelBuilder.forTarget(addr).usePlaintext();
            if (mode.contains("identity")) b.decompressorRegistry(DecompressorRegistry.emptyInstance().with(Codec.Identity.NONE, false));
            if (mode.contains("fixed")) b.flowControlWindow(1 << 20);
            ManagedChannel ch = b.build();
            var stub = WorkerGrpc.newBlockingStub(ch);
            String job = stub.startJob(StartJobReq.newBuilder().setCommand(gen).setPath(bytes).build()).getJobID();
            AtomicInteger ok = new AtomicInteger();
            AtomicLong got = new AtomicLong();
            ArrayList<String> errors = new ArrayList<>();
            long t0 = System.nanoTime();
            ArrayList<Thread> ts = new ArrayList<>();
            for (int r = 0; r < readers; r++) {
                ts.add(Thread.ofVirtual().start(() -> {
                    long n = 0;
                    try {
                        var it = stub.streamJob(StreamJobReq.newBuilder().setJobID(job).setFollow(true).build());
                        while (it.hasNext()) n += it.next().getOutput().size();
                        if (n == Long.parseLong(bytes)) ok.incrementAndGet();
                    } catch (StatusRuntimeException e) {
                        synchronized (errors) { errors.add(e.getStatus().getCode() + ": " + e.getStatus().getDescription()); }
                    }
                    got.addAndGet(n);
                }));
            }
            for (Thread t : ts) t.join();
            double s = (System.nanoTime() - t0) / 1e9;
            System.out.printf("%-30s %d/%d readers got every byte; %.0f MB/s aggregate; first error: %s%n", mode, ok.get(), readers,
                    got.get() / s / 1e6, errors.isEmpty() ? "-" : errors.get(0) + " (" + errors.size() + ")");
            ch.shutdownNow();
        }
    }
}
