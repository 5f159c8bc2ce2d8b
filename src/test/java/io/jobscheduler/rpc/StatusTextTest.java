package io.jobscheduler.rpc;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class StatusTextTest {
    private static final String ELLIPSIS = "%E2%80%A6";

    @Test
    void printableAsciiIsSentAsItIs() {
        assertEquals("command not found: foo (ENOENT)", StatusText.wireForm("command not found: foo (ENOENT)"));
    }

    @Test
    void nonAsciiControlsAndPercentArePercentEncodedAsUtf8() {
        assertEquals("cannot start %C3%A9ch%C3%B8", StatusText.wireForm("cannot start échø"));
        assertEquals("100%25 a%0Ab%09c%7F", StatusText.wireForm("100% a\nb\tc\u007f"));
        assertEquals("%F0%9F%98%80", StatusText.wireForm("\uD83D\uDE00"));
        assertEquals("échø 100%", decode(StatusText.wireForm("échø 100%")));
    }

    @Test
    void aDescriptionThatFitsExactlyIsNotCut() {
        String exact = "a".repeat(StatusText.MAX_BYTES);
        assertEquals(exact, StatusText.wireForm(exact));
        String encodedExact = "a".repeat(StatusText.MAX_BYTES - 6) + "é";
        assertEquals(StatusText.MAX_BYTES, StatusText.wireForm(encodedExact).length());
        assertTrue(StatusText.wireForm(encodedExact).endsWith("%C3%A9"));
    }

    @Test
    void aLongDescriptionIsCutToTheLimitMeasuredAfterEncoding() {
        String cut = StatusText.wireForm("x".repeat(100_000));
        assertEquals(StatusText.MAX_BYTES, cut.length());
        assertEquals("x".repeat(StatusText.MAX_BYTES - ELLIPSIS.length()) + ELLIPSIS, cut);
    }

    @Test
    void theCutFallsOnACharacterBoundaryForTwoThreeAndFourByteCharacters() {
        for (String character : new String[] {"é", "€", "\uD83D\uDE00"}) {
            for (int pad = 0; pad < 12; pad++) {
                String description = "y".repeat(pad) + character.repeat(2_000);
                String wire = StatusText.wireForm(description);
                assertTrue(wire.length() <= StatusText.MAX_BYTES, wire.length() + " for " + character);
                assertTrue(wire.endsWith(ELLIPSIS), wire);
                String decoded = decode(wire);
                String kept = decoded.substring(0, decoded.length() - 1);
                assertTrue(description.startsWith(kept), "not a prefix for pad " + pad + ": " + character);
                assertTrue(kept.length() >= pad, "cut too early");
                // No room was wasted: one more character would not have fitted.
                int oneMore = StatusText.wireForm(character).length();
                assertTrue(wire.length() + oneMore > StatusText.MAX_BYTES, "cut too early for " + character);
            }
        }
    }

    @Test
    void aLoneSurrogateIsEncodedNotDropped() {
        String wire = StatusText.wireForm("a\uD83Db");
        assertEquals("a?b", wire);
    }

    /** gRPC's decoding of {@code grpc-message}: %XX to bytes, then UTF-8; fails on a broken escape. */
    static String decode(String wire) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        for (int i = 0; i < wire.length(); i++) {
            char c = wire.charAt(i);
            assertTrue(c >= ' ' && c <= '~', "not printable ASCII on the wire: " + (int) c);
            if (c == '%') {
                bytes.write(Integer.parseInt(wire.substring(i + 1, i + 3), 16));
                i += 2;
            } else {
                bytes.write(c);
            }
        }
        String text = bytes.toString(StandardCharsets.UTF_8);
        assertTrue(!text.contains("\uFFFD"), "invalid UTF-8 after decoding: " + wire);
        return text;
    }
}
