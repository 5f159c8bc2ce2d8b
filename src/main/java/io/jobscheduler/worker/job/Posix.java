package io.jobscheduler.worker.job;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The glibc calls the job runner makes, bound once through the Foreign Function &amp; Memory API.
 * Linux x86_64/aarch64 with glibc &ge; 2.34 (closefrom_np); constants are glibc's.
 * Functions that report failure through errno take a capture segment from {@link #newErrnoSegment};
 * the {@code posix_spawn*} functions return their error number instead.
 */
final class Posix {
    static final int O_RDONLY = 0;
    static final int O_CLOEXEC = 0x80000;
    static final int O_NONBLOCK = 0x800;
    static final int EINTR = 4;
    static final int ENOENT = 2;
    static final int EAGAIN = 11;
    static final int ESRCH = 3;
    static final int SIGKILL = 9;
    static final int SIGTERM = 15;
    static final short POSIX_SPAWN_SETSIGDEF = 0x04;
    static final short POSIX_SPAWN_SETSIGMASK = 0x08;
    static final short POSIX_SPAWN_SETSID = 0x80;
    static final int EPOLL_CTL_ADD = 1;
    static final int EPOLL_CTL_DEL = 2;
    static final int EPOLL_CTL_MOD = 3;
    static final int EPOLLIN = 0x1;
    static final int EPOLLONESHOT = 1 << 30;
    /** struct epoll_event is packed on x86_64: u32 events at 0, u64 data at 4. */
    static final long EPOLL_EVENT_SIZE = 12;
    static final int P_PID = 1;
    static final int P_PIDFD = 3;
    static final int WEXITED = 4;
    static final int CLD_EXITED = 1;
    static final long SIGINFO_SIZE = 128;
    static final long SIGINFO_CODE = 8;
    static final long SIGINFO_STATUS = 24;
    static final long SPAWNATTR_SIZE = 336;
    static final long FILE_ACTIONS_SIZE = 80;
    static final long SIGSET_SIZE = 128;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final SymbolLookup LIBC = LINKER.defaultLookup();
    private static final MemoryLayout ERRNO_STATE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = ERRNO_STATE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    static final MethodHandle posix_spawnp = bind("posix_spawnp",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    static final MethodHandle posix_spawnattr_init = bind("posix_spawnattr_init", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle posix_spawnattr_destroy = bind("posix_spawnattr_destroy", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle posix_spawnattr_setflags = bind("posix_spawnattr_setflags",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_SHORT));
    static final MethodHandle posix_spawnattr_setsigmask = bind("posix_spawnattr_setsigmask",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle posix_spawnattr_setsigdefault = bind("posix_spawnattr_setsigdefault",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));
    static final MethodHandle sigemptyset = bind("sigemptyset", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle sigfillset = bind("sigfillset", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle posix_spawn_file_actions_init = bind("posix_spawn_file_actions_init",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle posix_spawn_file_actions_destroy = bind("posix_spawn_file_actions_destroy",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));
    static final MethodHandle posix_spawn_file_actions_addopen = bind("posix_spawn_file_actions_addopen",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    static final MethodHandle posix_spawn_file_actions_adddup2 = bind("posix_spawn_file_actions_adddup2",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    static final MethodHandle posix_spawn_file_actions_addclosefrom_np = bind("posix_spawn_file_actions_addclosefrom_np",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    static final MethodHandle posix_spawn_file_actions_addchdir_np = bind("posix_spawn_file_actions_addchdir_np",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS));

    static final MethodHandle pipe2 = bindErrno("pipe2", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    static final MethodHandle close = bindErrno("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    static final MethodHandle read = bindErrno("read", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    static final MethodHandle write = bindErrno("write", FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG));
    static final MethodHandle kill = bindErrno("kill", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    static final MethodHandle pidfd_open = bindErrno("pidfd_open", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    static final MethodHandle waitid = bindErrno("waitid",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
    static final MethodHandle epoll_create1 = bindErrno("epoll_create1", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
    static final MethodHandle epoll_ctl = bindErrno("epoll_ctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS));
    static final MethodHandle epoll_wait = bindErrno("epoll_wait",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT));
    static final MethodHandle eventfd = bindErrno("eventfd", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
    static final MethodHandle access = bindErrno("access", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT));
    private static final int X_OK = 1;

    private Posix() {
    }

    private static MethodHandle bind(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(LIBC.find(name).orElseThrow(
                () -> new UnsatisfiedLinkError("libc has no " + name)), descriptor);
    }

    private static MethodHandle bindErrno(String name, FunctionDescriptor descriptor) {
        return LINKER.downcallHandle(LIBC.find(name).orElseThrow(
                () -> new UnsatisfiedLinkError("libc has no " + name)), descriptor, CAPTURE_ERRNO);
    }

    static MemorySegment newErrnoSegment(Arena arena) {
        return arena.allocate(ERRNO_STATE);
    }

    static int errno(MemorySegment capture) {
        return (int) ERRNO.get(capture, 0L);
    }

    /** Sends a signal to a process group; false if the group no longer exists (ESRCH). */
    static boolean killGroup(int pgid, int signal) {
        if (pgid <= 1) {
            throw new IllegalArgumentException("refusing to signal process group " + pgid);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = newErrnoSegment(arena);
            int rc = (int) kill.invokeExact(errno, -pgid, signal);
            if (rc == 0) {
                return true;
            }
            int e = errno(errno);
            if (e == ESRCH) {
                return false;
            }
            throw new IllegalStateException("kill(-" + pgid + ", " + signal + ") failed: errno " + e);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /**
     * Waits for one child of ours that was just killed, by pid (never "any child": that would
     * steal the JDK's exit statuses), so it does not stay a zombie. Blocks briefly: call it on a
     * platform thread.
     */
    static void reap(int pid) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = newErrnoSegment(arena);
            MemorySegment siginfo = arena.allocate(SIGINFO_SIZE, 8);
            int rc;
            do {
                rc = (int) waitid.invokeExact(errno, P_PID, pid, siginfo, WEXITED);
            } while (rc != 0 && errno(errno) == EINTR);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    /** close(2), for descriptors this package owns; errors other than EINTR are not actionable. */
    /** The errno of access(path, X_OK), the check exec makes of a file; 0 when it may be executed. */
    static int executeAccess(String path) {
        try (java.lang.foreign.Arena arena = java.lang.foreign.Arena.ofConfined()) {
            MemorySegment errno = newErrnoSegment(arena);
            int rc = (int) access.invokeExact(errno, arena.allocateFrom(path), X_OK);
            return rc == 0 ? 0 : errno(errno);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static void closeFd(MemorySegment errno, int fd) {
        try {
            int rc = (int) close.invokeExact(errno, fd);
            assert rc == 0 || errno(errno) == EINTR : "close(" + fd + ") errno " + errno(errno);
        } catch (RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    static IllegalStateException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) {
            throw r;
        }
        if (t instanceof Error e) {
            throw e;
        }
        return new IllegalStateException(t);
    }
}
