package io.jobscheduler.security;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.helidon.webserver.grpc.GrpcConnectionContext;
import io.helidon.webserver.grpc.ServerContextKeys;
import io.jobscheduler.rpc.StatusText;
import java.security.cert.X509Certificate;
import java.util.EnumSet;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Lets through only gRPC callers whose client certificate carries an {@link Identity} of an
 * allowed role, and makes that identity the call's {@link #current()}. For a Helidon gRPC
 * socket with {@code clientAuth(REQUIRED)}: the handshake has already verified the certificate
 * against the CA; this checks who it names. Helidon 4.5.0 does not put the TLS session into
 * {@code call.getAttributes()}; the peer's certificates come from its connection context
 * (docs/helidon-notes.md, "mTLS: how a gRPC service sees its caller").
 */
public final class PeerIdentityInterceptor implements ServerInterceptor {
    private static final Context.Key<Identity> IDENTITY = Context.key("jobscheduler.peer-identity");
    private static final Context.Key<X509Certificate> CERTIFICATE = Context.key("jobscheduler.peer-certificate");

    private final Set<PeerRole> allowed;

    private PeerIdentityInterceptor(Set<PeerRole> allowed) {
        this.allowed = allowed;
    }

    /** Admits only callers with one of {@code roles}; others are {@code PERMISSION_DENIED}. */
    public static PeerIdentityInterceptor allowing(PeerRole first, PeerRole... more) {
        return new PeerIdentityInterceptor(EnumSet.of(first, more));
    }

    /** The caller of the gRPC call being handled on this thread, when it passed this interceptor. */
    public static Optional<Identity> current() {
        return Optional.ofNullable(IDENTITY.get());
    }

    /** The leaf certificate that named {@link #current()}, on the same terms. */
    public static Optional<X509Certificate> currentCertificate() {
        return Optional.ofNullable(CERTIFICATE.get());
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        Optional<X509Certificate> certificate = peerCertificate();
        Optional<Identity> identity;
        try {
            identity = certificate.flatMap(Identity::of);
        } catch (IllegalArgumentException e) {
            return refuse(call, Status.UNAUTHENTICATED.withDescription(e.getMessage()));
        }
        if (identity.isEmpty()) {
            return refuse(call, Status.UNAUTHENTICATED.withDescription(
                    "a client certificate with a jobscheduler identity is required"));
        }
        if (!allowed.contains(identity.get().role())) {
            return refuse(call, Status.PERMISSION_DENIED.withDescription(identity.get() + " may not call "
                    + call.getMethodDescriptor().getFullMethodName() + " (allowed: "
                    + allowed.stream().map(PeerRole::word).collect(Collectors.joining(", ")) + ")"));
        }
        // Attached to every callback of the call, so the service method (run after this returns) sees it.
        return Contexts.interceptCall(Context.current().withValue(IDENTITY, identity.get())
                .withValue(CERTIFICATE, certificate.get()), call, headers, next);
    }

    /** The leaf certificate the peer presented on this connection, when it presented one. */
    private static Optional<X509Certificate> peerCertificate() {
        GrpcConnectionContext connection = ServerContextKeys.CONNECTION_CONTEXT.get();
        if (connection == null) {
            return Optional.empty();
        }
        return connection.remotePeer().tlsCertificates()
                .filter(chain -> chain.length > 0)
                .map(chain -> chain[0])
                .filter(X509Certificate.class::isInstance)
                .map(X509Certificate.class::cast);
    }

    private static <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, Status status) {
        // Outside the service's own StatusText, so bounded and encoded here (docs/helidon-notes.md, "HPACK").
        call.close(status.withDescription(StatusText.wireForm(status.getDescription())), new Metadata());
        return new ServerCall.Listener<>() {
        };
    }
}
