package io.jobscheduler.worker.job;

/**
 * A job whose process the runner watches; {@code recorded} is false for a job killed at start
 * because its record could not be stored: it publishes no event and is deleted once it ended.
 */
record RunningJob(Job job, ProcessDriver.Started process, boolean recorded) {
}
