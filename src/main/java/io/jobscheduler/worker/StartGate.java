package io.jobscheduler.worker;

import io.grpc.Status;
import io.jobscheduler.rpc.CapacityRefusal;
import io.jobscheduler.worker.job.JobRequest;
import io.jobscheduler.worker.job.JobRunner;
import io.jobscheduler.worker.job.JobStatus;
import io.jobscheduler.worker.job.UnknownJobException;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantLock;

/**
 * What a start must pass before the runner spawns it: the worker's {@code [jobs] max_running}
 * (feature {@code capacity}; a start beyond it is {@code RESOURCE_EXHAUSTED}, starts in flight
 * counted), and for a start naming its id (feature {@code job_id}) that the id is new: a known id
 * answers the job that has it, never a second process. The lock is never held across the spawn.
 */
final class StartGate {
    private final JobRunner runner;
    private final int maxRunning;
    private final ReentrantLock lock = new ReentrantLock();
    private int reserved;                                   // guarded by lock: starts in flight
    private final Set<String> starting = new HashSet<>();   // guarded by lock: their ids

    /** @param maxRunning 0: unlimited */
    StartGate(JobRunner runner, int maxRunning) {
        this.runner = runner;
        this.maxRunning = maxRunning;
    }

    int maxRunning() {
        return maxRunning;
    }

    JobStatus start(JobRequest request, Optional<String> jobId) throws Exception {
        if (jobId.isPresent() && !canonicalUuid(jobId.get())) {
            throw GrpcErrors.invalid("job_id: must be a UUID, was '" + jobId.get() + "'");
        }
        lock.lock();
        try {
            if (jobId.isPresent()) {
                if (starting.contains(jobId.get())) {
                    throw Status.ABORTED.withDescription("a start of job '" + jobId.get()
                            + "' is in progress; ask again").asRuntimeException();
                }
                Optional<JobStatus> known = known(jobId.get());
                if (known.isPresent()) {
                    return known.get();
                }
            }
            if (maxRunning > 0 && runner.runningCount() + reserved >= maxRunning) {
                throw CapacityRefusal.full("this worker already runs its max_running of " + maxRunning + " jobs");
            }
            reserved++;
            jobId.ifPresent(starting::add);
        } finally {
            lock.unlock();
        }
        try {
            return runner.start(request, jobId.orElseGet(() -> UUID.randomUUID().toString()));
        } finally {
            lock.lock();
            try {
                reserved--;
                jobId.ifPresent(starting::remove);
            } finally {
                lock.unlock();
            }
        }
    }

    /** The id names the job's folder: only a UUID in its one lowercase spelling is taken. */
    private static boolean canonicalUuid(String id) {
        try {
            return id.length() == 36 && UUID.fromString(id).toString().equals(id);
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private Optional<JobStatus> known(String jobId) {
        try {
            return Optional.of(runner.status(jobId));
        } catch (UnknownJobException e) {
            return Optional.empty();
        }
    }
}
