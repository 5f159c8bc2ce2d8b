package io.jobscheduler.security;

/** A command line that cannot be run as given: exit status 2, with the usage. */
final class UsageException extends RuntimeException {
    UsageException(String message) {
        super(message);
    }
}
