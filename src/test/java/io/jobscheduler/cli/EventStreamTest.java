package io.jobscheduler.cli;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class EventStreamTest {
    private static EventStream of(String text) {
        return new EventStream(new ByteArrayInputStream(text.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void eventsAreReadAsTheStandardDefinesThemWhateverTheLineEnds() throws IOException {
        EventStream events = of(": keep-alive\r\n\r\nevent: state\r\nid: 0\r\ndata: {\"a\":1}\r\n\r\n"
                + "event:output\nid:4\ndata:MQo=\n\n" + "data: one\rdata:  two\r\r" + "retry: 5\nevent: end\ndata\n\n");
        assertEquals(new EventStream.Event("state", "0", "{\"a\":1}"), events.next());
        assertEquals(new EventStream.Event("output", "4", "MQo="), events.next());
        assertEquals(new EventStream.Event("message", "4", "one\n two"), events.next(),
                "one space after the colon is cut; the last id stays");
        assertEquals(new EventStream.Event("end", "4", ""), events.next());
        assertNull(events.next());
    }

    @Test
    void anEventNotClosedByABlankLineIsDropped() throws IOException {
        EventStream events = of("event: end\ndata: {}\n");
        assertNull(events.next(), "the stream was cut before the event was whole");
    }

    @Test
    void aBlankLineWithoutDataDispatchesNothing() throws IOException {
        EventStream events = of("event: state\n\nevent: end\ndata: x\n\n");
        assertEquals(new EventStream.Event("end", null, "x"), events.next());
    }
}
