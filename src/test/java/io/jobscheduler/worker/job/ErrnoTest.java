package io.jobscheduler.worker.job;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.util.Optional;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

class ErrnoTest {
    @Test
    void errorNumbersAreNamedInWordsAndByName() {
        assertEquals("argument list too long (E2BIG)", Errno.describe(7));
        assertEquals("no such file or directory (ENOENT)", Errno.describe(2));
        assertEquals("permission denied (EACCES)", Errno.describe(13));
        assertEquals("exec format error (ENOEXEC)", Errno.describe(8));
        assertEquals("not a directory (ENOTDIR)", Errno.describe(20));
        assertEquals("is a directory (EISDIR)", Errno.describe(21));
        assertEquals("too many levels of symbolic links (ELOOP)", Errno.describe(40));
        assertEquals("file name too long (ENAMETOOLONG)", Errno.describe(36));
        assertEquals("too many open files (EMFILE)", Errno.describe(24));
        assertEquals("too many open files in system (ENFILE)", Errno.describe(23));
        assertEquals("cannot allocate memory (ENOMEM)", Errno.describe(12));
        assertEquals("resource temporarily unavailable (EAGAIN)", Errno.describe(11));
        assertEquals("no space left on device (ENOSPC)", Errno.describe(28));
        assertEquals("text file busy (ETXTBSY)", Errno.describe(26));
        assertEquals("operation not permitted (EPERM)", Errno.describe(1));
        assertEquals("error 999", Errno.describe(999));
    }

    @Test
    void exhaustionIsTheWorkersConditionNamingWhatRanOut() {
        assertEquals(Optional.of("file descriptors"), Errno.EMFILE.exhausted());
        assertEquals(Optional.of("file descriptors"), Errno.ENFILE.exhausted());
        assertEquals(Optional.of("memory"), Errno.ENOMEM.exhausted());
        assertEquals(Optional.of("processes or memory"), Errno.EAGAIN.exhausted());
        assertEquals(Optional.of("disk space"), Errno.ENOSPC.exhausted());
        for (Errno userError : new Errno[] {Errno.E2BIG, Errno.ENOENT, Errno.EACCES, Errno.ENOEXEC, Errno.ENOTDIR,
                Errno.ELOOP, Errno.ENAMETOOLONG, Errno.ETXTBSY, Errno.EISDIR, Errno.EPERM}) {
            assertEquals(Optional.empty(), userError.exhausted(), userError.name());
        }
    }

    @Test
    void spawnFailuresSayWhoseFaultTheyAre() {
        SpawnException descriptors = SpawnException.of("cannot open a pipe for the output of sh", 24);
        assertEquals("the worker is out of file descriptors: cannot open a pipe for the output of sh: "
                + "too many open files (EMFILE)", descriptors.getMessage());
        assertEquals(true, descriptors.workerExhausted());
        SpawnException tooLong = SpawnException.of("cannot start echo", 7);
        assertEquals("cannot start echo: argument list too long (E2BIG)", tooLong.getMessage());
        assertEquals(false, tooLong.workerExhausted());
    }

    @Test
    void theJdksFileErrorsAreRecognisedByTheirStrerrorText() {
        assertEquals(Optional.of(Errno.ENOSPC), Errno.of(new IOException("No space left on device")));
        assertEquals(Optional.of(Errno.ENOSPC),
                Errno.of(new FileSystemException("/data/jobs/x/output", null, "No space left on device")));
        assertEquals(Optional.of(Errno.ENFILE), Errno.of(new IOException("Too many open files in system")));
        assertEquals(Optional.of(Errno.EMFILE), Errno.of(new FileSystemException("/x", null, "Too many open files")));
        assertEquals(Optional.empty(), Errno.of(new IOException("something else")));
        assertEquals(Optional.empty(), Errno.of(new IOException()));
    }
}
