package io.jobscheduler.security;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.not;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TokenTableTest {
    private static final String DIGEST = "a".repeat(64);

    @Test
    void aTokenIsFoundByItsDigestOnly() {
        String token = ApiToken.generate();
        TokenTable table = TokenTable.parse("""
                [[token]]
                name = "ci"
                role = "operator"
                sha256 = "%s"

                [[token]]
                name = "dash"
                role = "viewer"
                sha256 = "%s"
                """.formatted(ApiToken.sha256(token), DIGEST), "tokens.toml");
        assertThat(table.lookup(token).orElseThrow(), is(new TokenTable.Entry("ci", ApiRole.OPERATOR, ApiToken.sha256(token))));
        assertThat(table.lookup(DIGEST).isPresent(), is(false));
        assertThat(table.lookup(token + "x").isPresent(), is(false));
        assertThat(table.lookup("").isPresent(), is(false));
        assertThat(table.entries().size(), is(2));
    }

    @Test
    void tokensHave256RandomBitsBehindARecognisablePrefix() {
        String token = ApiToken.generate();
        assertThat(token, token.matches("jst_[A-Za-z0-9_-]{43}"), is(true));
        assertThat(ApiToken.generate(), is(not(token)));
        assertThat(ApiToken.sha256("abc"), is("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
    }

    @Test
    void theTableWritesWhatItReads() {
        TokenTable table = TokenTable.empty()
                .with(new TokenTable.Entry("a", ApiRole.ADMIN, DIGEST))
                .with(new TokenTable.Entry("b.c_d-e", ApiRole.VIEWER, "b".repeat(64)));
        TokenTable again = TokenTable.parse(table.toToml(), "x");
        assertThat(again.entries(), is(table.entries()));
        assertThat(again.without("a").entries().getFirst().name(), is("b.c_d-e"));
        assertThrows(IllegalStateException.class, () -> table.with(new TokenTable.Entry("a", ApiRole.VIEWER, "c".repeat(64))));
        assertThrows(IllegalStateException.class, () -> table.without("zz"));
        assertThat(TokenTable.parse("", "x").entries().isEmpty(), is(true));
    }

    @Test
    void rolesAreOrdered() {
        assertThat(ApiRole.ADMIN.includes(ApiRole.OPERATOR), is(true));
        assertThat(ApiRole.OPERATOR.includes(ApiRole.VIEWER), is(true));
        assertThat(ApiRole.OPERATOR.includes(ApiRole.OPERATOR), is(true));
        assertThat(ApiRole.VIEWER.includes(ApiRole.OPERATOR), is(false));
        assertThat(ApiRole.OPERATOR.includes(ApiRole.ADMIN), is(false));
        assertThat(ApiRole.parse("admin"), is(ApiRole.ADMIN));
        assertThrows(IllegalArgumentException.class, () -> ApiRole.parse("Admin"));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "[[token]]\\nname = \"a\"\\nrole = \"root\"\\nsha256 = \"DIGEST\"|t.toml: token 1 (line 2): role must be viewer|operator|admin, not \"root\"",
            "[[token]]\\nname = \"a\"\\nrole = \"viewer\"|t.toml: token 1 (line 2): missing \"sha256\"",
            "[[token]]\\nname = \"a\"\\nrole = \"viewer\"\\nsha256 = \"abc\"|t.toml: token 1 (line 2): sha256 must be 64 lower-case hex digits",
            "[[token]]\\nname = \"a\"\\nrole = \"viewer\"\\nsha256 = \"DIGEST\"\\ntoken = \"x\"|t.toml: token 1 (line 2): unknown key \"token\"",
            "[[token]]\\nname = \"a b\"\\nrole = \"viewer\"\\nsha256 = \"DIGEST\"|t.toml: token 1 (line 2): name \"a b\"",
            "[[token]]\\nname = 7\\nrole = \"viewer\"\\nsha256 = \"DIGEST\"|t.toml: token 1 (line 2): \"name\" must be a string",
            "[[token]]\\nname = \"a\"\\nrole = \"viewer\"\\nsha256 = \"DIGEST\"\\n[[token]]\\nname = \"a\"\\nrole = \"admin\"\\nsha256 = \"OTHER\"|t.toml: token 2 (line 6): name \"a\" is also token 1",
            "[[token]]\\nname = \"a\"\\nrole = \"viewer\"\\nsha256 = \"DIGEST\"\\n[[token]]\\nname = \"b\"\\nrole = \"admin\"\\nsha256 = \"DIGEST\"|t.toml: token 2 (line 6): sha256 is also token 1's",
            "[[token]]\\n|t.toml: token 1: missing \"name\"",
            "[[token]]\\nname = \"a\"\\nrole = \"vie|t.toml: line 3:",
            "tokens = []|t.toml: line 1: unknown key \"tokens\"",
            "token = \"x\"|t.toml: line 1: \"token\" must be [[token]] tables",
    })
    void aBadFileIsOneLineNamingTheEntryAndLine(String toml, String expected) {
        String text = toml.replace("\\n", "\n").replace("DIGEST", DIGEST).replace("OTHER", "b".repeat(64));
        var e = assertThrows(TokenFileException.class, () -> TokenTable.parse(text, "t.toml"));
        assertThat(e.getMessage(), containsString(expected));
        assertThat(e.getMessage(), not(containsString("\n")));
    }
}
