package io.jobscheduler.worker.job;

import java.io.IOException;
import java.util.Map;
import java.util.Optional;

/**
 * The error numbers a user can meet when a job is spawned or its files are written (Linux
 * x86-64 values), in words as strerror says them plus the name: "argument list too long (E2BIG)".
 */
public enum Errno {
    EPERM(1, "operation not permitted"),
    ENOENT(2, "no such file or directory"),
    EIO(5, "input/output error"),
    E2BIG(7, "argument list too long"),
    ENOEXEC(8, "exec format error"),
    EAGAIN(11, "resource temporarily unavailable"),
    ENOMEM(12, "cannot allocate memory"),
    EACCES(13, "permission denied"),
    ENOTDIR(20, "not a directory"),
    EISDIR(21, "is a directory"),
    EINVAL(22, "invalid argument"),
    ENFILE(23, "too many open files in system"),
    EMFILE(24, "too many open files"),
    ETXTBSY(26, "text file busy"),
    EFBIG(27, "file too large"),
    ENOSPC(28, "no space left on device"),
    EROFS(30, "read-only file system"),
    ENAMETOOLONG(36, "file name too long"),
    ELOOP(40, "too many levels of symbolic links"),
    ELIBBAD(80, "accessing a corrupted shared library"),
    EDQUOT(122, "disk quota exceeded");

    private static final Map<Integer, Errno> BY_NUMBER = java.util.Arrays.stream(values())
            .collect(java.util.stream.Collectors.toUnmodifiableMap(Errno::number, e -> e));

    private final int number;
    private final String words;

    Errno(int number, String words) {
        this.number = number;
        this.words = words;
    }

    public int number() {
        return number;
    }

    public static Optional<Errno> of(int number) {
        return Optional.ofNullable(BY_NUMBER.get(number));
    }

    /** "argument list too long (E2BIG)"; a number without a name here is "error 123". */
    public static String describe(int number) {
        return of(number).map(Errno::toText).orElse("error " + number);
    }

    public String toText() {
        return words + " (" + name() + ")";
    }

    /** What the worker has run out of when this error means it is exhausted, not that the request is wrong. */
    public Optional<String> exhausted() {
        return switch (this) {
            case EMFILE, ENFILE -> Optional.of("file descriptors");
            case ENOMEM -> Optional.of("memory");
            case EAGAIN -> Optional.of("processes or memory");
            case ENOSPC, EDQUOT -> Optional.of("disk space");
            default -> Optional.empty();
        };
    }

    /**
     * The error a failed file operation of the JDK reports: its message (or a
     * {@code FileSystemException}'s reason) is the C library's strerror text.
     */
    public static Optional<Errno> of(IOException e) {
        String text = e instanceof java.nio.file.FileSystemException fs && fs.getReason() != null
                ? fs.getReason() : e.getMessage();
        if (text == null) {
            return Optional.empty();
        }
        String lower = text.toLowerCase(java.util.Locale.ROOT);
        // Longest first: "too many open files in system" before "too many open files".
        return java.util.Arrays.stream(values())
                .filter(errno -> lower.contains(errno.words))
                .max(java.util.Comparator.comparingInt(errno -> errno.words.length()));
    }
}
