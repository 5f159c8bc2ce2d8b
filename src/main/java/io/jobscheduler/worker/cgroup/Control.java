package io.jobscheduler.worker.cgroup;

/** What a worker may confine about a job: three limits and ending the job's whole process tree. */
public enum Control {
    MEMORY("memory"),
    CPU("cpu"),
    PIDS("pids"),
    /** Ending every process of the job at once, including descendants that left its session with setsid. */
    KILL_TREE("kill-tree");

    private final String word;

    Control(String word) {
        this.word = word;
    }

    /** The name used in logs, {@code GET /workers} and refusals. */
    public String word() {
        return word;
    }
}
