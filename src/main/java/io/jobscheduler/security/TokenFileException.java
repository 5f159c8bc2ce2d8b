package io.jobscheduler.security;

/** A tokens file that cannot be used; the message is one line naming the file and the entry or line. */
public final class TokenFileException extends RuntimeException {
    public TokenFileException(String message) {
        super(message);
    }
}
