package io.jobscheduler.worker.cgroup;

import java.io.IOException;

/** A cgroup could not be made, configured, joined, killed or removed; the message names the file and why. */
public final class CgroupException extends IOException {
    public CgroupException(String message) {
        super(message);
    }

    public CgroupException(String message, Throwable cause) {
        super(message, cause);
    }
}
