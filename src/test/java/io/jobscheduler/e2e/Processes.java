package io.jobscheduler.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** The machine's processes as {@code /proc} shows them, found by a marker in their command line. */
final class Processes {
    private Processes() {
    }

    /** A string unique to one test, to name its scripts and find its processes. */
    static String marker() {
        return "e2e" + UUID.randomUUID().toString().replace("-", "");
    }

    /** The pids of live processes whose command line contains {@code marker}. */
    static List<Long> withMarker(String marker) {
        List<Long> pids = new ArrayList<>();
        try (var entries = Files.list(Path.of("/proc"))) {
            for (Path entry : entries.toList()) {
                String name = entry.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    // A zombie's command line is empty: only live processes match.
                    if (new String(Files.readAllBytes(entry.resolve("cmdline")), StandardCharsets.ISO_8859_1)
                            .contains(marker)) {
                        pids.add(Long.parseLong(name));
                    }
                } catch (IOException e) {
                    // The process ended while we looked.
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return pids;
    }

    /** SIGKILL to every process with {@code marker}, for cleaning up after a worker that could not. */
    static void kill(String marker) {
        withMarker(marker).forEach(pid -> ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly));
    }
}
