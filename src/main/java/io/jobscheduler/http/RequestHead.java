package io.jobscheduler.http;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The checks a connection's first request head gets before Helidon reads it, for what Helidon
 * 4.5.0 would answer with a 500, a wrong status or no answer at all (docs/helidon-notes.md,
 * "HTTP/1 request heads"): bare LF or CR line ends, a method that is not a token, an HTTP version
 * other than 1.1, a request line or head over the limits. An HTTP/1.0 request is passed on as
 * HTTP/1.1 with {@code Connection: close} (and a {@code Host} when it has none), so it is served.
 * One instance per connection, used by its thread only: bytes are added as they arrive, and each
 * byte is scanned once.
 */
final class RequestHead {
    /** What to do with the bytes received so far. */
    sealed interface Verdict {
    }

    /** The head is not complete yet. */
    record NeedMore() implements Verdict {
    }

    /** Hand these bytes (the head, possibly rewritten, and whatever followed it) to Helidon. */
    record Pass(byte[] bytes) implements Verdict {
    }

    /** Answer {@code status} with {@code message} and close. */
    record Refuse(int status, String message) implements Verdict {
    }

    private static final Pattern VERSION = Pattern.compile("HTTP/[0-9]\\.[0-9]");
    private static final String TOKEN_CHARS = "!#$%&'*+-.^_`|~";
    private static final NeedMore NEED_MORE = new NeedMore();
    private static final String UNSUPPORTED_VERSION = "unsupported version";

    private final int maxLine;
    private final int maxHead;
    private byte[] bytes = new byte[512];
    private int length;
    private int scanned;
    private int lineEnd = -1;

    /**
     * @param maxLine the longest request line, CRLF excluded (Helidon's {@code maxPrologueLength})
     * @param maxHead the longest head, request line and headers together
     */
    RequestHead(int maxLine, int maxHead) {
        this.maxLine = maxLine;
        this.maxHead = maxHead;
    }

    /**
     * Judges the connection's bytes so far, {@code more} being the latest.
     *
     * @param localAuthority {@code host:port} of this socket, the {@code Host} an HTTP/1.0 request without one gets
     */
    Verdict add(byte[] more, String localAuthority) {
        if (length + more.length > bytes.length) {
            bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, length + more.length));
        }
        System.arraycopy(more, 0, bytes, length, more.length);
        length += more.length;
        for (; scanned < length; scanned++) {
            int i = scanned;
            if (bytes[i] == '\r') {
                if (i + 1 == length) {
                    break; // a CR at the end: judged when the next byte comes
                }
                if (bytes[i + 1] != '\n') {
                    return new Refuse(400, "malformed request: lines must end with CRLF, not a bare CR");
                }
            } else if (bytes[i] == '\n') {
                if (i == 0 || bytes[i - 1] != '\r') {
                    return new Refuse(400, "malformed request: lines must end with CRLF, not a bare LF");
                }
                if (lineEnd == -1) {
                    lineEnd = i - 1;
                    Verdict line = judgeLine();
                    if (line != NEED_MORE) {
                        return line;
                    }
                }
                if (i >= 3 && bytes[i - 2] == '\n' && bytes[i - 3] == '\r') {
                    return judge(i + 1, localAuthority);
                }
            }
        }
        if (lineEnd == -1 && length > maxLine) {
            return new Refuse(414, "request line is longer than " + maxLine + " bytes");
        }
        if (length > maxHead) {
            return new Refuse(431, "request headers are longer than " + maxHead + " bytes");
        }
        return NEED_MORE;
    }

    private Verdict judgeLine() {
        if (lineEnd > maxLine) {
            return new Refuse(414, "request line is longer than " + maxLine + " bytes");
        }
        String problem = requestLineProblem(line());
        return problem == null ? NEED_MORE : refuseLine(line(), problem);
    }

    private Verdict judge(int headEnd, String localAuthority) {
        if (headEnd > maxHead) {
            return new Refuse(431, "request headers are longer than " + maxHead + " bytes");
        }
        byte[] passed = Arrays.copyOf(bytes, length);
        return line().endsWith(" HTTP/1.0") ? new Pass(asHttp11(passed, headEnd, localAuthority)) : new Pass(passed);
    }

    private static Verdict refuseLine(String requestLine, String problem) {
        String version = requestLine.substring(requestLine.lastIndexOf(' ') + 1);
        return problem.equals(UNSUPPORTED_VERSION)
                ? new Refuse(505, version + " is not supported; send HTTP/1.1 (or HTTP/1.0)")
                : new Refuse(400, "malformed request line: " + problem);
    }

    /** Null when the line is {@code METHOD SP TARGET SP HTTP/1.x}; else what is wrong. */
    private static String requestLineProblem(String line) {
        String[] parts = line.split(" ", -1);
        if (parts.length != 3 || parts[0].isEmpty() || parts[1].isEmpty()) {
            return "expected METHOD TARGET HTTP/1.1 separated by single spaces";
        }
        for (int i = 0; i < parts[0].length(); i++) {
            char c = parts[0].charAt(i);
            if (!(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || TOKEN_CHARS.indexOf(c) >= 0)) {
                return "the method is not a token";
            }
        }
        String version = parts[2];
        if (version.equals("HTTP/1.1") || version.equals("HTTP/1.0")) {
            return null;
        }
        return VERSION.matcher(version).matches() ? UNSUPPORTED_VERSION : "the version is not HTTP/1.1";
    }

    // HTTP/1.0 has no persistent connections by default and needs no Host: it is passed on as
    // an HTTP/1.1 request that closes its connection, with a Host of this socket when it has none.
    private static byte[] asHttp11(byte[] bytes, int headEnd, String localAuthority) {
        String head = new String(bytes, 0, headEnd - 4, StandardCharsets.ISO_8859_1);
        List<String> lines = new ArrayList<>(List.of(head.split("\r\n", -1)));
        String requestLine = lines.removeFirst();
        lines.removeIf(l -> startsWithName(l, "connection") || startsWithName(l, "keep-alive"));
        boolean hasHost = lines.stream().anyMatch(l -> startsWithName(l, "host"));
        ByteArrayOutputStream out = new ByteArrayOutputStream(bytes.length + 64);
        StringBuilder text = new StringBuilder(requestLine.substring(0, requestLine.length() - "1.0".length())).append("1.1\r\n");
        for (String line : lines) {
            text.append(line).append("\r\n");
        }
        if (!hasHost) {
            text.append("Host: ").append(localAuthority).append("\r\n");
        }
        text.append("Connection: close\r\n\r\n");
        out.writeBytes(text.toString().getBytes(StandardCharsets.ISO_8859_1));
        out.write(bytes, headEnd, bytes.length - headEnd);
        return out.toByteArray();
    }

    private static boolean startsWithName(String line, String name) {
        return line.length() > name.length() && line.regionMatches(true, 0, name, 0, name.length())
                && line.charAt(name.length()) == ':';
    }

    private String line() {
        return new String(bytes, 0, lineEnd, StandardCharsets.ISO_8859_1);
    }
}
