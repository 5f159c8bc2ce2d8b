package io.jobscheduler.security;

import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.stub.StreamObserver;
import io.helidon.common.configurable.Resource;
import io.helidon.common.tls.Tls;
import io.helidon.common.tls.TlsClientAuth;
import io.helidon.webclient.grpc.GrpcClient;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.grpc.GrpcRouting;
import io.helidon.webserver.grpc.ServerContextKeys;
import io.jobscheduler.grpc.RegisterReq;
import io.jobscheduler.grpc.RegisterRes;
import io.jobscheduler.grpc.SchedulerGrpc;
import io.jobscheduler.grpc.StreamJobReq;
import io.jobscheduler.grpc.StreamJobRes;
import io.jobscheduler.grpc.WorkerGrpc;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.instanceOf;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.notNullValue;
import static org.hamcrest.Matchers.nullValue;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * How a gRPC service on a Helidon 4.5.0 socket with {@code clientAuth(REQUIRED)} learns who is
 * calling, and what the handshake refuses before any service code runs
 * (docs/helidon-notes.md, "mTLS: how a gRPC service sees its caller"). The service is the
 * scheduler's {@code RegisterWorker}, admitting the worker role only; it answers with the
 * identity it saw.
 */
class MutualTlsGrpcTest {
    @TempDir
    static Path dir;

