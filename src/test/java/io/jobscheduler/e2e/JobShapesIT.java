package io.jobscheduler.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import io.grpc.Grpc;
import io.grpc.InsecureChannelCredentials;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.jobscheduler.grpc.QueryJobReq;
import io.jobscheduler.grpc.QueryJobRes;
import io.jobscheduler.grpc.StartJobReq;
import io.jobscheduler.grpc.StreamJobReq;
import io.jobscheduler.grpc.WorkerGrpc;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Shaped starts on real worker processes (the packaged jar), over their gRPC socket: a worker
 * of a cluster holding a secret in its environment, a worker on the example {@code worker.toml},
 * and a worker that is not root asked to run jobs as another user.
 */
class JobShapesIT {
    @TempDir
    static Path dir;
    private static Cluster cluster;
    private static ManagedChannel channel;

    @BeforeAll
    static void startCluster() {
        cluster = Cluster.start(dir, 1, Map.of(), Map.of(
                "WORKER_SECRET", "s3cret",
                "PASSED_ON", "yes",
                "JOBSCHEDULER_JOBS_PASS_ENV", "PASSED_ON",
                "JOBSCHEDULER_JOBS_MAX_TIMEOUT", "10s",
                "JOBSCHEDULER_JOBS_CONFINE", "true"));
        channel = channel(cluster.workerPort(0));
    }

