package io.jobscheduler.worker.cgroup;

import io.jobscheduler.worker.cgroup.CgroupLayout.Hierarchy;
import io.jobscheduler.worker.cgroup.LinuxJobCgroup.Member;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/** {@link JobCgroups} for the v2 and hybrid layouts: the worker's parent is one directory per hierarchy. */
final class LinuxJobCgroups implements JobCgroups {
    /** The directory under our own cgroup that every worker of this host shares. */
    static final String TOP = "jobscheduler";

    private final CgroupLayout layout;
    /** The worker's parent cgroup in each hierarchy of the layout, in the layout's order (v2 first). */
    private final List<Member> parents;

    private LinuxJobCgroups(CgroupLayout layout, List<Member> parents) {
        this.layout = layout;
        this.parents = List.copyOf(parents);
    }

    static LinuxJobCgroups open(CgroupLayout layout, String workerId) throws CgroupException {
        CgroupFiles.checkName("worker id", workerId);
        if (layout.kind() == CgroupLayout.Kind.NONE) {
            throw new CgroupException("no cgroups can be made: " + layout.describe());
        }
        List<Member> parents = new ArrayList<>();
        for (Hierarchy hierarchy : layout.hierarchies()) {
            Path top = hierarchy.ownDir().resolve(TOP);
            Path parent = top.resolve(workerId);
            mkdirs(parent);
            if (hierarchy.v2()) {
                // Each level between our cgroup and a job's must pass the controllers down (cgroup v2).
                String enable = hierarchy.controls().stream().filter(c -> c != Control.KILL_TREE)
                        .map(c -> "+" + c.word()).collect(Collectors.joining(" "));
                if (!enable.isEmpty()) {
                    for (Path level : List.of(hierarchy.ownDir(), top, parent)) {
                        CgroupFiles.write(level.resolve("cgroup.subtree_control"), enable);
                    }
                }
            }
            parents.add(new Member(hierarchy, parent));
        }
        return new LinuxJobCgroups(layout, parents);
    }

    private static void mkdirs(Path dir) throws CgroupException {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new CgroupException("cannot create cgroup " + dir + ": " + e.getMessage(), e);
        }
    }

    @Override
    public Enforcement enforcement() {
        return layout.enforcement();
    }

    @Override
    public JobCgroup create(String jobId, ResourceLimits limits) throws CgroupException {
        CgroupFiles.checkName("job id", jobId);
        for (Control control : limits.controls()) {
            if (layout.enforcement().means(control) != Enforcement.Means.CGROUP) {
                throw new CgroupException("job cgroups here cannot enforce a " + control.word() + " limit: "
                        + layout.enforcement().note(control));
            }
        }
        List<Member> members = new ArrayList<>();
        try {
            for (Member parent : parents) {
                // The v2 cgroup always (membership, and the kill of the whole tree); a v1 hierarchy only
                // for a limit it enforces: making and removing a v1 memory cgroup costs milliseconds,
                // which a job without limits should not pay (BENCHMARKS.md, "Round two").
                if (!parent.hierarchy().v2() && limits.controls().stream().noneMatch(parent::serves)) {
                    continue;
                }
                Path dir = parent.dir().resolve(jobId);
                try {
                    Files.createDirectory(dir);
                } catch (IOException e) {
                    throw new CgroupException("cannot create cgroup " + dir + ": " + e.getMessage(), e);
                }
                members.add(new Member(parent.hierarchy(), dir));
            }
            LinuxJobCgroup cgroup = new LinuxJobCgroup(jobId, members);
            cgroup.apply(limits);
            return cgroup;
        } catch (CgroupException | RuntimeException e) {
            for (Member made : members) {
                try {
                    CgroupFiles.removeTree(made.dir());
                } catch (CgroupException cleanup) {
                    e.addSuppressed(cleanup);
                }
            }
            throw e;
        }
    }

    @Override
    public List<String> leftovers() throws CgroupException {
        Set<String> ids = new TreeSet<>();
        for (Member parent : parents) {
            ids.addAll(CgroupFiles.children(parent.dir()));
        }
        return List.copyOf(ids);
    }

    @Override
    public List<String> removeLeftovers(Duration timeout) throws CgroupException {
        List<String> removed = new ArrayList<>();
        CgroupException first = null;
        for (String jobId : leftovers()) {
            List<Member> members = parents.stream()
                    .map(parent -> new Member(parent.hierarchy(), parent.dir().resolve(jobId))).toList();
            try {
                new LinuxJobCgroup(jobId, members).remove(timeout);
                removed.add(jobId);
            } catch (CgroupException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
        return removed;
    }

    @Override
    public void close() throws CgroupException {
        List<String> left = leftovers();
        if (!left.isEmpty()) {
            throw new CgroupException("job cgroups are left under the worker's parent: " + left);
        }
        for (Member parent : parents) {
            CgroupFiles.removeTree(parent.dir());
            Path top = parent.dir().getParent();
            // Other workers of this host may share the top directory: it goes with the last of them.
            if (CgroupFiles.children(top).isEmpty()) {
                try {
                    Files.deleteIfExists(top);
                } catch (IOException busy) {
                    // Another worker made its parent in between: it is theirs to remove now.
                }
            }
        }
    }

    /** The worker's parent cgroup in each hierarchy (for tests and the start-up log). */
    List<Path> parentDirectories() {
        return parents.stream().map(Member::dir).toList();
    }
}
