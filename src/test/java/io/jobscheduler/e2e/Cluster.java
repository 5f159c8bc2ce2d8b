package io.jobscheduler.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;

/**
 * One scheduler and some workers started from the packaged jar as separate processes, as a user
 * starts them, on free ports, with jobs running in {@link #workDir()} and every process's working
 * directory inside the test's temporary folder (so no {@code config.toml} of the repository is read).
 * {@link #close()} kills every process it started.
 */
final class Cluster implements AutoCloseable {
    static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(30);
    static final ObjectMapper JSON = new ObjectMapper();

    private static final Path JAR = Path.of("target/jobscheduler.jar").toAbsolutePath();
    private static final String JAVA = ProcessHandle.current().info().command().orElseThrow();
    private static final int PORT_ATTEMPTS = 5;

    private final Path dir;
    private final Path workDir;
    private final Map<String, String> workerEnv;
    private final Map<String, Map<String, String>> envByName = new HashMap<>();
    private Map<String, String> schedulerEnv = Map.of();
    private final HttpClient http = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .build();
    private final List<Node> nodes = new ArrayList<>();
    private Node scheduler;
    private int httpPort;
    private int grpcPort;

    /** A started process with the file its stdout and stderr go to. */
    record Node(String name, Process process, Path log, int port) {
        String output() {
            try {
                return Files.exists(log) ? Files.readString(log, StandardCharsets.ISO_8859_1) : "";
            } catch (IOException e) {
                return "(cannot read " + log + ": " + e + ")";
            }
        }
    }

    /** An HTTP answer, whole. */
    record Reply(int status, HttpResponse<byte[]> response) {
        byte[] body() {
            return response.body();
        }

        String text() {
            return new String(body(), StandardCharsets.UTF_8);
        }

        String contentType() {
            return response.headers().firstValue("Content-Type").orElse("");
        }

        JsonNode json() {
            try {
                return JSON.readTree(body());
            } catch (IOException e) {
                throw new AssertionError("not JSON (status " + status + "): " + text(), e);
            }
        }

        /** Asserts an error as api.md has it: the status, JSON, and an "error" string. */
        JsonNode assertError(int expected) {
            if (status != expected) {
                throw new AssertionError("expected " + expected + ", got " + this);
            }
            if (!contentType().startsWith("application/json")) {
                throw new AssertionError("error " + status + " is '" + contentType() + "', not application/json: " + text());
            }
            JsonNode json = json();
            JsonNode error = json.get("error");
            if (!json.isObject() || error == null || !error.isTextual() || error.asText().isBlank()) {
                throw new AssertionError("error " + status + " has no \"error\" string: " + text());
            }
            return json;
        }

        @Override
        public String toString() {
            return status + " " + text();
        }
    }

    private Cluster(Path dir, Map<String, String> workerEnv) {
        this.dir = dir;
        this.workDir = dir.resolve("work");
        this.workerEnv = workerEnv;
    }

    /**
     * Starts a scheduler (with {@code schedulerEnv} added to its environment) and {@code workers}
     * workers (with {@code workerEnv}), all at once as start order does not matter, and returns
     * once every worker is listed by {@code GET /workers}.
     */
    static Cluster start(Path dir, int workers, Map<String, String> schedulerEnv, Map<String, String> workerEnv) {
        Cluster cluster = new Cluster(dir, workerEnv);
        try {
            Files.createDirectories(cluster.workDir);
            for (int attempt = 1; ; attempt++) {
                try {
                    cluster.launchAll(attempt, workers, schedulerEnv);
                    cluster.awaitReady();
                    return cluster;
                } catch (PortTaken e) {
                    // Another program took a port between our probe and the bind: new ports.
                    if (attempt == PORT_ATTEMPTS) {
                        throw new IllegalStateException("no free ports after " + attempt + " attempts", e);
                    }
                    cluster.stopProcesses();
                    cluster.nodes.clear();
                }
            }
        } catch (IOException e) {
            cluster.close();
            throw new UncheckedIOException(e);
        } catch (RuntimeException | Error e) {
            String logs = cluster.logs();
            cluster.close();
            throw new IllegalStateException("cluster did not start: " + e.getMessage() + "\n" + logs, e);
        }
    }

