package io.jobscheduler.worker.cgroup;

import java.util.EnumSet;
import java.util.OptionalDouble;
import java.util.OptionalLong;
import java.util.Set;

/**
 * The limits of one job, each optional: memory in bytes (RAM and swap together), CPU in cores (a share of
 * wall time, e.g. 0.5), and the number of processes and threads alive at once.
 */
public record ResourceLimits(OptionalLong memoryBytes, OptionalDouble cpuCores, OptionalLong pids) {
    /** The scheduler period cpu quotas are expressed in: 100 ms, the kernel's default. */
    static final long CPU_PERIOD_MICROS = 100_000;
    /** The kernel refuses quotas under 1 ms. */
    private static final long MIN_CPU_QUOTA_MICROS = 1_000;

    public static final ResourceLimits NONE =
            new ResourceLimits(OptionalLong.empty(), OptionalDouble.empty(), OptionalLong.empty());

    public ResourceLimits {
        if (memoryBytes.isPresent() && memoryBytes.getAsLong() <= 0) {
            throw new IllegalArgumentException("memory limit must be positive, not " + memoryBytes.getAsLong());
        }
        if (cpuCores.isPresent() && !(cpuCores.getAsDouble() > 0 && cpuCores.getAsDouble() <= 4096)) {
            throw new IllegalArgumentException("cpu limit must be between 0 and 4096 cores, not "
                    + cpuCores.getAsDouble());
        }
        if (pids.isPresent() && pids.getAsLong() <= 0) {
            throw new IllegalArgumentException("pids limit must be positive, not " + pids.getAsLong());
        }
    }

    public ResourceLimits withMemory(long bytes) {
        return new ResourceLimits(OptionalLong.of(bytes), cpuCores, pids);
    }

    public ResourceLimits withCpu(double cores) {
        return new ResourceLimits(memoryBytes, OptionalDouble.of(cores), pids);
    }

    public ResourceLimits withPids(long max) {
        return new ResourceLimits(memoryBytes, cpuCores, OptionalLong.of(max));
    }

    /** The kinds of limit set, to check against {@link Enforcement} before starting. */
    public Set<Control> controls() {
        Set<Control> set = EnumSet.noneOf(Control.class);
        memoryBytes.ifPresent(bytes -> set.add(Control.MEMORY));
        cpuCores.ifPresent(cores -> set.add(Control.CPU));
        pids.ifPresent(max -> set.add(Control.PIDS));
        return set;
    }

    /** The CPU quota per {@link #CPU_PERIOD_MICROS}: 0.5 cores is 50000 µs of every 100000 µs. */
    static long cpuQuotaMicros(double cores) {
        return Math.max(MIN_CPU_QUOTA_MICROS, Math.round(cores * CPU_PERIOD_MICROS));
    }

    /** Bytes in the largest binary unit that divides them exactly: "256 MiB", "1536 KiB", "1000 bytes". */
    public static String describeBytes(long bytes) {
        return io.jobscheduler.config.Limits.describeBytes(bytes);
    }
}
