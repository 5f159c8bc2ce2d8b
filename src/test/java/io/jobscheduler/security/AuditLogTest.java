package io.jobscheduler.security;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jobscheduler.ManualClock;
import io.jobscheduler.Tmpfs;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class AuditLogTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private final ManualClock clock = new ManualClock();

    @TempDir
    Path dir;

    private static AuditEntry start() {
        return AuditEntry.of("start", "ci", "127.0.0.1:40000", "POST", "/start")
                .worker("f35283ff-c08a-4a31-9b96-c23d795d70ed")
                .command("bash", "scripts/count.sh", List.of("-x", "y"), List.of("TOKEN", "HOME"));
    }

    private static List<JsonNode> lines(Path file) throws IOException {
        List<JsonNode> lines = new ArrayList<>();
        for (String line : Files.readAllLines(file)) {
            lines.add(JSON.readTree(line));
        }
        return lines;
    }

    @Test
    void aLineIsWrittenBeforeTheActionAndItsStatusFilledInAfter() throws Exception {
        Path file = dir.resolve("audit.log");
        try (AuditLog log = AuditLog.open(file, 1_000_000, clock)) {
            AuditLog.Pending pending = log.begin(start(), true);
            String head = """
                    {"time":"2030-01-02T03:04:05.000Z","event":"start","who":"ci","from":"127.0.0.1:40000",\
                    "method":"POST","route":"/start","worker_id":"f35283ff-c08a-4a31-9b96-c23d795d70ed",\
                    "address":null,"command":"bash","path":"scripts/count.sh","args":["-x","y"],"env":["HOME","TOKEN"],\
                    "status":""";
            String written = Files.readString(file);
            assertEquals(head + "null,\"job_id\":null" + " ".repeat(AuditLog.JOB_ID_ROOM) + "}\n", written);

            String jobId = "0b8e5a8e-7c1f-4d4e-9d8a-1f2e3d4c5b6a";
            pending.complete(201, jobId);
            String done = Files.readString(file);
            assertEquals(written.length(), done.length(), "completed in place");
            assertTrue(done.startsWith(head + "201,\"job_id\":\"" + jobId + "\" "), done);
            assertEquals(201, lines(file).getFirst().get("status").asInt());
            assertEquals(jobId, lines(file).getFirst().get("job_id").asText());
            pending.complete(500, "other");
            assertEquals(201, lines(file).getFirst().get("status").asInt(), "completed once");
        }
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    }

    @Test
    void aStopKeepsItsJobIdAndAnOverlongMadeIdIsLeftOut() throws Exception {
        Path file = dir.resolve("audit.log");
        try (AuditLog log = AuditLog.open(file, 1_000_000, clock)) {
            log.begin(AuditEntry.of("stop", "ci", null, "POST", "/stop").job("j1")).complete(200);
            log.begin(start(), true).complete(201, "\u0001".repeat(128));
        }
        List<JsonNode> lines = lines(file);
        assertEquals("j1", lines.get(0).get("job_id").asText());
        assertEquals(200, lines.get(0).get("status").asInt());
        assertEquals(201, lines.get(1).get("status").asInt());
        assertTrue(lines.get(1).get("job_id").isNull(), "six bytes an escaped character do not fit the room");
    }

    @Test
    void linesAreAppendedToAnExistingLog() throws Exception {
        Path file = dir.resolve("audit.log");
        Files.writeString(file, "{\"earlier\":true}\n");
        try (AuditLog log = AuditLog.open(file, 1_000_000, clock)) {
            log.write(AuditEntry.of("stop", "ci", null, "POST", "/stop").job("j1"), 200);
        }
        List<JsonNode> lines = lines(file);
        assertEquals(2, lines.size());
        assertEquals("j1", lines.get(1).get("job_id").asText());
    }

    @Test
    void beyondMaxSizeTheLogMovesToDotOneAndAPendingLineIsCompletedThere() throws Exception {
        Path file = dir.resolve("audit.log");
        Path older = dir.resolve("audit.log.1");
        try (AuditLog log = AuditLog.open(file, 4096, clock)) {
            AuditLog.Pending pending = log.begin(start());
            while (!Files.exists(older)) {
                log.write(AuditEntry.of("output", "viewer", null, "GET", "/jobs/{job_id}/output").job("j"), 200);
            }
            pending.complete(201);
            assertTrue(Files.size(older) <= 4096, "rotated at " + Files.size(older));
            assertEquals(201, lines(older).getFirst().get("status").asInt());
            assertEquals(1, lines(file).size());

            long size;
            do {
                size = Files.size(file);
                log.write(AuditEntry.of("output", "viewer", null, "GET", "/jobs/{job_id}/output").job("j"), 200);
            } while (Files.size(file) > size);
            assertEquals(200, lines(older).getFirst().get("status").asInt(), "a second rotation replaces the first .1");
            assertTrue(Files.size(older) <= 4096);
        }
    }

    @Test
    void refusedRequestsBeyondTwentyASecondAreSummedUpInOneLine() throws Exception {
        Path file = dir.resolve("audit.log");
        try (AuditLog log = AuditLog.open(file, 1_000_000, clock)) {
            for (int i = 0; i < 25; i++) {
                log.refused(AuditEntry.of("refused", "anonymous", "10.0.0.9:5000", "GET", "/workers"), 401);
            }
            log.flushRefused();
            assertEquals(20, lines(file).size(), "the summary waits for the second to end");

            clock.advance(Duration.ofSeconds(1));
            log.flushRefused();
            List<JsonNode> lines = lines(file);
            assertEquals(21, lines.size());
            JsonNode summary = lines.getLast();
            assertEquals("refused_summary", summary.get("event").asText());
            assertEquals("2030-01-02T03:04:05.000Z", summary.get("second").asText());
            assertEquals(5, summary.get("suppressed").asInt());
            assertEquals(20, summary.get("logged").asInt());

            log.refused(AuditEntry.of("refused", "viewer", "10.0.0.9:5000", "POST", "/start"), 403);
            assertEquals(22, lines(file).size(), "a new second starts a new count");
            log.flushRefused();
            assertEquals(22, lines(file).size(), "no summary when nothing was left out");
        }
    }

    @Test
    void aSummaryStillOwedIsWrittenBeforeTheNextLineAndAtClose() throws Exception {
        Path file = dir.resolve("audit.log");
        try (AuditLog log = AuditLog.open(file, 1_000_000, clock)) {
            for (int i = 0; i < 21; i++) {
                log.refused(AuditEntry.of("refused", "anonymous", null, "GET", "/jobs"), 401);
            }
            clock.advance(Duration.ofSeconds(2));
            log.write(AuditEntry.of("stop", "ci", null, "POST", "/stop"), 200);
            List<JsonNode> lines = lines(file);
            assertEquals("refused_summary", lines.get(20).get("event").asText());
            assertEquals("stop", lines.get(21).get("event").asText());

            for (int i = 0; i < 22; i++) {
                log.refused(AuditEntry.of("refused", "anonymous", null, "GET", "/jobs"), 401);
            }
        }
        JsonNode last = lines(file).getLast();
        assertEquals("refused_summary", last.get("event").asText());
        assertEquals(2, last.get("suppressed").asInt());
    }

    @Test
    void stringsAreCutTo256CharactersAndOnlyEnvironmentNamesAreKept() throws Exception {
        Path file = dir.resolve("audit.log");
        String longArg = "a".repeat(255) + "\uD83D\uDE00" + "b".repeat(100);
        try (AuditLog log = AuditLog.open(file, 1_000_000, clock)) {
            log.write(AuditEntry.of("start", "ci", null, "POST", "/start")
                    .command("c".repeat(1000), "", List.of(longArg), Map.of("SECRET", "hunter2").keySet()), 201);
        }
        JsonNode line = lines(file).getFirst();
        assertEquals(256, line.get("command").asText().length());
        assertEquals("a".repeat(255), line.get("args").get(0).asText(), "a surrogate pair is never split");
        assertEquals("[\"SECRET\"]", line.get("env").toString());
        assertFalse(Files.readString(file).contains("hunter2"));
    }

    @Test
    void onAFullDiskBeginThrowsLeavesNoHalfLineAndTheLogRecoversWithRoom() throws Exception {
        try (Tmpfs disk = Tmpfs.mount(dir.resolve("disk"), 1)) {
            Path file = disk.dir().resolve("audit.log");
            try (AuditLog log = AuditLog.open(file, 100_000_000, clock)) {
                log.write(AuditEntry.of("stop", "ci", null, "POST", "/stop"), 200);
                fill(disk.dir().resolve("filler"));
                long before = Files.size(file);
                AuditException e = assertThrows(AuditException.class, () -> {
                    // A line larger than what a full tmpfs' last page may still hold.
                    for (int i = 0; i < 100; i++) {
                        log.begin(AuditEntry.of("start", "ci", null, "POST", "/start")
                                .command("x".repeat(256), "", List.of("y".repeat(256)), List.of()));
                    }
                });
                assertTrue(e.getMessage().contains("No space left on device"), e.getMessage());
                for (JsonNode line : lines(file)) {
                    assertTrue(line.has("event"), "every line whole: " + line);
                }
                assertTrue(Files.size(file) >= before);

                Files.delete(disk.dir().resolve("filler"));
                log.begin(AuditEntry.of("start", "ci", null, "POST", "/start")).complete(201);
                assertEquals(201, lines(file).getLast().get("status").asInt());
            }
        }
    }

    @Test
    void aDisabledLogRecordsNothingAndNeverRefuses() {
        AuditLog log = AuditLog.disabled();
        assertFalse(log.enabled());
        log.begin(start()).complete(201);
        log.write(start(), 201);
        log.refused(start(), 401);
        log.close();
    }

    @Test
    void aLogThatCannotBeOpenedIsAnErrorNamingTheSetting() {
        AuditException e = assertThrows(AuditException.class,
                () -> AuditLog.open(dir.resolve("no/such/folder/audit.log"), 4096, clock));
        assertTrue(e.getMessage().startsWith("audit.file: cannot open " + dir.resolve("no/such/folder/audit.log")),
                e.getMessage());
    }

    /** Writes until the file system is full. */
    static void fill(Path filler) throws IOException {
        byte[] block = new byte[64 * 1024];
        try (OutputStream out = Files.newOutputStream(filler)) {
            while (true) {
                out.write(block);
            }
        } catch (IOException full) {
            if (!String.valueOf(full.getMessage()).contains("No space left")) {
                throw full;
            }
        }
        byte[] small = new byte[512];
        try (OutputStream out = Files.newOutputStream(filler.resolveSibling(filler.getFileName() + ".tail"))) {
            while (true) {
                out.write(small);
                out.flush();
            }
        } catch (IOException full) {
            // The last pages are taken too.
        }
    }
}
