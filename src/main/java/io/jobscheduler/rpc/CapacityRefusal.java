package io.jobscheduler.rpc;

import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/**
 * A worker's "I am full" ({@code [jobs] max_running} reached) told apart from its other
 * {@code RESOURCE_EXHAUSTED} refusals (out of descriptors, memory or disk): the same status, with
 * the trailer {@code jobscheduler-refusal: capacity}. The scheduler queues a job the first kind
 * refused (its view of the worker was stale), and answers 503 with {@code Retry-After} to the
 * second. A peer of the original contract sends no such trailer, so its refusals are the second
 * kind. (docs/architecture.md, "Wire contract".)
 */
public final class CapacityRefusal {
    static final Metadata.Key<String> KEY = Metadata.Key.of("jobscheduler-refusal", Metadata.ASCII_STRING_MARSHALLER);
    static final String CAPACITY = "capacity";

    private CapacityRefusal() {
    }

    /** The refusal of a start beyond the worker's capacity, saying {@code description}. */
    public static StatusRuntimeException full(String description) {
        Metadata trailers = new Metadata();
        trailers.put(KEY, CAPACITY);
        return Status.RESOURCE_EXHAUSTED.withDescription(description).asRuntimeException(trailers);
    }

    /** Whether {@code e} is a refusal made by {@link #full}. */
    public static boolean isFull(StatusRuntimeException e) {
        Metadata trailers = e.getTrailers();
        return e.getStatus().getCode() == Status.Code.RESOURCE_EXHAUSTED && trailers != null
                && CAPACITY.equals(trailers.get(KEY));
    }
}