    @AfterAll
    static void stopCluster() throws InterruptedException {
        if (channel != null) {
            channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
        if (cluster != null) {
            cluster.close();
        }
    }

    private static ManagedChannel channel(int port) {
        return Grpc.newChannelBuilder("127.0.0.1:" + port, InsecureChannelCredentials.create()).build();
    }

    private static WorkerGrpc.WorkerBlockingStub stub(ManagedChannel channel) {
        return WorkerGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    /** Follows a job's output to its end and answers it with the job's final status. */
    private static String output(ManagedChannel channel, String jobId) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        stub(channel).streamJob(StreamJobReq.newBuilder().setJobID(jobId).setFollow(true).build())
                .forEachRemaining(chunk -> bytes.writeBytes(chunk.getOutput().toByteArray()));
        return bytes.toString(StandardCharsets.UTF_8);
    }

    private static QueryJobRes status(ManagedChannel channel, String jobId) {
        return stub(channel).queryJob(QueryJobReq.newBuilder().setJobID(jobId).build());
    }

    private static StartJobReq.Builder job(String command, String path, String... args) {
        return StartJobReq.newBuilder().setCommand(command).setPath(path).addAllArgs(List.of(args));
    }

    @Test
    void argumentsArriveByteExact() {
        List<String> args = List.of("a b", "", "\"q\" 'q'", "ü😀", "-n");
        String id = stub(channel).startJob(job("printf", "%s|").addAllArgs(args).build()).getJobID();
        assertEquals(String.join("|", args) + "|", output(channel, id));
    }

    @Test
    void aVariableOfTheWorkerProcessReachesAJobOnlyWhenPassed() {
        String id = stub(channel).startJob(job("env", "").putEnv("ASKED", "for").build()).getJobID();
        String env = output(channel, id);
        assertFalse(env.contains("WORKER_SECRET"), env);
        assertFalse(env.contains("JOBSCHEDULER_JOBS_"), env);
        assertTrue(env.lines().toList().containsAll(List.of("PASSED_ON=yes", "ASKED=for", "JOBSCHEDULER_JOB_ID=" + id)),
                env);
        String workerId = cluster.get("/workers").json().get("workers").get(0).get("id").asText();
        assertTrue(env.lines().anyMatch(("JOBSCHEDULER_WORKER_ID=" + workerId)::equals), env);
    }

    @Test
    void aJobStillRunningAtItsTimeoutFailsSayingSo() {
        long before = System.nanoTime();
        String id = stub(channel).startJob(job("sleep", "30").setTimeoutMillis(1000).build()).getJobID();
        output(channel, id);
        Duration took = Duration.ofNanos(System.nanoTime() - before);
        QueryJobRes status = status(channel, id);
        assertEquals("FAILED", status.getState());
        assertEquals("timed out after 1s", status.getErrorText());
        // stop_grace is 5s by default; sleep ends at SIGTERM.
        assertTrue(took.compareTo(Duration.ofSeconds(1 + 5 + 1)) < 0, "ended after " + took);
    }

    @Test
    void aTimeoutOverMaxTimeoutIsRefused() {
        var e = assertThrows(StatusRuntimeException.class,
                () -> stub(channel).startJob(job("true", "").setTimeoutMillis(11_000).build()));
        assertEquals(Status.Code.FAILED_PRECONDITION, e.getStatus().getCode());
        assertEquals("timeout: 11s is longer than this worker's max_timeout of 10s", e.getStatus().getDescription());
    }

    @Test
    void theExampleWorkerTomlRunsTheReadmesScriptAndConfinesPaths() throws Exception {
        Path home = dir.resolve("example-worker");
        Files.createDirectories(home.resolve("scripts"));
        Files.copy(Path.of("scripts/count.sh"), home.resolve("scripts/count.sh"));
        Path log = dir.resolve("example-worker.log");
        int port = Cluster.freeLoopbackPort();
        Process worker = Cluster.startJar(home, log, Map.of(), "worker", "--config",
                Path.of("worker.toml").toAbsolutePath().toString(), "--grpc-addr", "127.0.0.1:" + port,
                "--scheduler-addr", "127.0.0.1:" + Cluster.freeLoopbackPort());
        ManagedChannel example = channel(port);
        try {
            Cluster.await("the example worker to listen", Duration.ofSeconds(60),
                    () -> Files.exists(log) && read(log).contains("worker gRPC listening"));
            String id = stub(example).startJob(job("bash", "scripts/count.sh", "1").build()).getJobID();
            assertEquals("count 1 of 1\ndone counting\n", output(example, id));
            assertEquals("SUCCEEDED", status(example, id).getState());
            var e = assertThrows(StatusRuntimeException.class,
                    () -> stub(example).startJob(job("cat", "../../../../etc/passwd").build()));
            assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode());
            assertEquals("path '../../../../etc/passwd': outside work_dir (jobs.confine)", e.getStatus().getDescription());
            e = assertThrows(StatusRuntimeException.class,
                    () -> stub(example).startJob(job("../../../../bin/cat", "/etc/passwd").build()));
            assertEquals(Status.Code.PERMISSION_DENIED, e.getStatus().getCode());
        } finally {
            example.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            worker.destroy();
            assertTrue(worker.waitFor(30, TimeUnit.SECONDS), "the example worker stops on SIGTERM");
        }
    }

