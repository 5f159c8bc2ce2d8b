// Diagnostic (not part of bench/run): does the worker's Helidon gRPC server gzip its responses
// to the scheduler's grpc-java channel, and what does that cost? Calls a worker directly over two
// grpc-java channels: one as the scheduler builds it today (advertises grpc-accept-encoding: gzip),
// one whose DecompressorRegistry is empty (advertises nothing, so the server must answer
// uncompressed). Streams a GEN_BYTES job and times unary QueryJob calls on each.
// usage: java -cp 'target/jobscheduler.jar:target/libs/*' bench/GrpcCompressionProbe.java WORKER_ADDR GEN_PATH BYTES
import io.grpc.*;
import io.jobscheduler.grpc.*;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

public class GrpcCompressionProbe {
    public static void main(String[] args) throws Exception {
        String addr = args[0], gen = args[1], bytes = args[2];
        for (int pass = 0; pass < 2; pass++) {
            for (String mode : new String[] {"default (gzip advertised)", "identity only"}) {
                var b = Grpc.newChannelBuilder(addr, InsecureChannelCredentials.create());
                if (mode.startsWith("identity")) b.decompressorRegistry(DecompressorRegistry.emptyInstance().with(Codec.Identity.NONE, false));
                AtomicReference<String> encoding = new AtomicReference<>("(none)");
                ClientInterceptor capture = new ClientInterceptor() {
                    public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> m, CallOptions o, Channel next) {
                        return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(m, o)) {
                            public void start(Listener<R> l, Metadata h) {
                                super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(l) {
                                    public void onHeaders(Metadata headers) {
                                        String e = headers.get(Metadata.Key.of("grpc-encoding", Metadata.ASCII_STRING_MARSHALLER));
                                        if (e != null) encoding.set(e);
                                        super.onHeaders(headers);
                                    }
                                }, h);
                            }
                        };
                    }
                };
                ManagedChannel ch = b.intercept(capture).build();
                var stub = WorkerGrpc.newBlockingStub(ch);
                String job = stub.startJob(StartJobReq.newBuilder().setCommand(gen).setPath(bytes).build()).getJobID();
                long t0 = System.nanoTime(), got = 0;
                var it = stub.streamJob(StreamJobReq.newBuilder().setJobID(job).setFollow(true).build());
                while (it.hasNext()) got += it.next().getOutput().size();
                double s = (System.nanoTime() - t0) / 1e9;
                int n = 3000;
                long q0 = System.nanoTime();
                for (int i = 0; i < n; i++) stub.withDeadlineAfter(5, TimeUnit.SECONDS).queryJob(QueryJobReq.newBuilder().setJobID(job).build());
                double us = (System.nanoTime() - q0) / 1e3 / n;
                if (pass == 1) System.out.printf("%-26s response grpc-encoding=%-8s stream %d bytes at %.0f MB/s; QueryJob %.0f us/call (c=1)%n",
                        mode, encoding.get(), got, got / s / 1e6, us);
                ch.shutdownNow();
            }
        }
    }
}
