package io.jobscheduler.worker.cgroup;

/** The layout this machine has (the hybrid one on the development machines), as the worker would detect it. */
class ThisMachineJobCgroupsTest extends JobCgroupsContract {
    @Override
    CgroupLayout layout() {
        return CgroupLayout.detect();
    }
}
