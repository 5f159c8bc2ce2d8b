// Diagnostic (not part of bench/run): can a client hang a Helidon 4.5.0 HTTP/2 server's reader
// with one request header larger than the server's HPACK table (docs/helidon-notes.md, "HPACK")?
// Speaks raw HTTP/2 (prior knowledge, no TLS) to a tiny Helidon gRPC server: one HEADERS frame
// whose last header is a literal *with incremental indexing* of VALUE bytes, then a PING. The
// server's answer to the PING (or its silence for 3 s) is printed, with the carriers that spin.
// usage: java -cp 'target/jobscheduler.jar:target/libs/*' bench/HpackInboundProbe.java [VALUE_BYTES...]
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.grpc.GrpcRouting;
import io.jobscheduler.grpc.*;
import java.io.*;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

public class HpackInboundProbe {
    public static void main(String[] args) throws Exception {
        int[] lengths = args.length > 0 ? java.util.Arrays.stream(args).mapToInt(Integer::parseInt).toArray()
                : new int[] {1000, 4000, 4051, 4052, 5000, 7000};
        WebServer server = WebServer.builder().host("127.0.0.1").port(0)
                .addRouting(GrpcRouting.builder().service(new WorkerGrpc.WorkerImplBase() {
                    @Override
                    public void queryJob(QueryJobReq request, StreamObserver<QueryJobRes> response) {
                        response.onError(Status.NOT_FOUND.asRuntimeException());
                    }
                })).build().start();
        System.out.println("request header value bytes (name x-big) | server answered a PING after it | busy carriers (cumulative)");
        for (int length : lengths) {
            String outcome;
            try (Socket socket = new Socket("127.0.0.1", server.port())) {
                socket.setSoTimeout(3000);
                OutputStream out = socket.getOutputStream();
                out.write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                frame(out, 0x4, 0, 0, new byte[0]);                       // SETTINGS, empty
                ByteArrayOutputStream block = new ByteArrayOutputStream();
                block.write(0x83);                                          // :method POST
                block.write(0x86);                                          // :scheme http
                literalIndexedName(block, 4, "/jobscheduler.Worker/QueryJob"); // :path
                literalIndexedName(block, 1, "127.0.0.1");                  // :authority
                literalIndexedName(block, 31, "application/grpc");          // content-type
                block.write(0x40);                                          // literal, incremental indexing, new name
                string(block, "x-big");
                string(block, "v".repeat(length));
                frame(out, 0x1, 0x4, 1, block.toByteArray());              // HEADERS, END_HEADERS, stream 1
                frame(out, 0x6, 0, 0, new byte[8]);                        // PING
                out.flush();
                outcome = awaitPingAck(new DataInputStream(socket.getInputStream()));
            } catch (IOException e) {
                outcome = "connection: " + e.getMessage();
            }
            System.out.printf("%40d | %-32s | %d%n", length, outcome, spinning());
        }
        System.exit(0);
    }

    private static String awaitPingAck(DataInputStream in) throws IOException {
        try {
            while (true) {
                int len = (in.readUnsignedByte() << 16) | (in.readUnsignedByte() << 8) | in.readUnsignedByte();
                int type = in.readUnsignedByte();
                int flags = in.readUnsignedByte();
                in.readInt();
                in.readNBytes(len);
                if (type == 0x6 && (flags & 0x1) != 0) return "yes";
                if (type == 0x7) return "GOAWAY";
            }
        } catch (java.net.SocketTimeoutException e) {
            return "no (silent for 3 s)";
        }
    }

    private static void frame(OutputStream out, int type, int flags, int stream, byte[] payload) throws IOException {
        out.write(new byte[] {(byte) (payload.length >> 16), (byte) (payload.length >> 8), (byte) payload.length,
                (byte) type, (byte) flags, (byte) (stream >> 24), (byte) (stream >> 16), (byte) (stream >> 8), (byte) stream});
        out.write(payload);
    }

    private static void literalIndexedName(ByteArrayOutputStream block, int nameIndex, String value) throws IOException {
        integer(block, 0x00, 4, nameIndex);                                // literal without indexing, indexed name
        string(block, value);
    }

    private static void string(ByteArrayOutputStream block, String text) throws IOException {
        byte[] bytes = text.getBytes(StandardCharsets.US_ASCII);
        integer(block, 0x00, 7, bytes.length);                             // no Huffman
        block.write(bytes);
    }

    private static void integer(ByteArrayOutputStream block, int first, int prefixBits, int value) {
        int max = (1 << prefixBits) - 1;
        if (value < max) {
            block.write(first | value);
            return;
        }
        block.write(first | max);
        value -= max;
        while (value >= 128) {
            block.write((value & 0x7f) | 0x80);
            value >>= 7;
        }
        block.write(value);
    }

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
