package io.jobscheduler.worker;

import io.grpc.BindableService;
import io.grpc.ServerServiceDefinition;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.jobscheduler.grpc.Heartbeat;
import io.jobscheduler.grpc.JobInfo;
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
import io.jobscheduler.rpc.StatusText;
import io.jobscheduler.worker.job.JobRunner;
import io.jobscheduler.worker.job.JobStatus;
import io.jobscheduler.worker.job.OutputLog;
import io.jobscheduler.worker.job.SpawnException;
import io.jobscheduler.worker.job.UnknownJobException;
import com.google.protobuf.UnsafeByteOperations;
import java.io.IOException;
import java.util.concurrent.CancellationException;
import java.time.Instant;

/**
 * The worker's side of the wire contract: translates each RPC into a {@link JobRunner} call and
 * each domain failure into the status DESIGN.md names (INVALID_ARGUMENT, NOT_FOUND,
 * FAILED_PRECONDITION, RESOURCE_EXHAUSTED). Every status passes through {@link StatusText}.
 */
final class WorkerGrpcService implements WorkerGrpc.AsyncService, BindableService {
    private static final System.Logger LOG = System.getLogger(WorkerGrpcService.class.getName());
    static final int MAX_CHUNK = OutputLog.MAX_CHUNK;
    private static final int MAX_JOB_ID = 128;

    private final JobRunner runner;
    private final WatchService watches;

    WorkerGrpcService(JobRunner runner, WatchService watches) {
        this.runner = runner;
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
        unary(response, () -> {
            if (request.getCommand().isEmpty()) {
                throw invalid("command: must not be empty");
            }
            try {
                JobStatus job = runner.start(request.getCommand(), request.getPath());
                return StartJobRes.newBuilder().setJobID(job.id()).setStartedAtMillis(millis(job.startedAt())).build();
            } catch (SpawnException e) {
                if (!e.workerExhausted()) {
                    throw Status.FAILED_PRECONDITION.withDescription(e.getMessage()).asRuntimeException();
                }
                // Out of descriptors, memory or disk is the worker's condition, not the command's:
                // the operator needs to hear of it too.
                LOG.log(System.Logger.Level.WARNING, "refused a start: " + e.getMessage());
                throw Status.RESOURCE_EXHAUSTED.withDescription(e.getMessage()).asRuntimeException();
            }
        });
    }

    @Override
    public void stopJob(StopJobReq request, StreamObserver<StopJobRes> response) {
        unary(response, () -> {
            try {
                runner.stop(jobId(request.getJobID()));
                return StopJobRes.getDefaultInstance();
            } catch (UnknownJobException e) {
                throw notFound(request.getJobID());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw Status.CANCELLED.withDescription("interrupted while stopping job " + request.getJobID())
                        .asRuntimeException();
            }
        });
    }

    @Override
    public void queryJob(QueryJobReq request, StreamObserver<QueryJobRes> response) {
        unary(response, () -> {
            try {
                return toProto(runner.status(jobId(request.getJobID())));
            } catch (UnknownJobException e) {
                throw notFound(request.getJobID());
            }
        });
    }

    @Override
    public void listJobs(ListJobsReq request, StreamObserver<ListJobsRes> response) {
        unary(response, () -> {
            ListJobsRes.Builder jobs = ListJobsRes.newBuilder();
            for (JobStatus job : runner.list()) {
                jobs.addJobs(JobInfo.newBuilder().setJobID(job.id()).setCommand(job.command()).setPath(job.path())
                        .setStatus(toProto(job)));
            }
            return jobs.build();
        });
    }

