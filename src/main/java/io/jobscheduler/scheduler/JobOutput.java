package io.jobscheduler.scheduler;

import com.google.protobuf.ByteOutput;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Context;
import io.grpc.StatusRuntimeException;
import io.jobscheduler.grpc.StreamJobReq;
import io.jobscheduler.grpc.StreamJobRes;
import io.jobscheduler.grpc.WorkerGrpc;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The output streams open through the gateway: each rides a pooled one-stream channel of its
 * worker ({@link WorkerConnections}), and all of them end at once on shutdown.
 */
public final class JobOutput {
    private final SchedulerMeters meters;
    private final ReentrantLock lock = new ReentrantLock();
    private final Set<Call> following = new HashSet<>();   // guarded by lock
    private boolean closing;                               // guarded by lock

    JobOutput(SchedulerMeters meters) {
        this.meters = meters;
    }

    /**
     * Opens {@code jobId}'s output on {@code worker} from {@code offset}. With {@code confirm}
     * (a job the scheduler does not hold) it waits for the stream's first answer, so a job the
     * worker does not know fails here rather than after the caller has committed its answer.
     */
    Call open(Worker worker, String jobId, long offset, boolean follow, boolean confirm) {
        UUID workerId = worker.record.id();
        WorkerConnections.Lease lease = worker.connections.leaseStream()
                .orElseThrow(() -> new SchedulerException.WorkerLeft(workerId));
        // No deadline: a follow lasts as long as the job. Closing the context cancels the call.
        Context.CancellableContext context = Context.current().withCancellation();
        StreamJobReq request = StreamJobReq.newBuilder().setJobID(jobId).setOffset(offset).setFollow(follow).build();
        Iterator<StreamJobRes> chunks;
        Context previous = context.attach();
        try {
            chunks = WorkerGrpc.newBlockingStub(lease.channel()).streamJob(request);
        } finally {
            context.detach(previous);
        }
        Call call = new Call(workerId, jobId, offset, chunks, context, lease);
        boolean accepted;
        lock.lock();
        try {
            accepted = !closing;
            if (accepted) {
                following.add(call);
            }
        } finally {
            lock.unlock();
        }
        if (!accepted) {
            call.close();
            throw new SchedulerException.ShuttingDown();
        }
        if (confirm) {
            try {
                call.hasNext();
            } catch (RuntimeException e) {
                call.close();
                throw e;
            }
        }
        return call;
    }

    /** Ends every stream and refuses new ones. */
    void endAll() {
        List<Call> open;
        lock.lock();
        try {
            closing = true;
            open = new ArrayList<>(following);
        } finally {
            lock.unlock();
        }
        open.forEach(Call::close);
    }

    /**
     * A job's output arriving from its worker, chunk by chunk, in order. Closing it cancels the
     * worker's stream at once (the HTTP client went away, or the caller is done).
     */
    public final class Call implements AutoCloseable {
        private final UUID workerId;
        private final String jobId;
        private final Iterator<StreamJobRes> chunks;
        private final Context.CancellableContext context;
        private final WorkerConnections.Lease lease;
        private long position;

        private Call(UUID workerId, String jobId, long offset, Iterator<StreamJobRes> chunks,
                     Context.CancellableContext context, WorkerConnections.Lease lease) {
            this.workerId = workerId;
            this.jobId = jobId;
            this.position = offset;
            this.chunks = chunks;
            this.context = context;
            this.lease = lease;
        }

        private boolean hasNext() {
            try {
                return chunks.hasNext();
            } catch (StatusRuntimeException e) {
                throw WorkerFailures.of(workerId, jobId, null, e);
            }
        }

        /**
         * Writes the next chunk to {@code sink} (without copying it); false once every byte has
         * been sent.
         */
        public boolean sendNext(OutputStream sink) throws IOException {
            if (!hasNext()) {
                return false;
            }
            StreamJobRes chunk;
            try {
                chunk = chunks.next();
            } catch (StatusRuntimeException e) {
                throw WorkerFailures.of(workerId, jobId, null, e);
            }
            // A chunk that does not start where the last ended would lose or repeat bytes.
            // (Offset 0 after the start is an original-contract worker that leaves it unset.)
            if (chunk.getOffset() != position && chunk.getOffset() != 0) {
                throw new SchedulerException.WorkerBroke("worker " + workerId + " sent output at offset "
                        + chunk.getOffset() + ", expected " + position);
            }
            ByteString output = chunk.getOutput();
            position += output.size();
            // ByteString.writeTo(OutputStream) hands the stream a fresh copy of its bytes (a
            // defensive copy: 1 in 9 of the scheduler's JFR samples while streaming, with its
            // allocation); the sink only writes them before returning, so it may see the array.
            UnsafeByteOperations.unsafeWriteTo(output, new SinkOutput(sink));
            meters.outputStreamed(output.size());
            return true;
        }

        /** A {@link ByteOutput} over a stream that is done with an array once {@code write} returns. */
        private static final class SinkOutput extends ByteOutput {
            private final OutputStream sink;

            SinkOutput(OutputStream sink) {
                this.sink = sink;
            }

            @Override
            public void write(byte value) throws IOException {
                sink.write(value);
            }

            @Override
            public void write(byte[] value, int offset, int length) throws IOException {
                sink.write(value, offset, length);
            }

            @Override
            public void writeLazy(byte[] value, int offset, int length) throws IOException {
                sink.write(value, offset, length);
            }

            @Override
            public void write(ByteBuffer value) throws IOException {
                writeLazy(value);
            }

            @Override
            public void writeLazy(ByteBuffer value) throws IOException {
                if (value.hasArray()) {
                    sink.write(value.array(), value.arrayOffset() + value.position(), value.remaining());
                } else {
                    byte[] copy = new byte[value.remaining()];
                    value.duplicate().get(copy);
                    sink.write(copy);
                }
            }
        }

        /** Cancels the worker's stream if it is still open, and returns its channel to the pool. */
        @Override
        public void close() {
            context.cancel(null);
            lease.close();
            lock.lock();
            try {
                following.remove(this);
            } finally {
                lock.unlock();
            }
        }
    }
}