    private static TestPki pki;
    private static TestPki otherPki;
    private static WebServer server;
    private static WebServer workerServer;
    /** Serves a scheduler certificate valid only for "elsewhere.example.org", not the address dialed. */
    private static WebServer misnamedServer;
    /** Serves a scheduler certificate whose only host SAN is IP 127.0.0.1. */
    private static WebServer ipOnlyServer;
    private static final RecordingScheduler SERVICE = new RecordingScheduler();
    /** What a plain interceptor finds in the call's attributes and gRPC context, per call. */
    private static final CopyOnWriteArrayList<Optional<SSLSession>> ATTRIBUTE_SESSIONS = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void startServer() {
        pki = new TestPki(dir.resolve("pki"));
        otherPki = new TestPki(dir.resolve("other"));
        pki.issue(PeerRole.SCHEDULER, "scheduler");
        pki.issue(PeerRole.WORKER, "w1");
        pki.issue(PeerRole.CLIENT, "alice");
        Instant now = Instant.now();
        pki.issue(PeerRole.WORKER, "expired", now.minus(Duration.ofDays(2)), now.minus(Duration.ofDays(1)));
        otherPki.issue(PeerRole.WORKER, "w1");
        pki.issue(PeerRole.SCHEDULER, "misnamed", List.of(HostSan.parse("elsewhere.example.org")),
                now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(1)));
        pki.issue(PeerRole.SCHEDULER, "ip-only", List.of(HostSan.parse("127.0.0.1")),
                now.minus(Duration.ofHours(1)), now.plus(Duration.ofDays(1)));
        ServerInterceptor probe = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                               ServerCallHandler<Q, R> next) {
                ATTRIBUTE_SESSIONS.add(Optional.ofNullable(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION)));
                return next.startCall(call, headers);
            }
        };
        server = mutualTlsServer("scheduler", GrpcRouting.builder()
                .intercept(probe, PeerIdentityInterceptor.allowing(PeerRole.WORKER))
                .service(SERVICE));
        workerServer = mutualTlsServer("w1", GrpcRouting.builder()
                .intercept(PeerIdentityInterceptor.allowing(PeerRole.SCHEDULER))
                .service(new EchoingWorker()));
        misnamedServer = mutualTlsServer("misnamed", GrpcRouting.builder()
                .intercept(PeerIdentityInterceptor.allowing(PeerRole.WORKER))
                .service(SERVICE));
        ipOnlyServer = mutualTlsServer("ip-only", GrpcRouting.builder()
                .intercept(PeerIdentityInterceptor.allowing(PeerRole.WORKER))
                .service(SERVICE));
    }

    /** A gRPC socket serving {@code name}'s certificate and requiring one from {@link #pki}'s CA. */
    private static WebServer mutualTlsServer(String name, GrpcRouting.Builder routing) {
        return WebServer.builder()
                .shutdownHook(false)
                .featuresDiscoverServices(false)
                .host("127.0.0.1")
                .port(0)
                .tls(Tls.builder()
                        .privateKey(key -> key.pem(pem -> pem.key(Resource.create(pki.key(name)))))
                        .privateKeyCertChain(chain -> chain.pem(pem -> pem.certChain(
                                Resource.create(pki.certificate(name)))))
                        .trust(trust -> trust.pem(pem -> pem.certificates(Resource.create(pki.caFile()))))
                        .clientAuth(TlsClientAuth.REQUIRED)
                        .build())
                .addRouting(routing)
                .build()
                .start();
    }

    @AfterAll
    static void stopServer() {
        for (WebServer running : new WebServer[] {server, workerServer, misnamedServer, ipOnlyServer}) {
            if (running != null) {
                running.stop();
            }
        }
    }

    @Test
    void theServiceSeesTheWorkerNamedInTheClientCertificate() {
        int before = SERVICE.calls.get();
        RegisterRes answer = callWithGrpcJava(withCertificate(pki, "w1"));
        assertThat(answer.getWorkerID(), is("worker/w1"));
        assertThat(SERVICE.calls.get(), is(before + 1));
        assertThat("the connection context is visible in the service method too", SERVICE.sawConnectionContext, is(true));
    }

    @Test
    void aStreamingServiceSeesTheSchedulerOnTheCallsThread() {
        ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", workerServer.port(),
                withCertificate(pki, "scheduler")).build();
        try {
            List<String> outputs = new ArrayList<>();
            WorkerGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .streamJob(StreamJobReq.newBuilder().setJobID("j").build())
                    .forEachRemaining(message -> outputs.add(message.getOutput().toStringUtf8()));
            assertThat(outputs, is(List.of("scheduler/scheduler", "another thread sees nothing")));
        } finally {
            channel.shutdownNow();
        }
    }

    @Test
    void aWorkerMayNotCallAnotherWorker() {
        ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", workerServer.port(),
                withCertificate(pki, "w1")).build();
        try {
            var stream = WorkerGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .streamJob(StreamJobReq.newBuilder().setJobID("j").build());
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, stream::hasNext);
            assertThat(e.getStatus().getCode(), is(Status.Code.PERMISSION_DENIED));
            assertThat(e.getStatus().getDescription(), containsString("worker/w1 may not call jobscheduler.Worker/StreamJob"));
        } finally {
            channel.shutdownNow();
        }
    }

    @Test
    void helidon450PutsNoSslSessionIntoTheCallAttributes() {
        ATTRIBUTE_SESSIONS.clear();
        callWithGrpcJava(withCertificate(pki, "w1"));
        assertThat(ATTRIBUTE_SESSIONS.size(), is(1));
        assertThat(ATTRIBUTE_SESSIONS.getFirst().orElse(null), nullValue());
    }

    @Test
    void aCertificateOfAnotherRoleIsPermissionDenied() {
        int before = SERVICE.calls.get();
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> callWithGrpcJava(withCertificate(pki, "alice")));
        assertThat(e.getStatus().getCode(), is(Status.Code.PERMISSION_DENIED));
        assertThat(e.getStatus().getDescription(), containsString("client/alice may not call jobscheduler.Scheduler/RegisterWorker"));
        assertThat(SERVICE.calls.get(), is(before));
    }

    @Test
    void noClientCertificateIsRefusedAtTheHandshake() throws Exception {
        assertRefusedAtHandshake(TlsChannelCredentials.newBuilder().trustManager(pki.caFile().toFile()).build(),
                "CERTIFICATE_REQUIRED");
    }

    @Test
    void aCertificateFromAnotherCaIsRefusedAtTheHandshake() {
        // The server's CertificateRequest names the CA it trusts; a client whose certificate is
        // from another CA sends none, so this is "certificate required" too.
        assertRefusedAtHandshake(withCertificate(otherPki, "w1"), "CERTIFICATE_REQUIRED");
    }

    @Test
    void aCertificateFromAnotherCaSentAnywayIsRefusedByTheServer() throws Exception {
        // A hostile client sends its certificate whatever the server asks for.
        PrivateKey key = Pem.readPrivateKey(otherPki.key("w1"));
        X509Certificate[] chain = {Pem.readCertificate(otherPki.certificate("w1"))};
        X509ExtendedKeyManager alwaysThisOne = new X509ExtendedKeyManager() {
            @Override
            public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
                return "w1";
            }

            @Override
            public X509Certificate[] getCertificateChain(String alias) {
                return chain;
            }

            @Override
            public PrivateKey getPrivateKey(String alias) {
                return key;
            }

            @Override
            public String[] getClientAliases(String keyType, Principal[] issuers) {
                return new String[] {"w1"};
            }

            @Override
            public String[] getServerAliases(String keyType, Principal[] issuers) {
                return null;
            }

            @Override
            public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
                return null;
            }
        };
        KeyStore trusted = KeyStore.getInstance("PKCS12");
        trusted.load(null, null);
        trusted.setCertificateEntry("ca", pki.ca.certificate());
        TrustManagerFactory trust = TrustManagerFactory.getInstance("PKIX");
        trust.init(trusted);
        SSLContext context = SSLContext.getInstance("TLSv1.3");
        context.init(new KeyManager[] {alwaysThisOne}, trust.getTrustManagers(), null);
        int before = SERVICE.calls.get();
        try (SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket("127.0.0.1", server.port())) {
            socket.setSoTimeout(10_000);
            // TLS 1.3: the client is done before the server has judged its certificate. The refusal
            // then arrives as the server's alert, or, when the server has already closed the
            // socket by the time the client writes, as a broken pipe: either way no call is served.
            IOException e = assertThrows(IOException.class, () -> {
                socket.startHandshake();
                socket.getOutputStream().write("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                socket.getOutputStream().flush();
                socket.getInputStream().read();
            });
            if (e instanceof SSLException) {
                assertThat(e.getMessage(), containsString("certificate_unknown"));
            } else {
                assertThat(e, instanceOf(java.net.SocketException.class));
            }
        }
        assertThat(SERVICE.calls.get(), is(before));
    }

    @Test
    void anExpiredCertificateIsRefusedAtTheHandshake() {
        assertRefusedAtHandshake(withCertificate(pki, "expired"), "CERTIFICATE_UNKNOWN");
    }

    @Test
    void helidonsGrpcClientPresentsItsCertificate() {
        GrpcClient client = helidonClient(workerTls());
        RegisterRes answer = SchedulerGrpc.newBlockingStub(client.channel())
                .registerWorker(RegisterReq.newBuilder().setAddress("127.0.0.1:1").build());
        assertThat(answer.getWorkerID(), is("worker/w1"));
    }

    @Test
    void helidonsGrpcClientWithoutACertificateIsRefused() {
        int before = SERVICE.calls.get();
        GrpcClient client = helidonClient(Tls.builder()
                .trust(trust -> trust.pem(pem -> pem.certificates(Resource.create(pki.caFile()))))
                .build());
        // Helidon's client reports transport failures as unchecked I/O or state exceptions, not gRPC statuses.
        RuntimeException e = assertThrows(RuntimeException.class, () -> SchedulerGrpc.newBlockingStub(client.channel())
                .registerWorker(RegisterReq.newBuilder().setAddress("127.0.0.1:1").build()));
        assertThat(e, notNullValue());
        assertThat(SERVICE.calls.get(), is(before));
    }

    @Test
    void bothClientsRefuseAServerWhoseCertificateDoesNotNameTheAddressDialed() {
        int before = SERVICE.calls.get();
        ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", misnamedServer.port(),
                withCertificate(pki, "w1")).build();
        try {
            StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> SchedulerGrpc
                    .newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .registerWorker(RegisterReq.newBuilder().setAddress("127.0.0.1:1").build()));
            assertThat(e.getStatus().getCode(), is(Status.Code.UNAVAILABLE));
            assertThat(causes(e), containsString("No subject alternative names matching IP address 127.0.0.1"));
        } finally {
            channel.shutdownNow();
        }
        GrpcClient helidon = helidonClient(misnamedServer, workerTls());
        RuntimeException e = assertThrows(RuntimeException.class, () -> SchedulerGrpc.newBlockingStub(helidon.channel())
                .registerWorker(RegisterReq.newBuilder().setAddress("127.0.0.1:1").build()));
        assertThat(causes(e), containsString("No subject alternative DNS name matching "));
        assertThat(SERVICE.calls.get(), is(before));
    }

    @Test
    void helidonsClientChecksTheNameTheDialedIpReverseResolvesToNotTheIp() throws Exception {
        String reverseName = InetAddress.getByName("127.0.0.1").getHostName();
        Assumptions.assumeFalse(reverseName.equals("127.0.0.1"),
                "SKIPPED: 127.0.0.1 has no reverse name on this machine, so Helidon's client would check the IP");
        ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", ipOnlyServer.port(),
                withCertificate(pki, "w1")).build();
        try {
            assertThat("grpc-java checks the IP literal it dialed", SchedulerGrpc.newBlockingStub(channel)
                    .withDeadlineAfter(10, TimeUnit.SECONDS)
                    .registerWorker(RegisterReq.newBuilder().setAddress("127.0.0.1:1").build()).getWorkerID(),
                    is("worker/w1"));
        } finally {
            channel.shutdownNow();
        }
        GrpcClient helidon = helidonClient(ipOnlyServer, workerTls());
        RuntimeException e = assertThrows(RuntimeException.class, () -> SchedulerGrpc.newBlockingStub(helidon.channel())
                .registerWorker(RegisterReq.newBuilder().setAddress("127.0.0.1:1").build()));
        assertThat(causes(e), containsString("No name matching " + reverseName + " found"));
    }

    private static Tls workerTls() {
        return Tls.builder()
                .privateKey(key -> key.pem(pem -> pem.key(Resource.create(pki.key("w1")))))
                .privateKeyCertChain(chain -> chain.pem(pem -> pem.certChain(Resource.create(pki.certificate("w1")))))
                .trust(trust -> trust.pem(pem -> pem.certificates(Resource.create(pki.caFile()))))
                .build();
    }

    private static GrpcClient helidonClient(Tls tls) {
        return helidonClient(server, tls);
    }

    private static GrpcClient helidonClient(WebServer target, Tls tls) {
        return GrpcClient.builder()
                .baseUri("https://127.0.0.1:" + target.port())
                .tls(tls)
                .readTimeout(Duration.ofSeconds(10))
                .build();
    }

    /** The call fails with the TLS alert {@code alert} from the server, and no service code ran. */
    private static void assertRefusedAtHandshake(ChannelCredentials credentials, String alert) {
        int before = SERVICE.calls.get();
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> callWithGrpcJava(credentials));
        assertThat(String.valueOf(e.getStatus()), e.getStatus().getCode(), is(Status.Code.UNAVAILABLE));
        assertThat(causes(e), containsString("ALERT_" + alert));
        assertThat(SERVICE.calls.get(), is(before));
    }

    /** The messages of {@code e} and its causes, to tell one refusal from another. */
    private static String causes(Throwable e) {
        StringBuilder causes = new StringBuilder();
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            causes.append(cause).append(" / ");
        }
        return causes.toString();
    }

    private static ChannelCredentials withCertificate(TestPki issuer, String name) {
        try {
            return TlsChannelCredentials.newBuilder()
                    .keyManager(issuer.certificate(name).toFile(), issuer.key(name).toFile())
                    .trustManager(pki.caFile().toFile())
                    .build();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static RegisterRes callWithGrpcJava(ChannelCredentials credentials) {
        ManagedChannel channel = Grpc.newChannelBuilderForAddress("127.0.0.1", server.port(), credentials).build();
        try {
            return SchedulerGrpc.newBlockingStub(channel).withDeadlineAfter(10, TimeUnit.SECONDS)
                    .registerWorker(RegisterReq.newBuilder().setAddress("127.0.0.1:1").build());
        } finally {
            channel.shutdownNow();
        }
    }

    /**
     * Streams the caller's identity as the method body sees it, then what a thread of the
     * service's own sees (gRPC's {@code Context} does not follow a new thread: read it first).
     */
    private static final class EchoingWorker extends WorkerGrpc.WorkerImplBase {
        @Override
        public void streamJob(StreamJobReq request, StreamObserver<StreamJobRes> answer) {
            String caller = PeerIdentityInterceptor.current().orElseThrow().toString();
            answer.onNext(StreamJobRes.newBuilder().setOutput(ByteString.copyFromUtf8(caller)).build());
            Thread.ofVirtual().start(() -> {
                answer.onNext(StreamJobRes.newBuilder().setOutput(ByteString.copyFromUtf8("another thread sees "
                        + PeerIdentityInterceptor.current().map(Identity::toString).orElse("nothing"))).build());
                answer.onCompleted();
            });
        }
    }

    /** Answers a registration with the identity of its caller, as the real scheduler will bind it. */
    private static final class RecordingScheduler extends SchedulerGrpc.SchedulerImplBase {
        final AtomicInteger calls = new AtomicInteger();
        volatile boolean sawConnectionContext;

        @Override
        public void registerWorker(RegisterReq request, StreamObserver<RegisterRes> answer) {
            calls.incrementAndGet();
            sawConnectionContext = ServerContextKeys.CONNECTION_CONTEXT.get() != null;
            Identity caller = PeerIdentityInterceptor.current().orElseThrow();
            answer.onNext(RegisterRes.newBuilder().setSuccess(true).setWorkerID(caller.toString()).build());
            answer.onCompleted();
        }
    }
}
