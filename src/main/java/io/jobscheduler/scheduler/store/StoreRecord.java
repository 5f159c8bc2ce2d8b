package io.jobscheduler.scheduler.store;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One change of the scheduler's durable state. Plain data (no scheduler types), so a store can
 * encode it without knowing the scheduler: {@link Queued} a job accepted, {@link Dispatching} a
 * start about to be sent (recorded before the call), {@link Placed} its worker's answer,
 * {@link Requeued} a job back in the queue, {@link Removed} one that left it for good (stopped,
 * refused, lost), {@link Key} an idempotency key.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "t")
@JsonSubTypes({
        @JsonSubTypes.Type(value = StoreRecord.Queued.class, name = "queued"),
        @JsonSubTypes.Type(value = StoreRecord.Dispatching.class, name = "dispatching"),
        @JsonSubTypes.Type(value = StoreRecord.Placed.class, name = "placed"),
        @JsonSubTypes.Type(value = StoreRecord.Requeued.class, name = "requeued"),
        @JsonSubTypes.Type(value = StoreRecord.Removed.class, name = "removed"),
        @JsonSubTypes.Type(value = StoreRecord.Key.class, name = "key")})
public sealed interface StoreRecord {
    String jobId();

    /**
     * What a start runs (the scheduler's {@code JobStart}, as data); {@code timeoutMillis} 0 and
     * {@code user} "" are none; {@code limits} maps a limit's name ({@code memory}, {@code cpu} in
     * thousandths of a core, {@code pids}, {@code output}) to its value, a limit not set absent.
     */
    record Start(String command, String path, List<String> args, Map<String, String> env, long timeoutMillis,
                 String user, Map<String, Long> limits) {
        public Start {
            Objects.requireNonNull(command, "command");
            Objects.requireNonNull(path, "path");
            args = List.copyOf(args);
            env = Map.copyOf(env);
            Objects.requireNonNull(user, "user");
            limits = limits == null ? Map.of() : Map.copyOf(limits);
        }
    }

    /**
     * A job accepted into the queue. {@code pinned} is "" when none; {@code arrival} orders equal
     * priorities. {@code key} is the idempotency key it was made for, if any (in the same record,
     * so the two are never split by a crash).
     */
    record Queued(String jobId, Start start, Map<String, String> constraints, String pinned, int priority,
                  long arrival, long submittedAtMillis, Key key) implements StoreRecord {
    }

    /**
     * A start is about to be sent to {@code workerId}; a job not queued before (sent at once) carries
     * its {@code start} and {@code key}, else they are null. After a crash the same start is sent
     * to the same worker again.
     */
    record Dispatching(String jobId, String workerId, Start start, Key key) implements StoreRecord {
    }

    /** The worker answered the start: the job is there. */
    record Placed(String jobId, String workerId, String command, String path, long startedAtMillis)
            implements StoreRecord {
    }

    /** Back in the queue; {@code resendTo} ("" for none) is the worker it may already have reached. */
    record Requeued(String jobId, String resendTo) implements StoreRecord {
    }

    /** Left the queue for good; {@code state} is what it ended as (STOPPED, FAILED, LOST), {@code why} says why. */
    record Removed(String jobId, String workerId, String state, String why) implements StoreRecord {
    }

    /**
     * An idempotency key: within {@code scope} (the caller's identity), {@code key} named the
     * start whose canonical form hashes to {@code sha256}, which made job {@code jobId}.
     */
    record Key(String scope, String key, String sha256, String jobId, long createdAtMillis) implements StoreRecord {
    }
}
