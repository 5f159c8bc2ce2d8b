package io.jobscheduler.worker.job;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * Connects the driver's reports for one job to the job, its output and the event log. Output is
 * appended on the thread the driver reports it on (never its epoll thread, see
 * {@link ProcessWatcher}); a job's end changes its state and publishes the event at once, with no
 * disk involved, and hands the rest (records, retention, which write and rename files) to a
 * virtual thread of its own.
 */
final class JobReports implements ProcessDriver.Listener {
    private static final System.Logger LOG = System.getLogger(JobReports.class.getName());

    private final RunningJob entry;
    private final OptionalLong outputLimit;
    private final EventLog events;
    private final Consumer<RunningJob> ended;
    private final RunnerMeters meters;

    /** @param outputLimit the bytes of output kept: past them the job is killed and fails saying so */
    JobReports(RunningJob entry, OptionalLong outputLimit, EventLog events, Consumer<RunningJob> ended,
               RunnerMeters meters) {
        this.meters = meters;
        this.entry = entry;
        this.outputLimit = outputLimit;
        this.events = events;
        this.ended = ended;
    }

    /**
     * Bytes that cannot be stored (a full disk) fail the job: its process group is killed, since
     * output it goes on writing would be lost, and followers see the error. Past the output limit,
     * exactly the first bytes up to it are kept, the job is killed (its whole cgroup) and fails.
     */
    @Override
    public void output(ByteBuffer bytes) {
        Job job = entry.job();
        if (outputLimit.isPresent()) {
            long room = outputLimit.getAsLong() - job.output().length();
            if (bytes.remaining() > room) {
                if (room > 0) {
                    append(job, bytes.slice(bytes.position(), (int) room));
                }
                if (job.limitExceeded("output limit of " + outputLimit.getAsLong() + " bytes exceeded")) {
                    entry.process().signal(ProcessDriver.Signal.KILL);
                }
                return;
            }
        }
        append(job, bytes);
    }

    private void append(Job job, ByteBuffer bytes) {
        int length = bytes.remaining();
        Optional<IOException> failed = job.output().append(bytes);
        if (failed.isEmpty()) {
            meters.outputWritten(length);
        }
        failed.ifPresent(failure -> {
            String why = outputCut(job.output().length(), failure);
            if (job.outputLost(why)) {
                LOG.log(System.Logger.Level.WARNING, "job " + job.id() + " failed and was killed: " + why);
                entry.process().signal(ProcessDriver.Signal.KILL);
            }
        });
    }

    @Override
    public void outputEnded() {
        entry.job().output().markComplete();
        endIf(() -> entry.job().outputEnded(Instant.now()));
    }

    /** A job that did not succeed after the kernel killed a process of it for memory fails saying so. */
    @Override
    public void exited(OptionalInt exitCode, OptionalInt signal) {
        if (exitCode.orElse(-1) != 0) {
            entry.process().outOfMemory().ifPresent(why -> entry.job().limitExceeded(why));
        }
        endIf(() -> entry.job().reaped(exitCode, signal, Instant.now()));
    }

    /**
     * Applies a report; when it ended the job, the end is the job's next event (a recorded job's:
     * one killed for want of a record is never seen) and the job is settled off this thread.
     */
    private void endIf(BooleanSupplier ends) {
        Job job = entry.job();
        boolean hasEnded = entry.recorded()
                ? events.change(() -> ends.getAsBoolean() ? Optional.of(job.status()) : Optional.empty())
                : ends.getAsBoolean();
        if (hasEnded) {
            Thread.ofVirtual().name("job-end " + job.id()).start(() -> ended.accept(entry));
        }
    }

    /** The job's error text when its output could not be stored. */
    static String outputCut(long atByte, IOException failure) {
        return "output was cut at byte " + atByte + ": " + Errno.of(failure)
                .map(errno -> errno == Errno.ENOSPC || errno == Errno.EDQUOT
                        ? "the worker's disk is full, " + errno.toText() : "cannot store it, " + errno.toText())
                .orElse("cannot store it, " + failure.getMessage());
    }
}
