package io.jobscheduler.security;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;

class TokenCommandTest {
    @TempDir
    Path dir;

    @Test
    void createListRevokeRoundTrip() throws Exception {
        Path file = dir.resolve("tokens.toml");
        String f = file.toString();
        Run alice = Run.of("token", "create", "--file", f, "--name", "alice", "--role", "admin");
        assertThat(alice.err(), alice.status(), is(0));
        String token = alice.out().strip();
        assertThat(alice.out(), alice.out().matches("jst_[A-Za-z0-9_-]{43}\n"), is(true));
        assertThat(alice.err(), containsString("only time it is shown"));
        Run ci = Run.of("token", "create", "--file=" + f, "--name=ci", "--role=viewer");
        assertThat(ci.status(), is(0));

        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file)), is("rw-------"));
        String text = Files.readString(file);
        assertThat(text, not(containsString(token)));
        assertThat(text, containsString(ApiToken.sha256(token)));
        TokenTable table = TokenTable.read(file);
        assertThat(table.lookup(token).orElseThrow().name(), is("alice"));
        assertThat(table.lookup(ci.out().strip()).orElseThrow().role(), is(ApiRole.VIEWER));

        Run list = Run.of("token", "list", "--file", f);
        assertThat(list.status(), is(0));
        assertThat(list.out().lines().toList(), is(List.of("alice  admin", "ci     viewer")));

        Run revoke = Run.of("token", "revoke", "--file", f, "--name", "alice");
        assertThat(revoke.status(), is(0));
        assertThat(TokenTable.read(file).lookup(token).isPresent(), is(false));
        assertThat(Run.of("token", "list", "--file", f).out(), is("ci  viewer\n"));
        try (var files = Files.list(dir)) {
            assertThat("no temporary file left", files.map(p -> p.getFileName().toString()).sorted().toList(),
                    is(List.of(".tokens.toml.lock", "tokens.toml")));
        }
    }

    @Test
    void aDuplicateNameIsRefusedAndTheFileIsUnchanged() throws Exception {
        String f = dir.resolve("tokens.toml").toString();
        assertThat(Run.of("token", "create", "--file", f, "--name", "ci", "--role", "viewer").status(), is(0));
        String before = Files.readString(Path.of(f));
        Run again = Run.of("token", "create", "--file", f, "--name", "ci", "--role", "admin");
        assertThat(again.status(), is(1));
        assertThat(again.out(), is(""));
        assertThat(again.error(), containsString("a token named \"ci\" already exists"));
        assertThat(Files.readString(Path.of(f)), is(before));
    }

    @Test
    void failuresAreOneLine() throws Exception {
        String f = dir.resolve("tokens.toml").toString();
        Run revokeMissingFile = Run.of("token", "revoke", "--file", f, "--name", "x");
        assertThat(revokeMissingFile.status(), is(1));
        assertThat(revokeMissingFile.error(), containsString("no such file"));
        assertThat(Run.of("token", "list", "--file", f).status(), is(1));
        assertThat(Run.of("token", "create", "--file", f, "--name", "x", "--role", "viewer").status(), is(0));
        Run unknown = Run.of("token", "revoke", "--file", f, "--name", "y");
        assertThat(unknown.status(), is(1));
        assertThat(unknown.error(), containsString("no token named \"y\""));

        Files.writeString(Path.of(f), "[[token]]\nname = \"x\"\n");
        Run broken = Run.of("token", "create", "--file", f, "--name", "z", "--role", "viewer");
        assertThat(broken.status(), is(1));
        assertThat(broken.error(), containsString("token 1 (line 2): missing \"role\""));
        assertThat(broken.out(), is(""));
    }

    @Test
    void helpPrintsTheUsageAndAMissingFolderIsNamed() {
        Run help = Run.of("token", "--help");
        assertThat(help.status(), is(0));
        assertThat(help.out(), containsString("usage: jobscheduler token create"));
        Run missing = Run.of("token", "create", "--file", dir.resolve("none/tokens.toml").toString(), "--name", "x",
                "--role", "viewer");
        assertThat(missing.status(), is(1));
        assertThat(missing.error(), containsString("none/tokens.toml: no such folder"));
    }

    @Test
    void badCommandLinesExitTwo() {
        String f = dir.resolve("tokens.toml").toString();
        usage("missing create, revoke or list", "token");
        usage("unknown sub-command show", "token", "show", "--file", f);
        usage("missing --file", "token", "create", "--name", "x", "--role", "viewer");
        usage("missing --role", "token", "create", "--file", f, "--name", "x");
        usage("role must be viewer|operator|admin, not \"root\"", "token", "create", "--file", f, "--name", "x",
                "--role", "root");
        usage("name \"a/b\"", "token", "create", "--file", f, "--name", "a/b", "--role", "viewer");
        usage("unknown flag --role", "token", "revoke", "--file", f, "--name", "x", "--role", "viewer");
        usage("unexpected argument extra", "token", "list", "--file", f, "extra");
        assertThat(Files.exists(Path.of(f)), is(false));
    }

    private static void usage(String expected, String... args) {
        Run run = Run.of(args);
        assertThat(String.join(" ", args), run.status(), is(2));
        assertThat(run.error(), containsString(expected));
        assertThat(run.err(), containsString("usage: jobscheduler token"));
    }
}
