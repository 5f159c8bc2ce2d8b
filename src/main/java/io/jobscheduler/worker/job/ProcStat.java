package io.jobscheduler.worker.job;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.OptionalLong;

/** Reads a process's start time from /proc, to tell a process group from a later one that reuses its id. */
final class ProcStat {
    private ProcStat() {
    }

    /** Field 22 of /proc/&lt;pid&gt;/stat (clock ticks after boot), or empty if the process is gone. */
    static OptionalLong startTicks(int pid) {
        String stat;
        try {
            stat = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
        } catch (IOException gone) {
            return OptionalLong.empty();
        }
        // The command name (field 2) may contain spaces and parentheses: fields resume after the last ')'.
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return OptionalLong.of(Long.parseLong(fields[22 - 3]));
    }
}
