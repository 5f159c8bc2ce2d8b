package io.jobscheduler.worker.job;

/** No job with this id is known to the runner (never started here, or deleted by retention). */
public final class UnknownJobException extends Exception {
    private final String jobId;

    public UnknownJobException(String jobId) {
        super("unknown job: " + jobId);
        this.jobId = jobId;
    }

    public String jobId() {
        return jobId;
    }
}
