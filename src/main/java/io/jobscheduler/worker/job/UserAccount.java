package io.jobscheduler.worker.job;

import io.jobscheduler.config.ConfigException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** A user jobs may run as, looked up once at start-up through the system's user database. */
record UserAccount(String name, int uid, int gid, String home) {

    /** The account of {@code name} by {@code getent passwd} (NSS, not only /etc/passwd); {@code key} names the setting. */
    static UserAccount lookUp(String key, String name) {
        if (!name.matches("[A-Za-z0-9_][A-Za-z0-9_.-]*")) {
            throw new ConfigException(key + ": '" + name + "' is not a user name");
        }
        String line;
        try {
            Process getent = new ProcessBuilder("getent", "passwd", name).redirectErrorStream(true).start();
            line = new String(getent.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (getent.waitFor() != 0) {
                throw new ConfigException(key + ": no user '" + name + "' on this machine");
            }
        } catch (IOException e) {
            throw new ConfigException(key + ": cannot look up user '" + name + "': " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConfigException(key + ": interrupted looking up user '" + name + "'");
        }
        String[] fields = line.split(":", -1);
        if (fields.length < 7 || !fields[0].equals(name)) {
            throw new ConfigException(key + ": unexpected entry for user '" + name + "': " + line);
        }
        return new UserAccount(name, Integer.parseInt(fields[2]), Integer.parseInt(fields[3]), fields[5]);
    }

    /** The effective uid of this process, from /proc/self/status. */
    static int effectiveUid() {
        try {
            for (String l : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (l.startsWith("Uid:")) {
                    return Integer.parseInt(l.substring(4).strip().split("\\s+")[1]);
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read /proc/self/status", e);
        }
        throw new IllegalStateException("no Uid line in /proc/self/status");
    }
}
