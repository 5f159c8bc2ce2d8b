package io.jobscheduler.worker;

import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.jobscheduler.grpc.QueryJobReq;
import io.jobscheduler.grpc.QueryJobRes;
import io.jobscheduler.grpc.StartJobReq;
import io.jobscheduler.grpc.StreamJobReq;
import io.jobscheduler.grpc.StreamJobRes;
import io.jobscheduler.grpc.WorkerGrpc;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** A plain grpc-java client's view of jobs on one worker: start, whole output, final status, refusals. */
record JobCalls(ManagedChannel channel) {

    WorkerGrpc.WorkerBlockingStub stub() {
        return WorkerGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    String start(StartJobReq request) {
        return stub().startJob(request).getJobID();
    }

    /** Follows a job's output to its end (the job has then ended) and answers it as UTF-8. */
    String output(String jobId) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Iterator<StreamJobRes> chunks = stub().streamJob(
                StreamJobReq.newBuilder().setJobID(jobId).setFollow(true).build());
        chunks.forEachRemaining(chunk -> bytes.writeBytes(chunk.getOutput().toByteArray()));
        return bytes.toString(StandardCharsets.UTF_8);
    }

    QueryJobRes status(String jobId) {
        return stub().queryJob(QueryJobReq.newBuilder().setJobID(jobId).build());
    }

    /** Runs a job to its end and answers its output, asserting it succeeded. */
    String run(StartJobReq request) {
        String id = start(request);
        String output = output(id);
        QueryJobRes status = status(id);
        assertEquals("SUCCEEDED", status.getState(), () -> status.getErrorText() + "; output: " + output);
        return output;
    }

    /** A start refused with {@code code}; answers the status's message. */
    String refused(Status.Code code, StartJobReq request) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub().startJob(request));
        assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
        return e.getStatus().getDescription();
    }

    static StartJobReq.Builder job(String command, String path, String... args) {
        return StartJobReq.newBuilder().setCommand(command).setPath(path).addAllArgs(java.util.List.of(args));
    }
}
