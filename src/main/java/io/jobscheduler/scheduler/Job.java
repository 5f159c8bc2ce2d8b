package io.jobscheduler.scheduler;

import io.jobscheduler.grpc.JobEvent;
import io.jobscheduler.grpc.QueryJobRes;
import io.jobscheduler.scheduler.placement.Constraints;
import io.jobscheduler.scheduler.placement.QueuedJob;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.UUID;

/**
 * A job as the scheduler knows it: where it runs, what it runs (empty when learnt from an event
 * or a direct query; only a start through this scheduler tells the arguments and the constraints
 * it was placed by), and its status.
 * {@code workerId} is null only for a job no worker has: one queued (unpinned), or stopped while
 * queued; such a job never enters the {@link JobTable}. The one status type of the scheduler; the
 * protobuf messages and the JSON bodies are its shapes at the edges.
 */
public record Job(String jobId, UUID workerId, String command, String path, List<String> args,
                  Map<String, String> constraints, JobState state, String errorText,
                  OptionalInt exitCode, OptionalInt signal, Optional<Instant> startedAt, Optional<Instant> finishedAt) {
    static final String LOST_TEXT = "worker lost";

    public Job {
        Objects.requireNonNull(jobId, "jobId");
        if (workerId == null && state != JobState.QUEUED && state != JobState.STOPPED) {
            throw new NullPointerException("workerId");
        }
        Objects.requireNonNull(command, "command");
        Objects.requireNonNull(path, "path");
        args = List.copyOf(args);
        constraints = Map.copyOf(constraints);
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(errorText, "errorText");
    }

    /** A job just started by this scheduler: running since {@code startedAt}. */
    static Job started(String jobId, UUID workerId, String command, String path, Instant startedAt) {
        return started(jobId, workerId, command, path, List.of(), Constraints.NONE, startedAt);
    }

    /**
     * A job just started by this scheduler with {@code args} after its path, placed by
     * {@code constraints}: running since {@code startedAt}.
     */
    static Job started(String jobId, UUID workerId, String command, String path, List<String> args,
                       Constraints constraints, Instant startedAt) {
        return new Job(jobId, workerId, command, path, args, constraints.byLabel(), JobState.RUNNING, "",
                OptionalInt.empty(), OptionalInt.empty(),
                Optional.of(startedAt), Optional.empty());
    }

    /** A job no worker has yet ({@code QUEUED}), or never will ({@code STOPPED} while queued). */
    static Job waiting(QueuedJob<JobStart> job, JobState state) {
        return unstarted(job, job.target().orElse(null), state, state == JobState.STOPPED ? "stopped before it started" : "");
    }

    /** A job that never ran on {@code workerId}: queued, or ended before it could ({@code why} says how). */
    static Job unstarted(QueuedJob<JobStart> job, UUID workerId, JobState state, String why) {
        JobStart start = job.start();
        return new Job(job.jobId(), workerId, start.command(), start.path(), start.args(),
                job.constraints().byLabel(), state, why, OptionalInt.empty(), OptionalInt.empty(),
                Optional.empty(), Optional.empty());
    }

    /** What a worker answered to {@code QueryJob} (or listed) about a job. */
    static Job of(String jobId, UUID workerId, String command, String path, QueryJobRes status) {
        return new Job(jobId, workerId, command, path, List.of(), Map.of(),
                JobState.fromWire(status.getState(), status.getDone(), status.getError()), status.getErrorText(),
                status.hasExitCode() ? OptionalInt.of(status.getExitCode()) : OptionalInt.empty(),
                status.hasSignal() ? OptionalInt.of(status.getSignal()) : OptionalInt.empty(),
                instant(status.getStartedAtMillis()), instant(status.getFinishedAtMillis()));
    }

    /** What a job event says of a job (docs/architecture.md, "Job events"). */
    static Job of(UUID workerId, JobEvent event) {
        JobState state = JobState.fromWire(event.getState(), !event.getState().equals("RUNNING"),
                !event.getErrorText().isEmpty());
        return new Job(event.getJobId(), workerId, "", "", List.of(), Map.of(), state, event.getErrorText(),
                event.hasExitCode() ? OptionalInt.of(event.getExitCode()) : OptionalInt.empty(),
                event.hasSignal() ? OptionalInt.of(event.getSignal()) : OptionalInt.empty(),
                instant(event.getStartedAtMillis()), instant(event.getFinishedAtMillis()));
    }

    public boolean done() {
        return state.done();
    }

    public boolean error() {
        return state.error();
    }

    /** This job as answered while its worker is down: {@code LOST}, the real state returns with the worker. */
    Job lost() {
        return new Job(jobId, workerId, command, path, args, constraints, JobState.LOST, LOST_TEXT, OptionalInt.empty(),
                OptionalInt.empty(), startedAt, Optional.empty());
    }

    /** This job with a start time (of the scheduler's clock, for a worker that did not say). */
    Job startingAt(Instant at) {
        return new Job(jobId, workerId, command, path, args, constraints, state, errorText, exitCode, signal, Optional.of(at), finishedAt);
    }

    /**
     * This job after {@code newer} was heard of it. A state only moves from {@code RUNNING} to an
     * end state, never back, and what only one side knows (command, path, arguments, constraints, a
     * start time) is kept.
     */
    Job merge(Job newer) {
        Job base = done() && !newer.done() ? this : newer;
        return new Job(jobId, workerId, command.isEmpty() ? newer.command : command,
                path.isEmpty() ? newer.path : path, args.isEmpty() ? newer.args : args,
                constraints.isEmpty() ? newer.constraints : constraints, base.state, base.errorText,
                base.exitCode, base.signal,
                startedAt.isPresent() ? startedAt : newer.startedAt, base.finishedAt);
    }

    private static Optional<Instant> instant(long millis) {
        return millis == 0 ? Optional.empty() : Optional.of(Instant.ofEpochMilli(millis));
    }
}
