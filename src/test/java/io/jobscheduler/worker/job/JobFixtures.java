package io.jobscheduler.worker.job;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** Shared helpers for job tests: scripts in the work directory, whole-output reads, /proc scans. */
final class JobFixtures {
    static final Duration GENEROUS = Duration.ofSeconds(60);

    private JobFixtures() {
    }

    /** {@code command path} as a plain launch in {@code cwd}, with the test's own environment. */
    static Launch launch(Path cwd, String command, String path) {
        List<String> argv = path.isEmpty() ? List.of(command) : List.of(command, path);
        List<String> env = System.getenv().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList();
        return new Launch(command, argv, env, cwd);
    }

    static Path script(Path workDir, String name, String body) throws IOException {
        return Files.writeString(workDir.resolve(name), "#!/bin/sh\n" + body + "\n");
    }

    /** A copy of what {@link OutputLog.Reader#read} returned: empty at the end. */
    record Chunk(long offset, byte[] bytes) {
        boolean end() {
            return bytes.length == 0;
        }
    }

    /** One read on a reader of its own ({@link OutputLog.Reader#read}), copied out. */
    static Chunk read(OutputLog log, long offset, int maxBytes, boolean follow) throws IOException, InterruptedException {
        try (OutputLog.Reader reader = log.reader()) {
            ByteBuffer read = reader.read(offset, maxBytes, follow);
            byte[] bytes = new byte[read.remaining()];
            read.get(bytes);
            return new Chunk(offset, bytes);
        }
    }

    /** Follows a log from the start to its end and returns every byte. */
    static byte[] readAll(OutputLog log) throws IOException, InterruptedException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        long offset = 0;
        while (true) {
            Chunk chunk = read(log, offset, OutputLog.MAX_CHUNK, true);
            if (chunk.end()) {
                return all.toByteArray();
            }
            all.write(chunk.bytes());
            offset += chunk.bytes().length;
        }
    }

    static String text(OutputLog log) throws IOException, InterruptedException {
        return new String(readAll(log), StandardCharsets.UTF_8);
    }

    /** Follows a log until its text contains {@code marker}. */
    static void awaitOutput(OutputLog log, String marker) throws IOException, InterruptedException {
        ByteArrayOutputStream seen = new ByteArrayOutputStream();
        long offset = 0;
        while (!seen.toString(StandardCharsets.UTF_8).contains(marker)) {
            Chunk chunk = read(log, offset, OutputLog.MAX_CHUNK, true);
            if (chunk.end()) {
                throw new AssertionError("output ended without " + marker + ": " + seen);
            }
            seen.write(chunk.bytes());
            offset += chunk.bytes().length;
        }
    }

    /**
     * The living members of a group that was killed, once each has finished dying: a job ends
     * when its output closes, and a killed member closes its descriptors a moment before the
     * kernel marks it dead. Empty when the whole group is gone.
     */
    static List<Integer> membersAfterKill(int pgid) throws Exception {
        for (int pid : livingMembers(pgid)) {
            Optional<ProcessHandle> member = ProcessHandle.of(pid);
            if (member.isPresent()) {
                member.get().onExit().get(GENEROUS.toSeconds(), TimeUnit.SECONDS);
            }
        }
        return livingMembers(pgid);
    }

    /** Pids of the processes in process group {@code pgid} that are not zombies (those run nothing). */
    static List<Integer> livingMembers(int pgid) throws IOException {
        List<Integer> members = new ArrayList<>();
        try (DirectoryStream<Path> procs = Files.newDirectoryStream(Path.of("/proc"), p -> p.getFileName().toString().matches("\\d+"))) {
            for (Path proc : procs) {
                String stat;
                try {
                    stat = Files.readString(proc.resolve("stat"));
                } catch (IOException gone) {
                    continue;
                }
                String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                String state = fields[0];
                int pgrp = Integer.parseInt(fields[2]);
                if (pgrp == pgid && !state.equals("Z") && !state.equals("X")) {
                    members.add(Integer.parseInt(proc.getFileName().toString()));
                }
            }
        }
        return members;
    }
}
