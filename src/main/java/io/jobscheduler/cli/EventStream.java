package io.jobscheduler.cli;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/**
 * Server-Sent Events read from a body, as the HTML standard parses them: {@code field: value}
 * lines (one optional space after the colon), comments ({@code :…}) skipped, {@code data}
 * lines joined with newlines, and an event dispatched at a blank line. The {@code retry} field
 * means nothing to this client.
 */
final class EventStream {
    /** One event; {@code name} is {@code message} when the stream named none, {@code id} the last id the stream set. */
    record Event(String name, String id, String data) {
    }

    private final BufferedReader lines;
    private String lastId;

    EventStream(InputStream body) {
        this.lines = new BufferedReader(new InputStreamReader(body, StandardCharsets.UTF_8));
    }

    /** The next whole event, or null at the end of the stream (an event not closed by a blank line is dropped). */
    Event next() throws IOException {
        String name = null;
        StringBuilder data = null;
        for (String line; (line = lines.readLine()) != null; ) {
            if (line.isEmpty()) {
                if (data != null) {
                    return new Event(name == null ? "message" : name, lastId, data.toString());
                }
                name = null;
                continue;
            }
            if (line.startsWith(":")) {
                continue;
            }
            int colon = line.indexOf(':');
            String field = colon < 0 ? line : line.substring(0, colon);
            String value = colon < 0 ? "" : line.substring(line.startsWith(" ", colon + 1) ? colon + 2 : colon + 1);
            switch (field) {
                case "event" -> name = value;
                case "id" -> lastId = value;
                case "data" -> data = data == null ? new StringBuilder(value) : data.append('\n').append(value);
                default -> {
                    // retry, or a field of a later version: ignored, as the standard says.
                }
            }
        }
        return null;
    }
}
