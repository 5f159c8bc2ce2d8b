package io.jobscheduler.http;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

/** The first-head checks alone, fed as a slow client feeds them. */
class RequestHeadTest {
    private static final String AUTHORITY = "127.0.0.1:3000";

    @Test
    void aHeadFedByteByByteWaitsThenPassesUnchanged() {
        String request = "GET /workers HTTP/1.1\r\nHost: x\r\n\r\n";
        RequestHead head = new RequestHead(4096, 20480);
        for (int i = 0; i < request.length() - 1; i++) {
            assertInstanceOf(RequestHead.NeedMore.class, head.add(bytes(request.substring(i, i + 1)), AUTHORITY), "at " + i);
        }
        RequestHead.Pass pass = assertInstanceOf(RequestHead.Pass.class, head.add(bytes("\n"), AUTHORITY));
        assertEquals(request, text(pass.bytes()));
    }

    @Test
    void aCrAtTheEndOfOneReadIsJudgedWithTheNextByte() {
        RequestHead head = new RequestHead(4096, 20480);
        assertInstanceOf(RequestHead.NeedMore.class, head.add(bytes("GET / HTTP/1.1\r"), AUTHORITY));
        assertEquals(new RequestHead.Refuse(400, "malformed request: lines must end with CRLF, not a bare CR"),
                head.add(bytes("X"), AUTHORITY));
    }

    @Test
    void theRequestLineIsJudgedAsSoonAsItEnds() {
        RequestHead head = new RequestHead(4096, 20480);
        assertEquals(505, ((RequestHead.Refuse) head.add(bytes("GET / HTTP/2.0\r\nHo"), AUTHORITY)).status());
    }

    @Test
    void http10BecomesHttp11ThatClosesWithAHostAndKeepsItsBody() {
        RequestHead head = new RequestHead(4096, 20480);
        RequestHead.Pass pass = assertInstanceOf(RequestHead.Pass.class, head.add(
                bytes("POST /query HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\n{}"), AUTHORITY));
        assertEquals("POST /query HTTP/1.1\r\nContent-Length: 2\r\nHost: 127.0.0.1:3000\r\nConnection: close\r\n\r\n{}",
                text(pass.bytes()));
    }

    @Test
    void aLongRequestLineIs414BeforeItEnds() {
        RequestHead head = new RequestHead(16, 64);
        assertEquals(414, ((RequestHead.Refuse) head.add(bytes("GET /" + "a".repeat(20)), AUTHORITY)).status());
    }

    @Test
    void aLongHeadIs431BeforeItEnds() {
        RequestHead head = new RequestHead(16, 64);
        assertEquals(431, ((RequestHead.Refuse) head.add(bytes("GET / HTTP/1.1\r\nX: " + "a".repeat(60)), AUTHORITY))
                .status());
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.ISO_8859_1);
    }

    private static String text(byte[] bytes) {
        return new String(bytes, StandardCharsets.ISO_8859_1);
    }
}
