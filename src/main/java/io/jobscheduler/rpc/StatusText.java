package io.jobscheduler.rpc;

import io.grpc.ForwardingServerCall;
import io.grpc.ForwardingServerCallListener;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import java.nio.charset.StandardCharsets;

/**
 * The one place every gRPC status message our servers send passes through (see
 * docs/helidon-notes.md, "HPACK"). Helidon 4.5.0's gRPC server writes a status description into
 * the {@code grpc-message} header as it is: it neither percent-encodes it, as the gRPC protocol
 * requires (so non-ASCII reaches grpc-java as mangled bytes), nor survives a long one (its HPACK
 * encoder loops for ever on a header larger than the peer's table). So each description is
 * percent-encoded here, and bounded to {@link #MAX_BYTES} of header value, cut on a character
 * boundary with "…". A handler that throws is answered with the status it threw, since
 * Helidon would leave that call unanswered.
 */
public final class StatusText implements ServerInterceptor {
    private static final System.Logger LOG = System.getLogger(StatusText.class.getName());
    /** The longest {@code grpc-message} value sent, in bytes after percent-encoding. */
    public static final int MAX_BYTES = 1024;
    private static final char[] HEX = "0123456789ABCDEF".toCharArray();
    private static final String ELLIPSIS = percentEncode("…");

    private StatusText() {
    }

    /**
     * A service definition whose every status passes through {@link #wireForm}: a service's
     * {@code bindService()} answers {@code StatusText.bound(WorkerGrpc.bindService(this))}.
     */
    public static ServerServiceDefinition bound(ServerServiceDefinition definition) {
        return ServerInterceptors.intercept(definition, new StatusText());
    }

    /**
     * A description as it goes on the wire: percent-encoded (gRPC's form of {@code grpc-message}:
     * UTF-8, every byte outside printable ASCII and '%' as {@code %XX}), at most
     * {@link #MAX_BYTES} long; a longer one is cut before the first character that does not fit,
     * and ends in an encoded "…".
     */
    public static String wireForm(String description) {
        String encoded = percentEncode(description);
        if (encoded.length() <= MAX_BYTES) {
            return encoded;
        }
        StringBuilder cut = new StringBuilder(MAX_BYTES);
        int budget = MAX_BYTES - ELLIPSIS.length();
        for (int i = 0; i < description.length(); ) {
            int codePoint = description.codePointAt(i);
            String one = percentEncode(Character.toString(codePoint));
            if (cut.length() + one.length() > budget) {
                break;
            }
            cut.append(one);
            i += Character.charCount(codePoint);
        }
        return cut.append(ELLIPSIS).toString();
    }

    static String percentEncode(String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < ' ' || c > '~' || c == '%') {
                StringBuilder out = new StringBuilder(text.length() + 16).append(text, 0, i);
                for (byte b : text.substring(i).getBytes(StandardCharsets.UTF_8)) {
                    if (b < ' ' || b > '~' || b == '%') {
                        out.append('%').append(HEX[(b >> 4) & 0xF]).append(HEX[b & 0xF]);
                    } else {
                        out.append((char) b);
                    }
                }
                return out.toString();
            }
        }
        return text;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        ServerCall<Q, R> bounded = new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
            @Override
            public void close(Status status, Metadata trailers) {
                String description = status.getDescription();
                super.close(description == null ? status : status.withDescription(wireForm(description)), trailers);
            }
        };
        return new ForwardingServerCallListener.SimpleForwardingServerCallListener<>(next.startCall(bounded, headers)) {
            @Override
            public void onMessage(Q message) {
                try {
                    super.onMessage(message);
                } catch (RuntimeException e) {
                    fail(bounded, e);
                }
            }

            @Override
            public void onHalfClose() {
                try {
                    super.onHalfClose();
                } catch (RuntimeException e) {
                    fail(bounded, e);
                }
            }
        };
    }

    /**
     * A handler threw instead of answering. Helidon 4.5.0 only logs that and never closes the
     * call, so the client would wait for its deadline (docs/helidon-notes.md, "HPACK"): answer
     * the status the exception carries (INTERNAL for any other exception).
     */
    private static void fail(ServerCall<?, ?> call, RuntimeException e) {
        Status status = Status.fromThrowable(e);
        if (status.getCode() == Status.Code.UNKNOWN) {
            LOG.log(System.Logger.Level.WARNING, "gRPC handler failed", e);
            status = Status.INTERNAL.withDescription(e.getMessage() == null ? e.toString() : e.getMessage());
        }
        Metadata trailers = Status.trailersFromThrowable(e);
        try {
            call.close(status, trailers == null ? new Metadata() : trailers);
        } catch (IllegalStateException alreadyClosed) {
            // The handler closed the call before it threw: the client has its answer.
        }
    }
}
