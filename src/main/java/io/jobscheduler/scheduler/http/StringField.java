package io.jobscheduler.scheduler.http;

/**
 * A string field of a request body with its bound, measured in bytes of UTF-8 (what the worker
 * receives and the kernel is given). Every string a route passes on is checked by one of these;
 * a new field is one more constant. Failures are {@link IllegalArgumentException}s naming the
 * field, which {@link JsonBody} answers as 400.
 */
public record StringField(String name, int maxBytes) {
    public static final StringField COMMAND = new StringField("command", 4 * 1024);
    public static final StringField PATH = new StringField("path", 4 * 1024);
    /** One argument or variable: under the kernel's bound on one string (MAX_ARG_STRLEN, 128 KiB with its NUL). */
    public static final int ARG_BYTES = 128 * 1024 - 1;
    public static final StringField USER = new StringField("user", 256);
    public static final StringField TIMEOUT = new StringField("timeout", 32);
    /** A variable's name in {@code env}; the worker checks its form too. */
    public static final StringField ENV_NAME = new StringField("env", 256);

    /**
     * {@code value} when it is a string within the bound with no NUL character and no lone
     * surrogate; {@code null} stays {@code null} (the caller decides whether it may be absent).
     */
    public String check(String value) {
        if (value == null) {
            return null;
        }
        if (value.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("field '" + name + "' must not contain NUL characters");
        }
        int bytes = utf8Length(value);
        if (bytes > maxBytes) {
            throw new IllegalArgumentException("field '" + name + "' is " + bytes + " bytes of UTF-8; the limit is "
                    + maxBytes);
        }
        return value;
    }

    /** {@link #check} that also refuses an absent or null value. */
    public String required(String value) {
        if (value == null) {
            throw new IllegalArgumentException("field '" + name + "' must be a string, not null");
        }
        return check(value);
    }

    // Counts without encoding (a 1 MiB body must not cost a copy per field); a lone surrogate
    // has no UTF-8 form, so it is refused rather than silently replaced by '?'.
    private int utf8Length(String value) {
        int bytes = 0;
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < value.length()
                    && Character.isLowSurrogate(value.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else if (Character.isSurrogate(c)) {
                throw new IllegalArgumentException("field '" + name + "' is not valid Unicode (a lone surrogate at "
                        + "character " + i + ")");
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }
}