    @Override
    public void streamJob(StreamJobReq request, StreamObserver<StreamJobRes> response) {
        OutputLog.Reader reader;
        try {
            if (request.getOffset() < 0) {
                throw invalid("offset: must not be negative, was " + request.getOffset());
            }
            reader = runner.output(jobId(request.getJobID())).reader();
        } catch (UnknownJobException e) {
            response.onError(notFound(request.getJobID()));
            return;
        } catch (StatusRuntimeException e) {
            response.onError(e);
            return;
        } catch (IOException e) {
            response.onError(Status.INTERNAL.withDescription("cannot open output: " + e.getMessage()).asRuntimeException());
            return;
        }
        var call = (ServerCallStreamObserver<StreamJobRes>) response;
        // A cancelled call wakes the reader through the log, never by interrupting its thread:
        // an interrupt during a socket write would close the connection every stream shares.
        // Its own thread, because a write to a slow client blocks the writer (HELIDON-NOTES.md).
        call.setOnCancelHandler(reader::cancel);
        Thread.ofVirtual().name("stream-" + request.getJobID()).start(
                () -> send(request.getJobID(), reader, request.getOffset(), request.getFollow(), call));
    }

    private void send(String jobId, OutputLog.Reader reader, long offset, boolean follow,
                      ServerCallStreamObserver<StreamJobRes> call) {
        try (reader) {
            long position = offset;
            while (!call.isCancelled()) {
                OutputLog.Chunk chunk = reader.read(position, MAX_CHUNK, follow);
                if (chunk.end()) {
                    if (follow) {
                        // The output can close a moment before the process is reaped: a follow
                        // ends once the job has, so a query right after it sees the final state.
                        runner.awaitEnd(jobId);
                    }
                    call.onCompleted();
                    return;
                }
                // The chunk's array is never touched again, so protobuf may keep it uncopied.
                call.onNext(StreamJobRes.newBuilder().setOffset(chunk.offset())
                        .setOutput(UnsafeByteOperations.unsafeWrap(chunk.bytes())).build());
                position = chunk.offset() + chunk.bytes().length;
            }
        } catch (CancellationException | InterruptedException e) {
            // The client cancelled: nothing to send to anyone.
        } catch (UnknownJobException e) {
            // Retention deleted the job meanwhile; every byte it had was sent.
            call.onCompleted();
        } catch (IOException e) {
            call.onError(Status.INTERNAL.withDescription("reading output: " + e.getMessage()).asRuntimeException());
        } catch (RuntimeException e) {
            // A write to a client that went away fails (a reset stream): nothing is left to do.
            // Anything else is a failure the client must see.
            if (!call.isCancelled()) {
                LOG.log(System.Logger.Level.WARNING, "output stream failed", e);
                call.onError(Status.INTERNAL.withDescription("output stream failed: " + e.getMessage())
                        .asRuntimeException());
            }
        }
    }

    static QueryJobRes toProto(JobStatus job) {
        QueryJobRes.Builder status = QueryJobRes.newBuilder()
                .setDone(job.done())
                .setError(job.error())
                .setErrorText(job.errorText())
                .setState(job.state().name())
                .setStartedAtMillis(millis(job.startedAt()))
                .setFinishedAtMillis(millis(job.finishedAt()));
        job.exitCode().ifPresent(status::setExitCode);
        job.signal().ifPresent(status::setSignal);
        return status.build();
    }

    private static long millis(Instant time) {
        return time == null ? 0 : time.toEpochMilli();
    }

    private static String jobId(String id) {
        if (id.isEmpty() || id.length() > MAX_JOB_ID) {
            throw invalid("jobID: must be 1-" + MAX_JOB_ID + " characters, was " + id.length());
        }
        return id;
    }

    private static StatusRuntimeException invalid(String message) {
        return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
    }

    private static StatusRuntimeException notFound(String id) {
        return Status.NOT_FOUND.withDescription("job '" + id + "' is not known to this worker").asRuntimeException();
    }

    /** A unary call's body: answers a value or throws the status to answer with. */
    private interface Unary<T> {
        T call();
    }

    private static <T> void unary(StreamObserver<T> response, Unary<T> body) {
        T value;
        try {
            value = body.call();
        } catch (StatusRuntimeException e) {
            response.onError(e);
            return;
        } catch (IllegalStateException e) {
            // The runner is closed: the worker is shutting down.
            response.onError(Status.UNAVAILABLE.withDescription("worker is shutting down").asRuntimeException());
            return;
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "job call failed", e);
            response.onError(Status.INTERNAL.withDescription(e.getMessage()).asRuntimeException());
            return;
        }
        response.onNext(value);
        response.onCompleted();
    }
}
