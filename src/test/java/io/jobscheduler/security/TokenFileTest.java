package io.jobscheduler.security;

import io.jobscheduler.ManualClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TokenFileTest {
    @TempDir
    Path dir;

    private final ManualClock clock = new ManualClock();
    private final List<String> warnings = new CopyOnWriteArrayList<>();
    private final Logger logger = Logger.getLogger(TokenFile.class.getName());
    private final Handler capture = new Handler() {
        @Override
        public void publish(LogRecord record) {
            warnings.add(record.getMessage());
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
        }
    };
    private final String alice = ApiToken.generate();
    private final String bob = ApiToken.generate();
    private Path file;

    @BeforeEach
    void writeFile() throws Exception {
        logger.addHandler(capture);
        file = dir.resolve("tokens.toml");
        Files.writeString(file, table(entry("alice", "viewer", alice)));
    }

    @AfterEach
    void removeHandler() {
        logger.removeHandler(capture);
    }

    @Test
    void aChangedFileIsSeenOnceASecondHasPassed() throws Exception {
        TokenFile tokens = TokenFile.open(file, clock);
        assertThat(tokens.table().lookup(alice).isPresent(), is(true));

        Files.writeString(file, table(entry("bob", "admin", bob)));
        clock.advance(Duration.ofMillis(900));
        assertThat("not looked at within the second", tokens.table().lookup(alice).isPresent(), is(true));
        clock.advance(Duration.ofMillis(100));
        assertThat(tokens.table().lookup(alice).isPresent(), is(false));
        assertThat(tokens.table().lookup(bob).orElseThrow().role(), is(ApiRole.ADMIN));
        assertThat(warnings, is(List.of()));
    }

    @Test
    void aHalfWrittenFileKeepsThePreviousTableWithOneLogLine() throws Exception {
        TokenFile tokens = TokenFile.open(file, clock);
        String whole = table(entry("alice", "viewer", alice), entry("bob", "operator", bob));
        Files.writeString(file, whole.substring(0, whole.length() - 20));
        for (int i = 0; i < 3; i++) {
            clock.advance(Duration.ofSeconds(1));
            assertThat(tokens.table().lookup(alice).isPresent(), is(true));
            assertThat(tokens.table().lookup(bob).isPresent(), is(false));
        }
        assertThat(warnings.size(), is(1));
        assertThat(warnings.getFirst(), containsString("keeping the previous 1 token(s): " + file + ": "));

        Files.writeString(file, whole);
        clock.advance(Duration.ofSeconds(1));
        assertThat(tokens.table().lookup(bob).isPresent(), is(true));
        assertThat(warnings.size(), is(1));
    }

    @Test
    void aRemovedFileKeepsThePreviousTable() throws Exception {
        TokenFile tokens = TokenFile.open(file, clock);
        Files.delete(file);
        clock.advance(Duration.ofSeconds(1));
        assertThat(tokens.table().lookup(alice).isPresent(), is(true));
        assertThat(warnings.size(), is(1));
        assertThat(warnings.getFirst(), containsString("is gone"));
    }

    @Test
    void aTokenRevokedByTheCommandIsRefusedWithoutARestart() {
        Path commandFile = dir.resolve("cmd.toml");
        Run created = Run.of("token", "create", "--file", commandFile.toString(), "--name", "ci", "--role", "operator");
        String token = created.out().strip();
        TokenFile tokens = TokenFile.open(commandFile, clock);
        assertThat(tokens.table().lookup(token).isPresent(), is(true));
        assertThat(Run.of("token", "revoke", "--file", commandFile.toString(), "--name", "ci").status(), is(0));
        clock.advance(Duration.ofSeconds(1));
        assertThat(tokens.table().lookup(token).isPresent(), is(false));
    }

    @Test
    void readersDuringRewritesSeeTheOldOrTheNewTableNeverAFailure() throws Exception {
        Path commandFile = dir.resolve("busy.toml");
        String first = Run.of("token", "create", "--file", commandFile.toString(), "--name", "first", "--role", "viewer")
                .out().strip();
        TokenFile tokens = TokenFile.open(commandFile, clock);
        java.util.concurrent.atomic.AtomicBoolean writing = new java.util.concurrent.atomic.AtomicBoolean(true);
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        List<Thread> readers = new java.util.ArrayList<>();
        for (int i = 0; i < 4; i++) {
            readers.add(Thread.ofPlatform().start(() -> {
                while (writing.get()) {
                    try {
                        clock.advance(Duration.ofSeconds(1)); // every read looks at the file
                        if (tokens.table().lookup(first).isEmpty()) {
                            failures.add(new AssertionError("the first token vanished"));
                        }
                    } catch (RuntimeException e) {
                        failures.add(e);
                    }
                }
            }));
        }
        for (int i = 0; i < 30; i++) {
            assertThat(Run.of("token", "create", "--file", commandFile.toString(), "--name", "n" + i, "--role", "admin")
                    .status(), is(0));
        }
        writing.set(false);
        for (Thread reader : readers) {
            reader.join();
        }
        assertThat(failures, is(List.of()));
        assertThat(warnings, is(List.of()));
        clock.advance(Duration.ofSeconds(1));
        assertThat(tokens.table().entries().size(), is(31));
    }

    @Test
    void aMissingOrBadFileAtStartIsAnError() throws Exception {
        var missing = assertThrows(TokenFileException.class, () -> TokenFile.open(dir.resolve("none.toml"), clock));
        assertThat(missing.getMessage(), containsString("no such file"));
        Files.writeString(file, "[[token]]\nname = 3\n");
        var bad = assertThrows(TokenFileException.class, () -> TokenFile.open(file, clock));
        assertThat(bad.getMessage(), containsString("token 1 (line 2)"));
    }

    private static String entry(String name, String role, String token) {
        return "[[token]]\nname = \"" + name + "\"\nrole = \"" + role + "\"\nsha256 = \"" + ApiToken.sha256(token) + "\"\n";
    }

    private static String table(String... entries) {
        return String.join("\n", entries);
    }
}
