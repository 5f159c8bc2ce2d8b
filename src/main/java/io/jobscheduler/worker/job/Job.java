package io.jobscheduler.worker.job;

import io.jobscheduler.concurrent.Conditions;
import java.time.Duration;
import java.time.Instant;
import java.util.OptionalInt;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One job: its identity, its process group and its lifecycle. State changes are verbs that go
 * through {@link JobState#moveTo}, so an illegal change throws {@link IllegalTransitionException}.
 * A running job ends once its process has been reaped and its output is complete (pipe EOF).
 */
final class Job {
    static final String RESTARTED = "worker restarted while the job was running";
    static final String STOPPED_TEXT = "stopped";

    private final String id;
    private final String command;
    private final String path;
    private final Instant startedAt;
    private final int pgid;
    private final long startTicks;
    private final OutputLog output;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition ended = lock.newCondition();
    // state and finishedAt change under lock; volatile so that done() and finishedAt() read them without it
    private volatile JobState state;
    private volatile Instant finishedAt;
    private OptionalInt exitCode = OptionalInt.empty();   // all below guarded by lock
    private OptionalInt signal = OptionalInt.empty();
    private String errorText = "";
    private boolean stopRequested;
    private String stopFailure;                   // why a stop the worker made fails the job (a timeout)
    private String outputLost;                    // why the output could not be stored, if it could not
    private String limitExceeded;                 // which limit of the job ended it, if one did
    private boolean reaped;
    private boolean outputEnded;
    private boolean settled;                      // ended, and its final record stored

    private Job(JobStatus status, int pgid, long startTicks, OutputLog output) {
        this.id = status.id();
        this.command = status.command();
        this.path = status.path();
        this.startedAt = status.startedAt();
        this.pgid = pgid;
        this.startTicks = startTicks;
        this.output = output;
        this.state = status.state();
        this.exitCode = status.exitCode();
        this.signal = status.signal();
        this.errorText = status.errorText();
        this.finishedAt = status.finishedAt();
        this.settled = status.state().done();
    }

    /** A job whose process group {@code pgid} runs now. */
    static Job running(String id, String command, String path, Instant startedAt, int pgid, long startTicks,
                       OutputLog output) {
        return new Job(new JobStatus(id, command, path, JobState.RUNNING, OptionalInt.empty(), OptionalInt.empty(),
                "", startedAt, null), pgid, startTicks, output);
    }

    /** A job as a record on disk describes it. */
    static Job restored(JobStatus status, int pgid, long startTicks, OutputLog output) {
        return new Job(status, pgid, startTicks, output);
    }

    String id() {
        return id;
    }

    int pgid() {
        return pgid;
    }

    long startTicks() {
        return startTicks;
    }

    OutputLog output() {
        return output;
    }

    Instant startedAt() {
        return startedAt;
    }

    /** When the job ended; null while it runs. */
    Instant finishedAt() {
        return finishedAt;
    }

    JobStatus status() {
        lock.lock();
        try {
            return new JobStatus(id, command, path, state, exitCode, signal, errorText, startedAt, finishedAt);
        } finally {
            lock.unlock();
        }
    }

    boolean done() {
        return state.done();
    }

    /** Marks a stop as requested; false if the job has already ended (stop is then a no-op). */
    boolean requestStop() {
        lock.lock();
        try {
            if (state.done()) {
                return false;
            }
            stopRequested = true;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Marks a stop the worker makes that fails the job with {@code why} (a timeout); false if the
     * job has ended or a stop was requested already (that stop is then the job's end).
     */
    boolean requestFailingStop(String why) {
        lock.lock();
        try {
            if (state.done() || stopRequested) {
                return false;
            }
            stopRequested = true;
            stopFailure = why;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The output could not be stored: the job will end FAILED saying why, whatever its process
     * does. True the first time only (the caller then kills the process group).
     */
    boolean outputLost(String why) {
        lock.lock();
        try {
            if (outputLost != null || state.done()) {
                return false;
            }
            outputLost = why;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /**
     * A limit of the job ended it (its output limit, its memory): the job will end FAILED saying why. True
     * the first time only (the caller then kills the job, if the kernel has not already).
     */
    boolean limitExceeded(String why) {
        lock.lock();
        try {
            if (limitExceeded != null || outputLost != null || state.done()) {
                return false;
            }
            limitExceeded = why;
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** The process was reaped; true if the job has thereby ended. */
    boolean reaped(OptionalInt exitCode, OptionalInt signal, Instant at) {
        lock.lock();
        try {
            this.reaped = true;
            this.exitCode = exitCode;
            this.signal = signal;
            return endIfComplete(at);
        } finally {
            lock.unlock();
        }
    }

    /** The output pipe reached EOF; true if the job has thereby ended. */
    boolean outputEnded(Instant at) {
        lock.lock();
        try {
            this.outputEnded = true;
            return endIfComplete(at);
        } finally {
            lock.unlock();
        }
    }

    private boolean endIfComplete(Instant at) {
        if (!reaped || !outputEnded || state.done()) {
            return false;
        }
        if (outputLost != null) {
            fail(outputLost, at);
        } else if (limitExceeded != null) {
            fail(limitExceeded, at);
        } else if (stopFailure != null) {
            fail(stopFailure, at);
        } else if (stopRequested) {
            stop(at);
        } else if (signal.isPresent()) {
            fail("killed by signal " + signal.getAsInt(), at);
        } else if (exitCode.orElse(-1) != 0) {
            fail("exit status " + exitCode.orElse(-1), at);
        } else {
            succeed(at);
        }
        return true;
    }

    void succeed(Instant at) {
        end(JobState.SUCCEEDED, "", at);
    }

    void fail(String why, Instant at) {
        end(JobState.FAILED, why, at);
    }

    void stop(Instant at) {
        end(JobState.STOPPED, STOPPED_TEXT, at);
    }

    /** A record left RUNNING by a previous worker process: its process group was killed. */
    void failOnRestart(Instant at) {
        end(JobState.FAILED, RESTARTED, at);
    }

    private void end(JobState target, String text, Instant at) {
        lock.lock();
        try {
            state = state.moveTo(target);
            errorText = text;
            finishedAt = at;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The runner has stored the ended job's record (and applied retention): wakes whoever waits for
     * the end, so that they see the job's final state on disk as well as in memory.
     */
    void settle() {
        lock.lock();
        try {
            if (!state.done()) {
                throw new IllegalStateException("job " + id + " cannot settle while " + state);
            }
            settled = true;
            ended.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** Waits until the job has ended and settled, or the timeout passed; true if it has. */
    boolean awaitEnd(Duration timeout) throws InterruptedException {
        lock.lockInterruptibly();
        try {
            return Conditions.await(ended, () -> settled, timeout);
        } finally {
            lock.unlock();
        }
    }

    /** Waits until the job has ended, however long that takes. */
    void awaitEnd() throws InterruptedException {
        lock.lockInterruptibly();
        try {
            while (!settled) {
                ended.await();
            }
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return "Job[" + id + " " + command + " " + path + "]";
    }
}