    static Cluster start(Path dir, int workers) {
        return start(dir, workers, Map.of(), Map.of());
    }

    /** Where every worker runs its jobs (their {@code path} resolves here). */
    Path workDir() {
        return workDir;
    }

    int httpPort() {
        return httpPort;
    }

    int grpcPort() {
        return grpcPort;
    }

    URI uri(String pathAndQuery) {
        return URI.create("http://127.0.0.1:" + httpPort + pathAndQuery);
    }

    HttpClient http() {
        return http;
    }

    /** The id the scheduler gave worker {@code i} (in start order). */
    String workerId(int i) {
        String address = "127.0.0.1:" + workers().get(i).port();
        for (JsonNode worker : get("/workers").json().get("workers")) {
            if (worker.get("address").asText().equals(address)) {
                return worker.get("id").asText();
            }
        }
        throw new AssertionError("worker " + i + " at " + address + " is not registered: " + get("/workers"));
    }

    Process workerProcess(int i) {
        return workers().get(i).process();
    }

    /** SIGKILL: the worker gets no chance to deregister or stop its jobs. */
    void killWorker(int i) throws InterruptedException {
        Process process = workerProcess(i);
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new AssertionError("worker " + i + " did not die of SIGKILL");
        }
    }

    /** SIGSTOP: the worker hangs with its connections open, as a paused or wedged process does. */
    void pauseWorker(int i) {
        signal(workerProcess(i), "STOP");
    }

    /** SIGCONT: the paused worker carries on where it stopped. */
    void resumeWorker(int i) {
        signal(workerProcess(i), "CONT");
    }

    private static void signal(Process process, String signal) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(process.pid())).inheritIO().start();
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new AssertionError("kill -" + signal + " " + process.pid() + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** SIGKILL to the scheduler: it loses everything it held in memory. */
    void killScheduler() throws InterruptedException {
        scheduler.process().destroyForcibly();
        if (!scheduler.process().waitFor(30, TimeUnit.SECONDS)) {
            throw new AssertionError("the scheduler did not die of SIGKILL");
        }
    }

    /** Starts a new scheduler on the same ports as the one before; returns once it answers HTTP. */
    void restartScheduler() throws IOException {
        int index = nodes.indexOf(scheduler);
        scheduler = launch(scheduler.name() + "-again", schedulerEnv, grpcPort, "scheduler",
                "--http-addr", "127.0.0.1:" + httpPort, "--grpc-addr", "127.0.0.1:" + grpcPort);
        nodes.remove(scheduler);
        nodes.set(index, scheduler);
        await("the restarted scheduler to answer", READY_TIMEOUT, () -> answers("/workers"));
    }

    /** Starts worker {@code i} again (after it died) on the same port with the same data dir. */
    void restartWorker(int i) throws IOException {
        Node old = workers().get(i);
        String address = "127.0.0.1:" + old.port();
        String before = registeredAt(get("/workers").json().get("workers"), address);
        Node again = launch(old.name() + "-again", workerEnvOf(old.name()), old.port(), "worker",
                "--grpc-addr", address, "--scheduler-addr", "127.0.0.1:" + grpcPort);
        nodes.remove(again);
        nodes.set(nodes.indexOf(old), again);
        // The killed process's record can still be listed alive (its silence not yet noticed):
        // the restart is done once the scheduler lists a record the new process registered.
        await(again.name() + " registered", READY_TIMEOUT, () -> {
            if (!again.process().isAlive()) {
                throw new IllegalStateException(again.name() + " exited with " + again.process().exitValue()
                        + ": " + again.output());
            }
            JsonNode listed = get("/workers").json().get("workers");
            return registered(again, listed) && !Objects.equals(before, registeredAt(listed, address));
        });
    }

    /** When the record {@code GET /workers} lists at {@code address} registered, or null when none is listed. */
    private static String registeredAt(JsonNode listed, String address) {
        for (JsonNode w : listed) {
            if (w.get("address").asText().equals(address)) {
                return w.get("registered_at").asText();
            }
        }
        return null;
    }

    /** Waits until {@code GET /workers} shows the worker with {@code state} (alive or down). */
    void awaitWorkerState(String workerId, String state, Duration timeout) {
        await("worker " + workerId + " to be " + state, timeout, () -> state.equals(workerState(workerId)));
    }

    /** The worker's state in {@code GET /workers}, or null when it is not listed. */
    String workerState(String workerId) {
        for (JsonNode worker : get("/workers").json().get("workers")) {
            if (worker.get("id").asText().equals(workerId)) {
                return worker.get("state").asText();
            }
        }
        return null;
    }

    /** SIGTERM: the worker shuts down as an operator asks it to. */
    void sigterm(int i) {
        workerProcess(i).destroy();
    }

    // --- HTTP ---

    Reply get(String pathAndQuery) {
        return send(HttpRequest.newBuilder(uri(pathAndQuery)).GET());
    }

    Reply post(String path, JsonNode body) {
        return post(path, body.toString());
    }

    Reply post(String path, String body) {
        return send(HttpRequest.newBuilder(uri(path))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)));
    }

    Reply send(HttpRequest.Builder request) {
        try {
            HttpResponse<byte[]> response = http.send(request.timeout(REQUEST_TIMEOUT).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            return new Reply(response.statusCode(), response);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    static ObjectNode object(Object... namesAndValues) {
        ObjectNode node = JSON.createObjectNode();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            node.set((String) namesAndValues[i], JSON.valueToTree(namesAndValues[i + 1]));
        }
        return node;
    }

    /** {@code POST /start}, expecting 201; answers the job id. */
    String startJob(String workerId, String command, String path) {
        Reply reply = post("/start", object("worker_id", workerId, "command", command, "path", path));
        if (reply.status() != 201) {
            throw new AssertionError("POST /start " + command + " " + path + ": " + reply);
        }
        return reply.json().get("job_id").asText();
    }

    /** Queries the job until it is done; answers its last status. */
    JsonNode awaitDone(String jobId) {
        Instant deadline = Instant.now().plus(Duration.ofSeconds(60));
        while (true) {
            Reply reply = post("/query", object("job_id", jobId));
            if (reply.status() != 200) {
                throw new AssertionError("POST /query " + jobId + ": " + reply);
            }
            if (reply.json().get("done").asBoolean()) {
                return reply.json();
            }
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError("job " + jobId + " is not done: " + reply);
            }
            pause();
        }
    }

    /** Polls {@code condition} until it holds, failing after {@code timeout}. */
    static void await(String what, Duration timeout, BooleanSupplier condition) {
        Instant deadline = Instant.now().plus(timeout);
        while (!condition.getAsBoolean()) {
            if (Instant.now().isAfter(deadline)) {
                throw new AssertionError("timed out after " + timeout + " waiting for " + what);
            }
            pause();
        }
    }

    // Polling an external process from a test fixture: there is nothing to wait on but time.
    private static void pause() {
        try {
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    // --- processes ---

    private List<Node> workers() {
        return nodes.stream().filter(n -> n != scheduler).toList();
    }

    private void launchAll(int attempt, int workers, Map<String, String> schedulerEnv) throws IOException {
        this.schedulerEnv = schedulerEnv;
        httpPort = freePort();
        grpcPort = freePort();
        scheduler = launch("scheduler-" + attempt, schedulerEnv, grpcPort, "scheduler",
                "--http-addr", "127.0.0.1:" + httpPort, "--grpc-addr", "127.0.0.1:" + grpcPort);
        for (int i = 0; i < workers; i++) {
            int port = freePort();
            Map<String, String> env = new HashMap<>(workerEnv);
            env.put("JOBSCHEDULER_JOBS_WORK_DIR", workDir.toString());
            env.put("JOBSCHEDULER_JOBS_DATA_DIR", dir.resolve("data-" + i + "-" + attempt).toString());
            launch("worker-" + i + "-" + attempt, env, port, "worker",
                    "--grpc-addr", "127.0.0.1:" + port, "--scheduler-addr", "127.0.0.1:" + grpcPort);
        }
    }

    /** Thrown when a process could not bind the port it was given. */
    private static final class PortTaken extends RuntimeException {
        PortTaken(String message) {
            super(message);
        }
    }

    private void awaitReady() {
        await("the scheduler and every worker in GET /workers", READY_TIMEOUT, () -> {
            for (Node node : nodes) {
                if (!node.process().isAlive()) {
                    String output = node.output();
                    String message = node.name() + " exited with " + node.process().exitValue();
                    throw output.contains("cannot bind") ? new PortTaken(message) : new IllegalStateException(message);
                }
            }
            if (!answers("/workers")) {
                return false;
            }
            JsonNode listed = get("/workers").json().get("workers");
            return workers().stream().allMatch(w -> registered(w, listed));
        });
    }

    /**
     * Whether {@code GET /workers} lists the worker under the id it saved from its registration's
     * answer. Its address alone is not enough: on a loaded machine a registration's answer can
     * outlive the worker's call timeout, and its retry replaces the first record under a new id.
     */
    private boolean registered(Node worker, JsonNode listed) {
        String address = "127.0.0.1:" + worker.port();
        String dataDir = envByName.getOrDefault(worker.name(), Map.of()).get("JOBSCHEDULER_JOBS_DATA_DIR");
        String saved = "";
        if (dataDir != null) {
            Path idFile = Path.of(dataDir, "worker-id");
            try {
                saved = Files.exists(idFile) ? Files.readString(idFile).strip() : "";
            } catch (IOException e) {
                return false;
            }
        }
        for (JsonNode w : listed) {
            if (w.get("address").asText().equals(address)) {
                return dataDir == null || w.get("id").asText().equals(saved);
            }
        }
        return false;
    }

    private boolean answers(String path) {
        try {
            HttpResponse<Void> response = http.send(HttpRequest.newBuilder(uri(path))
                    .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding());
            return response.statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private Node launch(String name, Map<String, String> env, int port, String... args) throws IOException {
        Path home = Files.createDirectories(dir.resolve(name));
        Path log = dir.resolve(name + ".log");
        List<String> command = new ArrayList<>(List.of(JAVA, "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-jar", JAR.toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(home.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        // Nothing of the test JVM's own configuration leaks in.
        builder.environment().keySet().removeIf(key -> key.startsWith("JOBSCHEDULER_"));
        builder.environment().putAll(env);
        envByName.put(name, env);
        Node node = new Node(name, builder.start(), log, port);
        nodes.add(node);
        return node;
    }

    private Map<String, String> workerEnvOf(String name) {
        return envByName.get(name);
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** What the scheduler has logged so far. */
    String schedulerLog() {
        return scheduler.output();
    }

    /** Every process's output, for a failure message. */
    String logs() {
        StringBuilder text = new StringBuilder();
        for (Node node : nodes) {
            text.append("----- ").append(node.name()).append(" (")
                    .append(node.process().isAlive() ? "running" : "exit " + node.process().exitValue())
                    .append(") -----\n").append(node.output()).append('\n');
        }
        return text.toString();
    }

    /** Kills every process: SIGTERM, a bounded wait, then SIGKILL. */
    @Override
    public void close() {
        stopProcesses();
        http.close();
    }

    private void stopProcesses() {
        for (Node node : nodes) {
            node.process().destroy();
        }
        for (Node node : nodes) {
            try {
                if (!node.process().waitFor(20, TimeUnit.SECONDS)) {
                    node.process().destroyForcibly();
                    node.process().waitFor(20, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                node.process().destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
        if (nodes.stream().noneMatch(node -> node.process().isAlive())) {
            envByName.values().stream().map(env -> env.get("JOBSCHEDULER_JOBS_DATA_DIR")).filter(Objects::nonNull)
                    .distinct().forEach(dataDir -> Processes.removeWorkerCgroups(Path.of(dataDir)));
        }
    }

    /** Prints every process's output when a test fails. */
    static TestWatcher logsOnFailure(Supplier<Cluster> cluster) {
        return new TestWatcher() {
            @Override
            public void testFailed(ExtensionContext context, Throwable cause) {
                Cluster running = cluster.get();
                if (running != null) {
                    System.err.println("===== processes of " + context.getDisplayName() + " =====\n" + running.logs());
                }
            }
        };
    }

    // --- extra workers (WorkerHardeningIT) ---

    /**
     * Starts one more worker with {@code env} over the cluster's worker environment (e.g. its
     * own {@code JOBSCHEDULER_JOBS_DATA_DIR}), and returns its index once it is registered.
     */
    int addWorker(String name, Map<String, String> env) throws IOException {
        int port = freePort();
        Map<String, String> all = new HashMap<>(workerEnv);
        all.put("JOBSCHEDULER_JOBS_WORK_DIR", workDir.toString());
        all.put("JOBSCHEDULER_JOBS_DATA_DIR", dir.resolve("data-" + name).toString());
        all.putAll(env);
        Node node = launch(name, all, port, "worker", "--grpc-addr", "127.0.0.1:" + port,
                "--scheduler-addr", "127.0.0.1:" + grpcPort);
        await(name + " in GET /workers", READY_TIMEOUT, () -> {
            if (!node.process().isAlive()) {
                throw new IllegalStateException(name + " exited with " + node.process().exitValue() + ": " + node.output());
            }
            return registered(node, get("/workers").json().get("workers"));
        });
        return workers().indexOf(node);
    }

    /** The gRPC port worker {@code i} serves on. */
    int workerPort(int i) {
        return workers().get(i).port();
    }

    /** Lowers the running worker's limit of open descriptors (soft and hard) to {@code limit}. */
    void limitOpenFiles(int i, int limit) throws IOException, InterruptedException {
        Process prlimit = new ProcessBuilder("prlimit", "--pid", Long.toString(workerProcess(i).pid()),
                "--nofile=" + limit + ":" + limit).inheritIO().start();
        if (!prlimit.waitFor(10, TimeUnit.SECONDS) || prlimit.exitValue() != 0) {
            throw new AssertionError("prlimit --nofile=" + limit + " on worker " + i + " failed");
        }
    }

    /** What worker {@code i} has logged so far. */
    String workerLog(int i) {
        return workers().get(i).output();
    }

    // --- appended for the HTTP hardening tests ---

    /**
     * Starts the packaged jar with {@code args} in {@code home} (created), its output in
     * {@code log}, with no JOBSCHEDULER_ variable of the test JVM and {@code env} added. The
     * caller kills the process.
     */
    static Process startJar(Path home, Path log, Map<String, String> env, String... args) throws IOException {
        Files.createDirectories(home);
        List<String> command = new ArrayList<>(List.of(JAVA, "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-jar", JAR.toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(home.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        builder.environment().keySet().removeIf(key -> key.startsWith("JOBSCHEDULER_"));
        builder.environment().putAll(env);
        return builder.start();
    }

    /** A port free on 127.0.0.1 at the time of asking. */
    static int freeLoopbackPort() throws IOException {
        return freePort();
    }

    // --- appended for the command-line client (CliIT) ---

    /** A client command that has ended: its exit status, its stdout as bytes and its stderr. */
    record CliRun(int status, byte[] stdout, String stderr) {
        String out() {
            return new String(stdout, StandardCharsets.UTF_8);
        }

        @Override
        public String toString() {
            return "exit " + status + ", stdout: " + out() + ", stderr: " + stderr;
        }
    }

    /**
     * Starts the client ({@code jobscheduler ARGS} from the packaged jar) with this cluster's URL in
     * {@code JOBSCHEDULER_SERVER}, stdin from /dev/null, stdout and stderr into the two files. The
     * caller waits for it (or kills it).
     */
    Process startCli(Path stdout, Path stderr, String... args) throws IOException {
        Path home = Files.createDirectories(dir.resolve("cli"));
        List<String> command = new ArrayList<>(List.of(JAVA, "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-jar", JAR.toString()));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(home.toFile())
                .redirectOutput(stdout.toFile())
                .redirectError(stderr.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        builder.environment().keySet().removeIf(key -> key.startsWith("JOBSCHEDULER_"));
        builder.environment().put("JOBSCHEDULER_SERVER", "http://127.0.0.1:" + httpPort);
        return builder.start();
    }

    /** Runs the client to its end (at most a minute) and answers what it printed. */
    CliRun cli(String... args) throws IOException, InterruptedException {
        Path out = Files.createTempFile(dir, "cli-", ".out");
        Path err = Files.createTempFile(dir, "cli-", ".err");
        Process process = startCli(out, err, args);
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("jobscheduler " + String.join(" ", args) + " did not end within 60 s");
        }
        return new CliRun(process.exitValue(), Files.readAllBytes(out), Files.readString(err, StandardCharsets.UTF_8));
    }
}
