package io.jobscheduler.worker;

import io.grpc.BindableService;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.jobscheduler.grpc.Heartbeat;
import io.jobscheduler.grpc.ListJobsReq;
import io.jobscheduler.grpc.ListJobsRes;
import io.jobscheduler.grpc.QueryJobReq;
import io.jobscheduler.grpc.QueryJobRes;
import io.jobscheduler.grpc.StartJobReq;
import io.jobscheduler.grpc.StartJobRes;
import io.jobscheduler.grpc.StopJobReq;
import io.jobscheduler.grpc.StopJobRes;
import io.jobscheduler.grpc.StreamJobReq;
import io.jobscheduler.grpc.StreamJobRes;
import io.jobscheduler.grpc.WatchReq;
import io.jobscheduler.grpc.WorkerGrpc;
import io.jobscheduler.rpc.JobIds;
import io.jobscheduler.rpc.StatusText;
import io.jobscheduler.worker.job.JobRunner;
import io.jobscheduler.worker.job.OutputLog;
import io.jobscheduler.worker.job.UnknownJobException;
import com.google.protobuf.UnsafeByteOperations;
import java.nio.ByteBuffer;
import java.util.concurrent.CancellationException;

import static io.jobscheduler.worker.GrpcErrors.invalid;
import static io.jobscheduler.worker.GrpcErrors.toStatus;
import static io.jobscheduler.worker.GrpcErrors.unary;

/**
 * The worker's side of the wire contract: translates each RPC into a {@link JobRunner} call, its
 * answer through {@link JobProtos}, and each failure through {@link GrpcErrors}. Every status
 * passes through {@link StatusText}.
 */
final class WorkerGrpcService implements WorkerGrpc.AsyncService, BindableService {
    static final int MAX_CHUNK = OutputLog.MAX_CHUNK;

    private final JobRunner runner;
    private final StartGate gate;
    private final WatchService watches;

    WorkerGrpcService(JobRunner runner, StartGate gate, WatchService watches) {
        this.runner = runner;
        this.gate = gate;
        this.watches = watches;
    }

    /** Every status this service answers is bounded and encoded for the wire (docs/helidon-notes.md, "HPACK"). */
    @Override
    public ServerServiceDefinition bindService() {
        return StatusText.bound(WorkerGrpc.bindService(this));
    }

    @Override
    public void watch(WatchReq request, StreamObserver<Heartbeat> response) {
        watches.watch(request, (ServerCallStreamObserver<Heartbeat>) response);
    }

    @Override
    public void startJob(StartJobReq request, StreamObserver<StartJobRes> response) {
        unary(response, () -> JobProtos.started(gate.start(JobProtos.request(request),
                request.getJobId().isEmpty() ? java.util.Optional.empty() : java.util.Optional.of(request.getJobId()))));
    }

    @Override
    public void stopJob(StopJobReq request, StreamObserver<StopJobRes> response) {
        unary(response, () -> {
            runner.stop(jobId(request.getJobID()));
            return StopJobRes.getDefaultInstance();
        });
    }

    @Override
    public void queryJob(QueryJobReq request, StreamObserver<QueryJobRes> response) {
        unary(response, () -> JobProtos.query(runner.status(jobId(request.getJobID()))));
    }

    @Override
    public void listJobs(ListJobsReq request, StreamObserver<ListJobsRes> response) {
        unary(response, () -> JobProtos.list(runner.snapshot()));
    }

    @Override
    public void streamJob(StreamJobReq request, StreamObserver<StreamJobRes> response) {
        OutputLog.Reader reader;
        try {
            if (request.getOffset() < 0) {
                throw invalid("offset: must not be negative, was " + request.getOffset());
            }
            reader = runner.output(jobId(request.getJobID())).reader();
        } catch (Exception e) {
            response.onError(toStatus(e));
            return;
        }
        var call = (ServerCallStreamObserver<StreamJobRes>) response;
        // A cancelled call wakes the reader through the log, never by interrupting its thread:
        // an interrupt during a socket write would close the connection every stream shares.
        // Its own thread, because a write to a slow client blocks the writer
        // (docs/helidon-notes.md, "Helidon's HTTP/2 server").
        call.setOnCancelHandler(reader::cancel);
        Thread.ofVirtual().name("stream-" + request.getJobID()).start(
                () -> send(request.getJobID(), reader, request.getOffset(), request.getFollow(), call));
    }

    private void send(String jobId, OutputLog.Reader reader, long offset, boolean follow,
                      ServerCallStreamObserver<StreamJobRes> call) {
        try (reader) {
            long position = offset;
            while (!call.isCancelled()) {
                ByteBuffer chunk = reader.read(position, MAX_CHUNK, follow);
                if (!chunk.hasRemaining()) {
                    if (follow) {
                        // The output can close a moment before the process is reaped: a follow
                        // ends once the job has, so a query right after it sees the final state.
                        runner.awaitEnd(jobId);
                    }
                    call.onCompleted();
                    return;
                }
                int size = chunk.remaining();
                // Uncopied: the reader's buffer is read into again only after onNext returns, and
                // Helidon's gRPC server has copied the message into its frame buffer by then
                // (GrpcProtocolHandler.sendMessage serialises it before writing).
                call.onNext(StreamJobRes.newBuilder().setOffset(position)
                        .setOutput(UnsafeByteOperations.unsafeWrap(chunk)).build());
                position += size;
            }
        } catch (CancellationException | InterruptedException e) {
            // The client cancelled: nothing to send to anyone.
        } catch (UnknownJobException e) {
            // Retention deleted the job meanwhile; every byte it had was sent.
            call.onCompleted();
        } catch (Exception e) {
            // A write to a client that went away fails (a reset stream): nothing is left to do.
            // Anything else (a read of the output failed, the disk filled) the client must see.
            if (!call.isCancelled()) {
                call.onError(toStatus(e));
            }
        }
    }

    private static String jobId(String id) {
        if (!JobIds.plausible(id)) {
            throw invalid("jobID: must be 1-" + JobIds.MAX_LENGTH + " characters, was " + id.length());
        }
        return id;
    }
}
