package io.jobscheduler.worker;

import io.jobscheduler.grpc.Heartbeat;
import io.jobscheduler.grpc.JobEvent;
import io.jobscheduler.grpc.JobInfo;
import io.jobscheduler.grpc.ListJobsRes;
import io.jobscheduler.grpc.QueryJobRes;
import io.jobscheduler.grpc.JobLimits;
import io.jobscheduler.grpc.StartJobReq;
import io.jobscheduler.config.Limits;
import java.util.OptionalLong;
import io.jobscheduler.grpc.StartJobRes;
import io.jobscheduler.worker.job.EventLog;
import io.jobscheduler.worker.job.JobRequest;
import io.jobscheduler.worker.job.JobStatus;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * The one translation of the worker's job status ({@link JobStatus}) into the wire's shapes:
 * {@code QueryJobRes}, {@code JobInfo}, {@code JobEvent}, and the messages that carry them; and of
 * a {@code StartJobReq} into a {@link JobRequest}.
 */
final class JobProtos {
    private JobProtos() {
    }

    static QueryJobRes query(JobStatus job) {
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

    /** A start as the wire asks it; 0 and "" are the fields' absence (the original contract sends neither). */
    static JobRequest request(StartJobReq start) {
        return new JobRequest(start.getCommand(), start.getPath(), start.getArgsList(), start.getEnvMap(),
                start.getTimeoutMillis() == 0 ? Optional.empty() : Optional.of(Duration.ofMillis(start.getTimeoutMillis())),
                start.getUser().isEmpty() ? Optional.empty() : Optional.of(start.getUser()), limits(start.getLimits()));
    }

    /** A negative limit is malformed (INVALID_ARGUMENT naming it); 0 is a limit not set. */
    private static Limits limits(JobLimits limits) {
        try {
            return new Limits(limit("memory_bytes", limits.getMemoryBytes()), limit("cpu_millis", limits.getCpuMillis()),
                    limit("pids", limits.getPids()), limit("output_bytes", limits.getOutputBytes()));
        } catch (IllegalArgumentException e) {
            throw GrpcErrors.invalid("limits: " + e.getMessage());
        }
    }

    private static OptionalLong limit(String field, long value) {
        if (value < 0) {
            throw GrpcErrors.invalid("limits." + field + ": must not be negative, not " + value);
        }
        return value == 0 ? OptionalLong.empty() : OptionalLong.of(value);
    }

    static StartJobRes started(JobStatus job) {
        return StartJobRes.newBuilder().setJobID(job.id()).setStartedAtMillis(millis(job.startedAt())).build();
    }

    static ListJobsRes list(EventLog.Snapshot<List<JobStatus>> snapshot) {
        ListJobsRes.Builder jobs = ListJobsRes.newBuilder().setSeq(snapshot.seq());
        for (JobStatus job : snapshot.value()) {
            jobs.addJobs(JobInfo.newBuilder().setJobID(job.id()).setCommand(job.command()).setPath(job.path())
                    .setStatus(query(job)));
        }
        return jobs.build();
    }

    static JobEvent event(JobStatus job) {
        JobEvent.Builder event = JobEvent.newBuilder()
                .setJobId(job.id())
                .setState(job.state().name())
                .setStartedAtMillis(millis(job.startedAt()))
                .setFinishedAtMillis(millis(job.finishedAt()))
                .setErrorText(job.errorText());
        job.exitCode().ifPresent(event::setExitCode);
        job.signal().ifPresent(event::setSignal);
        return event.build();
    }

    static Heartbeat heartbeat(EventLog.Batch batch, int runningJobs) {
        Heartbeat.Builder beat = Heartbeat.newBuilder()
                .setRunningJobs(runningJobs)
                .setSeq(batch.seq())
                .setBootId(batch.bootId());
        for (EventLog.Event event : batch.events()) {
            beat.addEvents(event(event.status()));
        }
        return beat.build();
    }

    private static long millis(Instant time) {
        return time == null ? 0 : time.toEpochMilli();
    }
}
