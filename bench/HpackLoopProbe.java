// Diagnostic (not part of bench/run): Helidon 4.5.0's HPACK encoder loops for ever on a header
// value larger than the peer's dynamic table (docs/helidon-notes.md, "HPACK"). A tiny Helidon gRPC
// server whose StartJob fails with FAILED_PRECONDITION quoting the command, NOT bound through
// StatusText, is called by grpc-java with a 3 s deadline for each description length; for each the
// probe prints the status the client got and how many server carrier threads
// spin at 100 % CPU (in Http2Headers$DynamicTable.add, seen with jstack). Each length gets its own channel (a looping writer holds its
// connection). Ends with System.exit: a spinning carrier thread cannot be stopped otherwise.
// usage: java -cp 'target/jobscheduler.jar:target/libs/*' bench/HpackLoopProbe.java [LENGTH...]
import io.grpc.*;
import io.grpc.stub.StreamObserver;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.grpc.GrpcRouting;
import io.jobscheduler.grpc.*;
import java.util.concurrent.TimeUnit;

public class HpackLoopProbe {
    public static void main(String[] args) throws Exception {
        int[] lengths = args.length > 0 ? java.util.Arrays.stream(args).mapToInt(Integer::parseInt).toArray()
                : new int[] {1000, 4000, 4051, 4052, 4053, 5000, 100000};
        WebServer server = WebServer.builder().host("127.0.0.1").port(0)
                .addRouting(GrpcRouting.builder().service(new WorkerGrpc.WorkerImplBase() {
                    @Override
                    public void startJob(StartJobReq request, StreamObserver<StartJobRes> response) {
                        response.onError(Status.FAILED_PRECONDITION.withDescription(request.getCommand()).asRuntimeException());
                    }
                })).build().start();
        System.out.println("grpc-message value bytes | client saw | busy server carriers (cumulative)");
        for (int length : lengths) {
            ManagedChannel channel = Grpc.newChannelBuilder("127.0.0.1:" + server.port(),
                    InsecureChannelCredentials.create()).build();
            String outcome;
            try {
                WorkerGrpc.newBlockingStub(channel).withDeadlineAfter(3, TimeUnit.SECONDS)
                        .startJob(StartJobReq.newBuilder().setCommand("c".repeat(length)).build());
                outcome = "OK (unexpected)";
            } catch (StatusRuntimeException e) {
                outcome = e.getStatus().getCode() + (e.getStatus().getDescription() == null ? ""
                        : " (" + e.getStatus().getDescription().length() + " chars)");
            }
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            System.out.printf("%25d | %-30s | %d%n", length, outcome, spinning());
        }
        System.exit(0);
    }

    /**
     * Threads that used more than half a core over one second, the client idle: Helidon runs
     * connections on virtual threads, whose frames a thread dump of the carriers does not show,
     * so a spinning writer is seen as a busy carrier.
     */
    private static long spinning() throws InterruptedException {
        var threads = java.lang.management.ManagementFactory.getThreadMXBean();
        long[] ids = threads.getAllThreadIds();
        long[] before = new long[ids.length];
        for (int i = 0; i < ids.length; i++) before[i] = threads.getThreadCpuTime(ids[i]);
        Thread.sleep(1000);
        long busy = 0;
        for (int i = 0; i < ids.length; i++) {
            long after = threads.getThreadCpuTime(ids[i]);
            if (before[i] >= 0 && after - before[i] > 500_000_000L) busy++;
        }
        return busy;
    }
}
