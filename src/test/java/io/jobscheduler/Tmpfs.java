package io.jobscheduler;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * A real, small tmpfs mounted on a folder for the length of a test: a disk that fills up. Needs
 * root (or CAP_SYS_ADMIN); without it the test is skipped, saying so loudly. Unmounted on close,
 * lazily if something still holds it open.
 */
public final class Tmpfs implements AutoCloseable {
    private final Path dir;

    private Tmpfs(Path dir) {
        this.dir = dir;
    }

    /** Mounts a tmpfs of {@code megabytes} on {@code dir} (created if missing), or skips the test. */
    public static Tmpfs mount(Path dir, int megabytes) throws IOException, InterruptedException {
        Files.createDirectories(dir);
        Result mount = run("mount", "-t", "tmpfs", "-o", "size=" + megabytes + "m", "tmpfs", dir.toString());
        if (mount.status() != 0) {
            String why = "SKIPPED: cannot mount a tmpfs on " + dir + " (needs root): " + mount.output();
            System.err.println("!!!!! " + why);
            Assumptions.assumeTrue(false, why);
        }
        return new Tmpfs(dir);
    }

    public Path dir() {
        return dir;
    }

    /** Gives the mounted file system room again, without unmounting it. */
    public void resize(int megabytes) throws IOException, InterruptedException {
        Result remount = run("mount", "-o", "remount,size=" + megabytes + "m", dir.toString());
        if (remount.status() != 0) {
            throw new IOException("cannot resize the tmpfs on " + dir + ": " + remount.output());
        }
    }

    @Override
    public void close() throws IOException, InterruptedException {
        if (run("umount", dir.toString()).status() != 0) {
            Result lazy = run("umount", "-l", dir.toString());
            if (lazy.status() != 0) {
                throw new IOException("cannot unmount the tmpfs on " + dir + ": " + lazy.output());
            }
        }
    }

    private record Result(int status, String output) {
    }

    private static Result run(String... command) throws IOException, InterruptedException {
        Process process = new ProcessBuilder(List.of(command)).redirectErrorStream(true).start();
        process.getOutputStream().close();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            return new Result(-1, String.join(" ", command) + " did not finish");
        }
        return new Result(process.exitValue(), output);
    }
}
