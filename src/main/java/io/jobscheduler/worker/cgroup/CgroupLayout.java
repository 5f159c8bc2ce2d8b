package io.jobscheduler.worker.cgroup;

import io.jobscheduler.worker.cgroup.ProcCgroupFiles.Mount;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Which cgroups this worker can use, found from {@code /proc/self/mountinfo} and {@code /proc/self/cgroup}:
 * cgroup v2 alone, the hybrid layout (v1 controllers for the limits, the v2 hierarchy for membership and
 * {@code cgroup.kill}), or none. Job cgroups go under the worker's own cgroup in each hierarchy, which may
 * differ per hierarchy (a sandbox may have put us into a memory cgroup of its own). See
 * docs/helidon-notes.md, "cgroups on this machine kind".
 */
public final class CgroupLayout {
    public enum Kind {
        V2("cgroup v2"),
        HYBRID("cgroup v1+v2 hybrid"),
        NONE("no cgroups");

        private final String words;

        Kind(String words) {
            this.words = words;
        }
    }

    /**
     * One hierarchy used for jobs: our own cgroup in it and the controls it serves. The v2 hierarchy always
     * serves {@link Control#KILL_TREE} (membership is what the kill follows).
     */
    record Hierarchy(String name, Path ownDir, boolean v2, Set<Control> controls) {
    }

    private static final Map<Control, String> CONTROLLERS =
            Map.of(Control.MEMORY, "memory", Control.CPU, "cpu", Control.PIDS, "pids");

    private final Kind kind;
    private final List<Hierarchy> hierarchies;
    private final Enforcement enforcement;

    private CgroupLayout(Kind kind, List<Hierarchy> hierarchies, Enforcement enforcement) {
        this.kind = kind;
        this.hierarchies = List.copyOf(hierarchies);
        this.enforcement = enforcement;
    }

    /** This process's layout. Never throws: what cannot be read or used is a {@link Kind#NONE} saying why. */
    public static CgroupLayout detect() {
        return detect(Path.of("/proc/self/mountinfo"), Path.of("/proc/self/cgroup"), Path.of("/"));
    }

    /** The layout described by these files, with the mount points re-rooted under {@code fsRoot}. */
    public static CgroupLayout detect(Path mountinfo, Path selfCgroup, Path fsRoot) {
        try {
            return detect(ProcCgroupFiles.mounts(mountinfo, fsRoot), ProcCgroupFiles.ownCgroups(selfCgroup));
        } catch (IOException | RuntimeException e) {
            return none("cannot read " + mountinfo + " or " + selfCgroup + ": " + e.getMessage());
        }
    }

    private static CgroupLayout detect(List<Mount> mounts, Map<String, String> own) throws IOException {
        Optional<Mount> unified = mounts.stream().filter(Mount::v2).findFirst();
        if (unified.isEmpty()) {
            return none("no cgroup2 hierarchy is mounted (it holds job membership and the kill)");
        }
        Optional<Path> unifiedDir = ProcCgroupFiles.ownDirectory(unified.get(), own);
        if (unifiedDir.isEmpty()) {
            return none("this process's cgroup2 cgroup is not visible under " + unified.get().mountPoint());
        }
        Optional<String> unusable = unusable(unified.get(), unifiedDir.get());
        if (unusable.isPresent()) {
            return none(unusable.get());
        }
        Map<Control, String> missing = new EnumMap<>(Control.class);
        Map<Mount, Set<Control>> v1 = new LinkedHashMap<>();
        List<Control> forV2 = new ArrayList<>();
        for (Control control : CONTROLLERS.keySet().stream().sorted().toList()) {
            Optional<Mount> mount = mounts.stream()
                    .filter(m -> !m.v2() && m.controllers().contains(CONTROLLERS.get(control))).findFirst();
            if (mount.isEmpty()) {
                forV2.add(control);
                continue;
            }
            Optional<Path> dir = ProcCgroupFiles.ownDirectory(mount.get(), own);
            Optional<String> problem = dir.isEmpty()
                    ? Optional.of("this process's " + CONTROLLERS.get(control) + " cgroup is not visible under "
                            + mount.get().mountPoint())
                    : unusable(mount.get(), dir.get());
            if (problem.isPresent()) {
                missing.put(control, problem.get());
            } else {
                v1.computeIfAbsent(mount.get(), m -> EnumSet.noneOf(Control.class)).add(control);
            }
        }
        Set<Control> unifiedControls = EnumSet.of(Control.KILL_TREE);
        for (Control control : forV2) {
            Optional<String> problem = v2Problem(unified.get(), unifiedDir.get(), CONTROLLERS.get(control));
            problem.ifPresentOrElse(reason -> missing.put(control, reason), () -> unifiedControls.add(control));
        }
        List<Hierarchy> hierarchies = new ArrayList<>();
        hierarchies.add(new Hierarchy("unified", unifiedDir.get(), true, unifiedControls));
        for (Map.Entry<Mount, Set<Control>> entry : v1.entrySet()) {
            Mount mount = entry.getKey();
            Path dir = ProcCgroupFiles.ownDirectory(mount, own).orElseThrow();
            hierarchies.add(new Hierarchy(String.join(",", mount.controllers()), dir, false, entry.getValue()));
        }
        Kind kind = mounts.stream().anyMatch(m -> !m.v2() && !m.controllers().isEmpty()) ? Kind.HYBRID : Kind.V2;
        return new CgroupLayout(kind, hierarchies, Enforcement.byCgroups(missing));
    }

