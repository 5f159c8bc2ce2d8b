package io.jobscheduler.worker;

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
import io.jobscheduler.worker.job.JobRunner;
import io.jobscheduler.worker.job.JobStatus;
import io.jobscheduler.worker.job.OutputLog;
import io.jobscheduler.worker.job.SpawnException;
import io.jobscheduler.worker.job.UnknownJobException;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.time.Instant;

/**
 * The worker's side of the wire contract: translates each RPC into a {@link JobRunner} call and
 * each domain failure into the status DESIGN.md names (INVALID_ARGUMENT, NOT_FOUND,
 * FAILED_PRECONDITION).
 */
final class WorkerGrpcService extends WorkerGrpc.WorkerImplBase {
    private static final System.Logger LOG = System.getLogger(WorkerGrpcService.class.getName());
    static final int MAX_CHUNK = OutputLog.MAX_CHUNK;
    private static final int MAX_JOB_ID = 128;

    private final JobRunner runner;
    private final WatchService watches;

    WorkerGrpcService(JobRunner runner, WatchService watches) {
        this.runner = runner;
        this.watches = watches;
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
                return StartJobRes.newBuilder().setJobID(runner.start(request.getCommand(), request.getPath()).id()).build();
            } catch (SpawnException e) {
                throw Status.FAILED_PRECONDITION.withDescription(e.getMessage()).asRuntimeException();
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
        OutputLog log;
        try {
            if (request.getOffset() < 0) {
                throw invalid("offset: must not be negative, was " + request.getOffset());
            }
            log = runner.output(jobId(request.getJobID()));
        } catch (UnknownJobException e) {
            response.onError(notFound(request.getJobID()));
            return;
        } catch (StatusRuntimeException e) {
            response.onError(e);
            return;
        }
        var call = (ServerCallStreamObserver<StreamJobRes>) response;
        // The reader waits on the log's condition; a cancelled call interrupts that wait so the
        // client's going away releases the thread at once. Its own thread, because a write to a
        // slow client blocks the writer (HELIDON-NOTES.md).
        Thread reader = Thread.ofVirtual().name("stream-" + request.getJobID()).unstarted(
                () -> send(request.getJobID(), log, request.getOffset(), request.getFollow(), call));
        call.setOnCancelHandler(reader::interrupt);
        reader.start();
    }

    private void send(String jobId, OutputLog log, long offset, boolean follow,
                      ServerCallStreamObserver<StreamJobRes> call) {
        try {
            long position = offset;
            while (!call.isCancelled()) {
                OutputLog.Chunk chunk = log.read(position, MAX_CHUNK, follow);
                if (chunk.end()) {
                    if (follow) {
                        // The output can close a moment before the process is reaped: a follow
                        // ends once the job has, so a query right after it sees the final state.
                        runner.awaitEnd(jobId);
                    }
                    call.onCompleted();
                    return;
                }
                call.onNext(StreamJobRes.newBuilder().setOffset(chunk.offset())
                        .setOutput(ByteString.copyFrom(chunk.bytes())).build());
                position = chunk.offset() + chunk.bytes().length;
            }
        } catch (InterruptedException e) {
            // The client cancelled: nothing to send to anyone.
        } catch (UnknownJobException e) {
            // Retention deleted the job meanwhile; every byte it had was sent.
            call.onCompleted();
        } catch (IOException e) {
            call.onError(Status.INTERNAL.withDescription("reading output: " + e.getMessage()).asRuntimeException());
        } catch (StatusRuntimeException e) {
            // The call ended under us (client gone): nothing left to do.
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
        return Status.NOT_FOUND.withDescription("job " + id + " not found").asRuntimeException();
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
