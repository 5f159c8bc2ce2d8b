package io.jobscheduler.worker.job;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The process driver of plain processes: {@code posix_spawnp} through FFM ({@link ProcessSpawner}),
 * one epoll thread that reaps children and reads their pipes ({@link ProcessWatcher}), and
 * signals to the whole process group.
 */
final class PosixProcessDriver implements ProcessDriver {
    private final ProcessSpawner spawner;
    private final ProcessWatcher watcher;
    /** posix_spawnp blocks until the child has exec'd: virtual callers hand it to these platform threads. */
    private final ExecutorService spawnThreads;

    PosixProcessDriver(String name) {
        this.spawner = new ProcessSpawner();
        this.watcher = new ProcessWatcher(name);
        this.spawnThreads = Executors.newFixedThreadPool(Math.max(2, Runtime.getRuntime().availableProcessors()),
                Thread.ofPlatform().name("job-spawn-", 0).daemon(true).factory());
    }

    @Override
    public Started start(Launch launch) throws SpawnException {
        ProcessSpawner.Spawned process = spawn(launch);
        long ticks = ProcStat.startTicks(process.pid()).orElse(-1);
        return new Process(process, ticks);
    }

    /** Spawns on the calling thread if it is a platform thread, else on one of {@link #spawnThreads}. */
    private ProcessSpawner.Spawned spawn(Launch launch) throws SpawnException {
        if (!Thread.currentThread().isVirtual()) {
            return spawner.spawn(launch);
        }
        Future<ProcessSpawner.Spawned> spawned = spawnThreads.submit(() -> spawner.spawn(launch));
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return spawned.get();
                } catch (InterruptedException e) {
                    // The spawn cannot be called off: wait for it, so that no process is left unwatched.
                    interrupted = true;
                } catch (ExecutionException e) {
                    switch (e.getCause()) {
                        case SpawnException se -> throw se;
                        case RuntimeException re -> throw re;
                        case Error error -> throw error;
                        default -> throw new IllegalStateException(e.getCause());
                    }
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * While any member of a group lives, the kernel does not reuse its id for a new process, so if
     * no process holds the pid or the process holding it started when the job did, the group is
     * the job's. A pid reused by an unrelated process (a different start time) is left alone. The
     * remaining risk is the narrow window of a group dying and its id being reused between the
     * check and the kill.
     */
    @Override
    public void recover(int pgid, long startTicks) {
        var ticks = ProcStat.startTicks(pgid);
        if (ticks.isEmpty() || ticks.getAsLong() == startTicks) {
            Posix.killGroup(pgid, Posix.SIGKILL);
        }
    }

    @Override
    public void close() {
        watcher.close();
        spawnThreads.shutdown();
    }

    private final class Process implements Started {
        private final ProcessSpawner.Spawned spawned;
        private final long startTicks;
        private volatile Listener listener;   // set once, by watch

        Process(ProcessSpawner.Spawned spawned, long startTicks) {
            this.spawned = spawned;
            this.startTicks = startTicks;
        }

        @Override
        public int pgid() {
            return spawned.pid();
        }

        @Override
        public long startTicks() {
            return startTicks;
        }

        @Override
        public void watch(Listener listener) {
            this.listener = listener;
            watcher.watch(spawned.pidfd(), spawned.outputFd(), listener);
        }

        @Override
        public void signal(Signal signal) {
            Posix.killGroup(spawned.pid(), switch (signal) {
                case TERMINATE -> Posix.SIGTERM;
                case KILL -> Posix.SIGKILL;
            });
        }

        @Override
        public void cutOutput() {
            Listener watching = listener;
            if (watching != null) {
                watcher.detachOutput(spawned.outputFd(), watching);
            }
        }

        @Override
        public void discard() {
            Posix.killGroup(spawned.pid(), Posix.SIGKILL);
            Posix.reap(spawned.pid());
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment errno = Posix.newErrnoSegment(arena);
                Posix.closeFd(errno, spawned.pidfd());
                Posix.closeFd(errno, spawned.outputFd());
            }
        }
    }
}