    private static CgroupLayout none(String reason) {
        return new CgroupLayout(Kind.NONE, List.of(), Enforcement.withoutCgroups(reason));
    }

    private static Optional<String> unusable(Mount mount, Path dir) {
        if (mount.readOnly()) {
            return Optional.of(mount.mountPoint() + " is mounted read-only");
        }
        if (!Files.isDirectory(dir)) {
            return Optional.of(dir + " does not exist");
        }
        if (!Files.isWritable(dir)) {
            return Optional.of(dir + " is not writable by this user (cgroups need root or a delegated cgroup)");
        }
        return Optional.empty();
    }

    /**
     * Why a v2 controller cannot reach job cgroups under {@code dir}, if it cannot. It must be available to
     * our cgroup ({@code cgroup.controllers}), and we must be able to enable it for our children
     * ({@code cgroup.subtree_control}), which v2's no-internal-processes rule forbids while our cgroup holds
     * processes, unless it is the hierarchy's root.
     */
    private static Optional<String> v2Problem(Mount mount, Path dir, String controller) throws IOException {
        Set<String> available = words(dir.resolve("cgroup.controllers"));
        if (!available.contains(controller)) {
            return Optional.of("the " + controller + " controller is not available to cgroup v2 jobs (" + dir
                    + "/cgroup.controllers: " + String.join(" ", available) + ")");
        }
        boolean root = dir.equals(mount.mountPoint()) && mount.root().equals("/");
        boolean enabled = words(dir.resolve("cgroup.subtree_control")).contains(controller);
        boolean holdsProcesses = !Files.readString(dir.resolve("cgroup.procs")).isBlank();
        if (root || enabled || !holdsProcesses) {
            return Optional.empty();
        }
        return Optional.of("the worker's cgroup " + dir + " holds processes, so it cannot pass the " + controller
                + " controller to job cgroups (cgroup v2's no-internal-processes rule); run the worker in a"
                + " delegated cgroup (systemd: Delegate=yes) from a leaf of its own");
    }

    private static Set<String> words(Path file) throws IOException {
        String text = Files.isReadable(file) ? Files.readString(file).strip() : "";
        return text.isEmpty() ? Set.of() : new LinkedHashSet<>(List.of(text.split("\\s+")));
    }

    public Kind kind() {
        return kind;
    }

    public Enforcement enforcement() {
        return enforcement;
    }

    List<Hierarchy> hierarchies() {
        return hierarchies;
    }

    /** Our own cgroup in the hierarchy serving {@code control}, for logs and tests. */
    public Optional<Path> ownDirectory(Control control) {
        return hierarchies.stream().filter(h -> h.controls().contains(control)).map(Hierarchy::ownDir).findFirst();
    }

    /** One line for the worker's start-up log and {@code GET /workers}: "cgroup v2: memory (cgroup), …". */
    public String describe() {
        String controls = enforcement.describe();
        return kind.words + (controls.startsWith("(") ? " " : ": ") + controls;
    }

    @Override
    public String toString() {
        return describe();
    }
}
