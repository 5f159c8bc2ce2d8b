package io.jobscheduler.worker.cgroup;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** Reading and writing cgroup files, each failure a {@link CgroupException} naming the file. */
final class CgroupFiles {
    /** Worker and job ids become directory names: no dots (control files have them), no slashes. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,127}");

    private CgroupFiles() {
    }

    static String checkName(String what, String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(what + " must match " + NAME.pattern() + " to name a cgroup, not '"
                    + name + "'");
        }
        return name;
    }

    /** One write of {@code value}: the kernel takes each write(2) to a control file as one command. */
    static void write(Path file, String value) throws CgroupException {
        try {
            // Never CREATE: a control file that is missing is an error, not a file to make.
            Files.writeString(file, value, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
        } catch (IOException e) {
            throw new CgroupException("cannot write '" + value + "' to " + file + ": " + reason(e), e);
        }
    }

    static String read(Path file) throws CgroupException {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new CgroupException("cannot read " + file + ": " + reason(e), e);
        }
    }

    /** The value of {@code key} in a flat-keyed file ("oom_kill 1" lines), empty if the key is absent. */
    static OptionalLong keyed(Path file, String key) throws CgroupException {
        for (String line : read(file).split("\n")) {
            String[] parts = line.strip().split("\\s+");
            if (parts.length == 2 && parts[0].equals(key)) {
                return OptionalLong.of(Long.parseLong(parts[1]));
            }
        }
        return OptionalLong.empty();
    }

    /** The pids listed in a {@code cgroup.procs} file; none if the cgroup is gone. */
    static List<Long> pids(Path procsFile) throws CgroupException {
        if (!Files.exists(procsFile)) {
            return List.of();
        }
        List<Long> pids = new ArrayList<>();
        for (String line : read(procsFile).split("\n")) {
            if (!line.isBlank()) {
                pids.add(Long.parseLong(line.strip()));
            }
        }
        return pids;
    }

    /** The names of the child cgroups of {@code dir}; none if it does not exist. */
    static List<String> children(Path dir) throws CgroupException {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().toList();
        } catch (NoSuchFileException gone) {
            return List.of();
        } catch (IOException e) {
            throw new CgroupException("cannot list " + dir + ": " + reason(e), e);
        }
    }

    /**
     * Removes an empty cgroup and the child cgroups a job may have made in it, deepest first. rmdir is how
     * a cgroup goes: its control files cannot be deleted one by one.
     */
    static void removeTree(Path dir) throws CgroupException {
        // The common case first, in one syscall: a job's cgroup without child cgroups (walking it would
        // stat each of its ~20 control files).
        try {
            Files.delete(dir);
            return;
        } catch (NoSuchFileException gone) {
            return;
        } catch (IOException busy) {
            // Child cgroups (EBUSY, as for processes still inside): remove them, then try again below.
        }
        for (String child : children(dir)) {
            removeTree(dir.resolve(child));
        }
        try {
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            throw new CgroupException("cannot remove cgroup " + dir + ": " + reason(e), e);
        }
    }

    private static String reason(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file";
        }
        return e instanceof FileSystemException fs && fs.getReason() != null
                ? fs.getReason() : String.valueOf(e.getMessage());
    }
}