    @Test
    void aWorkerThatIsNotRootRefusesRunAsAtStartUp() throws Exception {
        boolean root = ProcessHandle.current().info().user().orElse("").equals("root");
        if (!root || !Files.isExecutable(Path.of("/usr/bin/setpriv"))) {
            System.err.println("SKIPPED: needs root and util-linux setpriv to start a worker as nobody");
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(root && Files.isExecutable(Path.of("/usr/bin/setpriv")));
        // Outside the test's own (root-only) folder: nobody must reach its working folder.
        Path home = Files.createTempDirectory(Path.of("/tmp"), "jobs-not-root");
        Files.setPosixFilePermissions(home, java.nio.file.attribute.PosixFilePermissions.fromString("rwxrwxrwx"));
        try {
            assertRefusesRunAs(home);
        } finally {
            try (var all = Files.walk(home)) {
                for (Path p : all.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    private static void assertRefusesRunAs(Path home) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        ProcessBuilder builder = new ProcessBuilder("/usr/bin/setpriv", "--reuid", "65534", "--regid", "65534",
                "--clear-groups", java, "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-jar", Path.of("target/jobscheduler.jar").toAbsolutePath().toString(), "worker",
                "--grpc-addr", "127.0.0.1:" + Cluster.freeLoopbackPort(),
                "--scheduler-addr", "127.0.0.1:" + Cluster.freeLoopbackPort())
                .directory(home.toFile()).redirectErrorStream(true);
        builder.environment().keySet().removeIf(key -> key.startsWith("JOBSCHEDULER_"));
        builder.environment().put("JOBSCHEDULER_JOBS_RUN_AS", "nobody");
        Process worker = builder.start();
        String output = new String(worker.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(worker.waitFor(60, TimeUnit.SECONDS));
        assertEquals(2, worker.exitValue(), output);
        assertTrue(output.lines().anyMatch(("jobscheduler worker: configuration: jobs.run_as: running jobs as another"
                + " user needs a worker running as root")::equals), output);
    }

    // --- through the scheduler's HTTP API ---

    private static String workerId() {
        return cluster.get("/workers").json().get("workers").get(0).get("id").asText();
    }

    private static String startOverHttp(Object... fields) {
        Object[] all = new Object[fields.length + 2];
        all[0] = "worker_id";
        all[1] = workerId();
        System.arraycopy(fields, 0, all, 2, fields.length);
        Cluster.Reply reply = cluster.post("/start", Cluster.object(all));
        assertEquals(201, reply.status(), reply.toString());
        return reply.json().get("job_id").asText();
    }

    @Test
    void argsEnvAndTimeoutArriveThroughHttp() {
        List<String> args = List.of("a b", "", "\"q\" 'q'", "ü😀");
        String id = startOverHttp("command", "printf", "path", "%s|", "args", args);
        assertEquals(String.join("|", args) + "|", cluster.get("/jobs/" + id + "/output").text());
        id = startOverHttp("command", "python3", "args", List.of("-c", "print(1)"));
        assertEquals("1\n", cluster.get("/jobs/" + id + "/output").text());
        id = startOverHttp("command", "sh", "args", List.of("-c", "echo $GREETING"), "env", Map.of("GREETING", "hej"));
        assertEquals("hej\n", cluster.get("/jobs/" + id + "/output").text());
        id = startOverHttp("command", "sleep", "path", "30", "timeout", "1s");
        var status = cluster.awaitDone(id);
        assertEquals("FAILED", status.get("state").asText(), status.toString());
        assertEquals("timed out after 1s", status.get("error_text").asText());
    }

    @Test
    void everyRefusalOfAShapedStartHasItsStatusOverHttp() {
        String worker = workerId();
        Map<Integer, List<Object[]>> cases = Map.of(
                400, List.<Object[]>of(
                        new Object[] {"command", "true", "env", Map.of("BAD-NAME", "x")},
                        new Object[] {"command", "true", "timeout", "soon"},
                        new Object[] {"command", "true", "timeout", "0s"},
                        new Object[] {"command", "true", "args", List.of(1)},
                        new Object[] {"command", "true", "args", "not-an-array"},
                        new Object[] {"command", "true", "args", List.of("a".repeat(128 * 1024))}),
                403, List.<Object[]>of(
                        new Object[] {"command", "cat", "path", "../../../../etc/passwd"},
                        new Object[] {"command", "../../../../bin/cat", "path", "x"},
                        new Object[] {"command", "id", "user", "root"}),
                422, List.<Object[]>of(
                        new Object[] {"command", "true", "timeout", "11s"}));
        cases.forEach((status, bodies) -> {
            for (Object[] fields : bodies) {
                Object[] all = new Object[fields.length + 2];
                all[0] = "worker_id";
                all[1] = worker;
                System.arraycopy(fields, 0, all, 2, fields.length);
                cluster.post("/start", Cluster.object(all)).assertError(status);
            }
        });
        JsonNode refused = cluster.post("/start", Cluster.object("worker_id", worker, "command", "cat", "path",
                "/etc/passwd")).assertError(403);
        assertTrue(refused.get("error").asText().contains("path '/etc/passwd': outside work_dir"), refused.toString());
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "";
        }
    }
}
