package io.jobscheduler.worker.cgroup;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Per {@link Control}, how this worker can enforce it, or why it cannot: what the worker logs at start-up,
 * reports in {@code GET /workers}, and checks a start's limits against (an unenforceable limit is refused,
 * never ignored).
 */
public final class Enforcement {
    /** How a control is enforced. */
    public enum Means {
        CGROUP,
        /** A per-process rlimit set in the pre-exec step: weaker than a cgroup (see {@link #note}). */
        RLIMIT,
        NONE
    }

    private record Entry(Means means, String note) {
    }

    private final Map<Control, Entry> entries;
    /** Why there are no cgroups at all, said once in {@link #describe()}; null with cgroups. */
    private final String noCgroups;

    private Enforcement(Map<Control, Entry> entries, String noCgroups) {
        this.entries = Collections.unmodifiableMap(new EnumMap<>(entries));
        this.noCgroups = noCgroups;
    }

    /** Every control through cgroups, except those in {@code missing}, each with the reason it is missing. */
    static Enforcement byCgroups(Map<Control, String> missing) {
        Map<Control, Entry> entries = new EnumMap<>(Control.class);
        for (Control control : Control.values()) {
            String reason = missing.get(control);
            entries.put(control, reason == null ? new Entry(Means.CGROUP, "cgroup") : fallback(control, reason));
        }
        return new Enforcement(entries, null);
    }

    /** Without cgroups: only the rlimit stand-ins that are sound. */
    public static Enforcement withoutCgroups(String reason) {
        Map<Control, Entry> entries = new EnumMap<>(Control.class);
        for (Control control : Control.values()) {
            entries.put(control, fallback(control, reason));
        }
        return new Enforcement(entries, reason);
    }

    /**
     * The rlimit that can stand in for a missing cgroup control. Only RLIMIT_AS is sound enough: it caps a
     * process's address space (not its resident memory, so a job reserving much virtual memory fails early,
     * and each process of the job gets the whole limit). RLIMIT_NPROC counts every process and thread of the
     * job's user, the worker's own threads included when jobs run as the worker's user, and root ignores it;
     * RLIMIT_CPU is a budget of CPU seconds, not a share of a core; a process group kill misses setsid.
     */
    private static Entry fallback(Control control, String reason) {
        return switch (control) {
            case MEMORY -> new Entry(Means.RLIMIT, "RLIMIT_AS per process (address space, not resident memory; "
                    + reason + ")");
            case CPU -> new Entry(Means.NONE, reason + "; RLIMIT_CPU limits CPU seconds, not a share of a core");
            case PIDS -> new Entry(Means.NONE, reason + "; RLIMIT_NPROC counts all processes of the job's user");
            case KILL_TREE -> new Entry(Means.NONE, reason + "; a process group kill misses setsid descendants");
        };
    }

    public Means means(Control control) {
        return entries.get(control).means();
    }

    /** How the control is enforced, or why it is not. */
    public String note(Control control) {
        return entries.get(control).note();
    }

    /** Whether it is enforced at all: by a cgroup, or by the rlimit the pre-exec step must then set. */
    public boolean enforces(Control control) {
        return means(control) != Means.NONE;
    }

    /** The first limit of {@code wanted} this worker cannot enforce, as a sentence for a 422. */
    public Optional<String> refusal(Set<Control> wanted) {
        return wanted.stream().sorted().filter(control -> !enforces(control)).findFirst()
                .map(control -> "this worker cannot enforce a " + control.word() + " limit: " + note(control));
    }

    /**
     * "memory (cgroup), cpu (cgroup), pids (none: why), kill-tree (cgroup)"; without cgroups the reason once:
     * "(why): memory (RLIMIT_AS only), cpu (none), pids (none), kill-tree (none)".
     */
    public String describe() {
        String controls = entries.entrySet().stream()
                .map(e -> e.getKey().word() + " (" + describe(e.getValue()) + ")")
                .collect(Collectors.joining(", "));
        return noCgroups == null ? controls : "(" + noCgroups + "): " + controls;
    }

    private String describe(Entry entry) {
        return switch (entry.means()) {
            case CGROUP -> "cgroup";
            case RLIMIT -> noCgroups == null ? "rlimit: " + entry.note() : "RLIMIT_AS only";
            case NONE -> noCgroups == null ? "none: " + entry.note() : "none";
        };
    }
}
