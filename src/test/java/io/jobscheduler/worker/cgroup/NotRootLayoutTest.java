package io.jobscheduler.worker.cgroup;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A worker that is not root, on this machine's real cgroups: a JVM run as nobody detects its layout. */
class NotRootLayoutTest {
    /** Prints the layout this process detects: run as another user by the test. */
    public static void main(String[] args) {
        CgroupLayout layout = CgroupLayout.detect();
        System.out.println(layout.kind() + "\n" + layout.describe());
    }

    @Test
    void aWorkerThatIsNotRootHasNoCgroupsAndSaysWhy() throws Exception {
        JobCgroupsContract.skipUnless(ProcessHandle.current().info().user().orElse("").equals("root"),
                "this test runs as root to start a JVM as nobody");
        JobCgroupsContract.skipUnless(Files.isExecutable(Path.of("/usr/bin/setpriv")), "util-linux setpriv");
        String java = ProcessHandle.current().info().command().orElseThrow();
        String classes = Path.of(CgroupLayout.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                + ":" + Path.of(NotRootLayoutTest.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Process process = new ProcessBuilder(List.of("/usr/bin/setpriv", "--reuid", "65534", "--regid", "65534",
                "--clear-groups", java, "-cp", classes, NotRootLayoutTest.class.getName()))
                .redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, process.exitValue(), output);
        List<String> lines = output.lines().toList();
        assertEquals("NONE", lines.getFirst(), output);
        assertTrue(lines.get(1).matches("no cgroups \\(.* is not writable by this user \\(cgroups need root or a"
                + " delegated cgroup\\)\\): memory \\(RLIMIT_AS only\\), cpu \\(none\\), pids \\(none\\),"
                + " kill-tree \\(none\\)"), output);
        System.out.println("as nobody: " + lines.get(1));
    }
}
