package io.jobscheduler.worker.job;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static io.jobscheduler.worker.job.Posix.ENOENT;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Starts a job's process with {@code posix_spawnp}: its own session and process group, default
 * signal dispositions, an empty signal mask, stdin from /dev/null, stdout and stderr into one
 * pipe, no other inherited descriptor, the launch's environment and current folder (the JVM
 * never chdirs).
 */
final class ProcessSpawner {
    /** A started process: its pid (= pgid = sid), a pidfd to reap it, the read end of its output pipe. */
    record Spawned(int pid, int pidfd, int outputFd) {
    }

    /** The longest command quoted whole in an error message. */
    private static final int MAX_QUOTED = 200;

    Spawned spawn(Launch launch) throws SpawnException {
        String command = launch.argv().getFirst();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = Posix.newErrnoSegment(arena);
            MemorySegment fds = arena.allocate(JAVA_INT, 2);
            if ((int) Posix.pipe2.invokeExact(errno, fds, Posix.O_CLOEXEC) != 0) {
                throw SpawnException.of("cannot open a pipe for the output of " + quoted(command), Posix.errno(errno));
            }
            int readFd = fds.getAtIndex(JAVA_INT, 0);
            int writeFd = fds.getAtIndex(JAVA_INT, 1);
            int pid;
            try {
                pid = spawnInto(arena, launch, writeFd);
            } catch (SpawnException | RuntimeException e) {
                Posix.closeFd(errno, readFd);
                throw e;
            } finally {
                Posix.closeFd(errno, writeFd);
            }
            int pidfd = (int) Posix.pidfd_open.invokeExact(errno, pid, 0);
            if (pidfd < 0) {
                // Out of descriptors (nothing else fails for our own unreaped child): do not leave
                // an unwatched group behind, nor a zombie.
                int e = Posix.errno(errno);
                Posix.killGroup(pid, Posix.SIGKILL);
                Posix.reap(pid);
                Posix.closeFd(errno, readFd);
                throw SpawnException.of("cannot watch the process of " + quoted(command), e);
            }
            return new Spawned(pid, pidfd, readFd);
        } catch (SpawnException e) {
            throw e;
        } catch (Throwable t) {
            throw Posix.rethrow(t);
        }
    }

    private int spawnInto(Arena arena, Launch launch, int writeFd) throws Throwable {
        MemorySegment actions = arena.allocate(Posix.FILE_ACTIONS_SIZE, 16);
        MemorySegment attr = arena.allocate(Posix.SPAWNATTR_SIZE, 16);
        check("posix_spawn_file_actions_init", (int) Posix.posix_spawn_file_actions_init.invokeExact(actions));
        try {
            check("posix_spawnattr_init", (int) Posix.posix_spawnattr_init.invokeExact(attr));
            try {
                MemorySegment emptySet = arena.allocate(Posix.SIGSET_SIZE, 8);
                MemorySegment fullSet = arena.allocate(Posix.SIGSET_SIZE, 8);
                check("sigemptyset", (int) Posix.sigemptyset.invokeExact(emptySet));
                check("sigfillset", (int) Posix.sigfillset.invokeExact(fullSet));
                short flags = (short) (Posix.POSIX_SPAWN_SETSID | Posix.POSIX_SPAWN_SETSIGMASK
                        | Posix.POSIX_SPAWN_SETSIGDEF);
                check("setflags", (int) Posix.posix_spawnattr_setflags.invokeExact(attr, flags));
                check("setsigmask", (int) Posix.posix_spawnattr_setsigmask.invokeExact(attr, emptySet));
                check("setsigdefault", (int) Posix.posix_spawnattr_setsigdefault.invokeExact(attr, fullSet));

                check("addopen", (int) Posix.posix_spawn_file_actions_addopen.invokeExact(actions, 0,
                        arena.allocateFrom("/dev/null"), Posix.O_RDONLY, 0));
                check("adddup2", (int) Posix.posix_spawn_file_actions_adddup2.invokeExact(actions, writeFd, 1));
                check("adddup2", (int) Posix.posix_spawn_file_actions_adddup2.invokeExact(actions, 1, 2));
                check("addclosefrom_np", (int) Posix.posix_spawn_file_actions_addclosefrom_np.invokeExact(actions, 3));
                check("addchdir_np", (int) Posix.posix_spawn_file_actions_addchdir_np.invokeExact(actions,
                        arena.allocateFrom(launch.cwd().toString())));

                MemorySegment file = arena.allocateFrom(launch.executable());
                MemorySegment argv = cStrings(arena, launch.argv());
                MemorySegment pid = arena.allocate(JAVA_INT);
                int rc = (int) Posix.posix_spawnp.invokeExact(pid, file, actions, attr, argv,
                        cStrings(arena, launch.env()));
                if (rc != 0) {
                    throw reason(rc, launch.argv().getFirst());
                }
                return pid.get(JAVA_INT, 0);
            } finally {
                int ignored = (int) Posix.posix_spawnattr_destroy.invokeExact(attr);
            }
        } finally {
            // glibc mallocs the action list: destroy before the arena goes.
            int ignored = (int) Posix.posix_spawn_file_actions_destroy.invokeExact(actions);
        }
    }

    /** A NULL-terminated array of C strings (the launch's strings hold no NUL: {@link JobShaper}). */
    private static MemorySegment cStrings(Arena arena, java.util.List<String> strings) {
        MemorySegment array = arena.allocate(ADDRESS, strings.size() + 1L);
        for (int i = 0; i < strings.size(); i++) {
            array.setAtIndex(ADDRESS, i, arena.allocateFrom(strings.get(i)));
        }
        array.setAtIndex(ADDRESS, strings.size(), MemorySegment.NULL);
        return array;
    }

    private static SpawnException reason(int errno, String command) {
        return switch (errno) {
            case ENOENT -> SpawnException.command("command not found: " + quoted(command) + " (ENOENT)");
            default -> SpawnException.of("cannot start " + quoted(command), errno);
        };
    }

    /** The command as a message quotes it: a long one is shortened, so the reason after it is read. */
    static String quoted(String command) {
        return command.length() <= MAX_QUOTED ? command
                : command.substring(0, Character.isHighSurrogate(command.charAt(MAX_QUOTED - 1)) ? MAX_QUOTED - 1 : MAX_QUOTED)
                + "… (" + command.length() + " characters)";
    }

    private static void check(String what, int rc) {
        if (rc != 0) {
            throw new IllegalStateException(what + " failed: error " + rc);
        }
    }
}
