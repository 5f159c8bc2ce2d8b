package io.jobscheduler.worker.cgroup;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/** Parses {@code /proc/self/mountinfo} (the cgroup mounts) and {@code /proc/self/cgroup} (our own cgroups). */
final class ProcCgroupFiles {
    /** A mounted cgroup hierarchy: v2, or v1 with its controllers (a named one like name=systemd has none). */
    record Mount(Path mountPoint, String root, boolean v2, Set<String> controllers, boolean readOnly) {
    }

    private ProcCgroupFiles() {
    }

    /** The cgroup mounts of a mountinfo file, mount points re-rooted under {@code fsRoot}. */
    static List<Mount> mounts(Path mountinfo, Path fsRoot) throws IOException {
        List<Mount> mounts = new ArrayList<>();
        for (String line : Files.readAllLines(mountinfo)) {
            // id parent major:minor root mount-point mount-options [optional…] - fstype source super-options
            String[] fields = line.split(" ");
            int dash = Arrays.asList(fields).indexOf("-");
            if (dash < 6 || fields.length < dash + 4) {
                continue;
            }
            String type = fields[dash + 1];
            if (!type.equals("cgroup") && !type.equals("cgroup2")) {
                continue;
            }
            Set<String> options = new TreeSet<>(Arrays.asList(fields[dash + 3].split(",")));
            boolean readOnly = Arrays.asList(fields[5].split(",")).contains("ro") || options.contains("ro");
            Set<String> controllers = new TreeSet<>();
            if (type.equals("cgroup")) {
                for (String option : options) {
                    if (V1_CONTROLLERS.contains(option)) {
                        controllers.add(option);
                    }
                }
            }
            Path point = fsRoot.resolve(unescape(fields[4]).substring(1));
            mounts.add(new Mount(point, unescape(fields[3]), type.equals("cgroup2"), controllers, readOnly));
        }
        return mounts;
    }

    private static final Set<String> V1_CONTROLLERS = Set.of("memory", "cpu", "cpuacct", "pids", "cpuset", "blkio",
            "devices", "freezer", "net_cls", "net_prio", "perf_event", "hugetlb", "rdma", "misc");

    /**
     * Our own cgroup per hierarchy from {@code /proc/self/cgroup}, keyed by {@link #key}: a v2 line is
     * {@code 0::/path}, a v1 line {@code 4:memory:/path} or {@code 2:cpu,cpuacct:/path}.
     */
    static Map<String, String> ownCgroups(Path selfCgroup) throws IOException {
        Map<String, String> own = new HashMap<>();
        for (String line : Files.readAllLines(selfCgroup)) {
            String[] parts = line.split(":", 3);
            if (parts.length != 3) {
                continue;
            }
            if (parts[0].equals("0") && parts[1].isEmpty()) {
                own.put(V2_KEY, parts[2]);
            } else {
                Set<String> controllers = new TreeSet<>(Arrays.asList(parts[1].split(",")));
                controllers.retainAll(V1_CONTROLLERS);
                if (!controllers.isEmpty()) {
                    own.put(String.join(",", controllers), parts[2]);
                }
            }
        }
        return own;
    }

    private static final String V2_KEY = "cgroup2";

    private static String key(Mount mount) {
        return mount.v2() ? V2_KEY : String.join(",", mount.controllers());
    }

    /** Our own cgroup in {@code mount}, as a directory, or empty if it lies outside what the mount shows. */
    static Optional<Path> ownDirectory(Mount mount, Map<String, String> own) {
        String path = own.get(key(mount));
        if (path == null || path.contains("(deleted)")) {
            return Optional.empty();
        }
        String root = mount.root();
        if (root.equals("/")) {
            return Optional.of(mount.mountPoint().resolve(path.substring(1)));
        }
        if (path.equals(root)) {
            return Optional.of(mount.mountPoint());
        }
        if (!path.startsWith(root + "/")) {
            return Optional.empty();
        }
        return Optional.of(mount.mountPoint().resolve(path.substring(root.length() + 1)));
    }

    /** mountinfo escapes space, tab, newline and backslash as three octal digits. */
    static String unescape(String field) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < field.length(); i++) {
            char c = field.charAt(i);
            if (c == '\\' && i + 3 < field.length() && field.substring(i + 1, i + 4).matches("[0-7]{3}")) {
                out.append((char) Integer.parseInt(field.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }
}
