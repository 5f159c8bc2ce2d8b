package io.jobscheduler.worker.job;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** The job cgroups on this machine, as tests count them. */
final class CgroupDirs {
    private CgroupDirs() {
    }

    /** The cgroups named after the job, anywhere; cgroups that other tests remove meanwhile are passed over. */
    static List<Path> named(String jobId) throws IOException {
        List<Path> found = new ArrayList<>();
        Files.walkFileTree(Path.of("/sys/fs/cgroup"), Set.of(), 8, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attributes) {
                if (dir.getFileName() != null && dir.getFileName().toString().equals(jobId)) {
                    found.add(dir);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
                return FileVisitResult.CONTINUE;
            }
        });
        return found;
    }
}
