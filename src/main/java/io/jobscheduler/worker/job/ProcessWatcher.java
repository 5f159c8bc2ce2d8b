package io.jobscheduler.worker.job;

import io.jobscheduler.concurrent.Conditions;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.OptionalInt;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One platform thread that waits, with epoll, on every running job's pidfd and output pipe: it
 * reads readable output (one read of up to 64 KiB per wake-up, so jobs take turns), sees EOF, and
 * reaps an exited process with {@code waitid(P_PIDFD)} — never {@code waitpid(-1)}, which would
 * steal other children's statuses. Every registration is EPOLLONESHOT; a finished descriptor is
 * dropped from the map, removed from epoll, then closed, and events for descriptors not in the
 * map are ignored.
 *
 * <p>This thread never writes to disk: a chunk read is handed to its pipe's {@link Writer}, which
 * reports it (the listener appends it to the job's output file) on a virtual thread, then has the
 * pipe re-armed. So one job's slow disk holds up only that job's pipe (which then fills, and
 * its process waits), never another job's output or exit. A pipe's reports are in order: its
 * chunks, then its end.
 */
final class ProcessWatcher implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(ProcessWatcher.class.getName());
    private static final int READ_SIZE = OutputLog.MAX_CHUNK;
    private static final int MAX_EVENTS = 64;

    private sealed interface Watched permits Pipe, Pid {
        ProcessDriver.Listener events();
    }

    private record Pipe(ProcessDriver.Listener events, Writer writer) implements Watched {
    }

    private record Pid(ProcessDriver.Listener events) implements Watched {
    }

    /** How long close waits for output reports in flight (a disk that stalls for longer loses them). */
    private static final Duration WRITES_DRAIN_LIMIT = Duration.ofSeconds(10);
    private final ReentrantLock writes = new ReentrantLock();
    private final Condition writesDone = writes.newCondition();
    private int pendingWrites;      // guarded by writes: reports handed to a Writer and not yet done
    private final Map<Integer, Watched> watched = new ConcurrentHashMap<>();
    private final Queue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final int epollFd;
    private final int wakeFd;
    private final Thread thread;
    private volatile boolean running = true;

    ProcessWatcher(String name) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = Posix.newErrnoSegment(arena);
            epollFd = (int) Posix.epoll_create1.invokeExact(errno, Posix.O_CLOEXEC);
            if (epollFd < 0) {
                throw new IllegalStateException("epoll_create1 failed: errno " + Posix.errno(errno));
            }
            wakeFd = (int) Posix.eventfd.invokeExact(errno, 0, Posix.O_CLOEXEC | Posix.O_NONBLOCK);
            if (wakeFd < 0) {
                throw new IllegalStateException("eventfd failed: errno " + Posix.errno(errno));
            }
        } catch (Throwable t) {
            throw Posix.rethrow(t);
        }
        control(Posix.EPOLL_CTL_ADD, wakeFd, Posix.EPOLLIN);
        thread = Thread.ofPlatform().name(name).daemon(true).unstarted(this::run);
        thread.start();
    }

    /** Starts watching a job's pidfd and output pipe; the watcher closes both when done with them. */
    void watch(int pidfd, int outputFd, ProcessDriver.Listener events) {
        watched.put(outputFd, new Pipe(events, new Writer()));
        watched.put(pidfd, new Pid(events));
        control(Posix.EPOLL_CTL_ADD, outputFd, Posix.EPOLLIN | Posix.EPOLLONESHOT);
        control(Posix.EPOLL_CTL_ADD, pidfd, Posix.EPOLLIN | Posix.EPOLLONESHOT);
    }

    /**
     * Stops reading a job's output and reports its end, for a process group that is gone while an
     * escaped descendant (one that left the group) still holds the pipe open.
     */
    void detachOutput(int outputFd, ProcessDriver.Listener events) {
        tasks.add(() -> {
            if (watched.get(outputFd) instanceof Pipe pipe && pipe.events() == events) {
                forget(outputFd);
                pipe.writer().execute(events::outputEnded);
            }
        });
        wake();
    }

    private void run() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = Posix.newErrnoSegment(arena);
            MemorySegment events = arena.allocate(Posix.EPOLL_EVENT_SIZE * MAX_EVENTS, 8);
            MemorySegment buffer = arena.allocate(READ_SIZE, 8);
            MemorySegment siginfo = arena.allocate(Posix.SIGINFO_SIZE, 8);
            while (running) {
                int n = (int) Posix.epoll_wait.invokeExact(errno, epollFd, events, MAX_EVENTS, -1);
                if (n < 0) {
                    if (Posix.errno(errno) == Posix.EINTR) {
                        continue;
                    }
                    throw new IllegalStateException("epoll_wait failed: errno " + Posix.errno(errno));
                }
                for (int i = 0; i < n; i++) {
                    int fd = events.get(JAVA_INT, i * Posix.EPOLL_EVENT_SIZE + 4);
                    try {
                        handle(fd, errno, buffer, siginfo);
                    } catch (RuntimeException e) {
                        // One job's failure (say, its record could not be written) must not stop the others.
                        LOG.log(System.Logger.Level.ERROR, "job watcher: handling descriptor " + fd + " failed", e);
                    }
                }
            }
        } catch (Throwable t) {
            LOG.log(System.Logger.Level.ERROR, "job watcher stopped: jobs will not end", t);
        }
    }

    private void handle(int fd, MemorySegment errno, MemorySegment buffer, MemorySegment siginfo) throws Throwable {
        if (fd == wakeFd) {
            long ignored = (long) Posix.read.invokeExact(errno, wakeFd, buffer, 8L);
            for (Runnable task; (task = tasks.poll()) != null; ) {
                task.run();
            }
            return;
        }
        switch (watched.get(fd)) {
            case null -> {
                // Not ours (any more): ignore.
            }
            case Pipe pipe -> {
                long r = (long) Posix.read.invokeExact(errno, fd, buffer, (long) READ_SIZE);
                if (r > 0) {
                    byte[] chunk = buffer.asSlice(0, r).toArray(JAVA_BYTE);
                    pipe.writer().execute(() -> {
                        try {
                            pipe.events().output(ByteBuffer.wrap(chunk));
                        } finally {
                            rearm(fd, pipe);
                        }
                    });
                } else if (r < 0 && (Posix.errno(errno) == Posix.EINTR || Posix.errno(errno) == Posix.EAGAIN)) {
                    control(Posix.EPOLL_CTL_MOD, fd, Posix.EPOLLIN | Posix.EPOLLONESHOT);
                } else {
                    forget(fd);
                    pipe.writer().execute(pipe.events()::outputEnded);
                }
            }
            case Pid pid -> {
                watched.remove(fd);
                control(Posix.EPOLL_CTL_DEL, fd, 0);
                int rc = (int) Posix.waitid.invokeExact(errno, Posix.P_PIDFD, fd, siginfo, Posix.WEXITED);
                int waitErrno = Posix.errno(errno);
                Posix.closeFd(errno, fd);
                if (rc != 0) {
                    LOG.log(System.Logger.Level.ERROR, "waitid on pidfd failed: errno " + waitErrno);
                    pid.events().exited(OptionalInt.empty(), OptionalInt.empty());
                    return;
                }
                int code = siginfo.get(JAVA_INT, Posix.SIGINFO_CODE);
                int status = siginfo.get(JAVA_INT, Posix.SIGINFO_STATUS);
                if (code == Posix.CLD_EXITED) {
                    pid.events().exited(OptionalInt.of(status), OptionalInt.empty());
                } else {
                    pid.events().exited(OptionalInt.empty(), OptionalInt.of(status));
                }
            }
        }
    }

    /**
     * Arms a pipe again once its chunk is stored, on the watcher thread, and only if the pipe is
     * still watched: its descriptor may have been cut loose and its number reused meanwhile.
     */
    private void rearm(int fd, Pipe pipe) {
        tasks.add(() -> {
            if (watched.get(fd) == pipe) {
                control(Posix.EPOLL_CTL_MOD, fd, Posix.EPOLLIN | Posix.EPOLLONESHOT);
            }
        });
        wake();
    }

    private void forget(int fd) {
        watched.remove(fd);
        control(Posix.EPOLL_CTL_DEL, fd, 0);
        try (Arena arena = Arena.ofConfined()) {
            Posix.closeFd(Posix.newErrnoSegment(arena), fd);
        }
    }

    private void control(int op, int fd, int eventMask) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = Posix.newErrnoSegment(arena);
            MemorySegment event = arena.allocate(Posix.EPOLL_EVENT_SIZE, 8);
            event.set(JAVA_INT, 0, eventMask);
            event.set(JAVA_INT, 4, fd);
            event.set(JAVA_INT, 8, 0);
            int rc = (int) Posix.epoll_ctl.invokeExact(errno, epollFd, op, fd, event);
            if (rc != 0) {
                throw new IllegalStateException("epoll_ctl(" + op + ", " + fd + ") failed: errno " + Posix.errno(errno));
            }
        } catch (Throwable t) {
            throw Posix.rethrow(t);
        }
    }

    private void wake() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment one = arena.allocate(JAVA_LONG);
            one.set(JAVA_LONG, 0, 1L);
            long ignored = (long) Posix.write.invokeExact(Posix.newErrnoSegment(arena), wakeFd, one, 8L);
        } catch (Throwable t) {
            throw Posix.rethrow(t);
        }
    }

    /**
     * One pipe's reports, run one at a time in order on virtual threads: the pipe has at most one
     * chunk in flight (it is re-armed after it), plus its end.
     */
    private final class Writer {
        private final Queue<Runnable> queue = new ConcurrentLinkedQueue<>();
        private final AtomicInteger queued = new AtomicInteger();

        void execute(Runnable report) {
            writes.lock();
            try {
                pendingWrites++;
            } finally {
                writes.unlock();
            }
            queue.add(report);
            if (queued.getAndIncrement() == 0) {
                Thread.ofVirtual().name("job-output").start(this::drain);
            }
        }

        private void drain() {
            do {
                try {
                    queue.remove().run();
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.ERROR, "job watcher: reporting output failed", e);
                } finally {
                    writes.lock();
                    try {
                        pendingWrites--;
                        writesDone.signalAll();
                    } finally {
                        writes.unlock();
                    }
                }
            } while (queued.decrementAndGet() > 0);
        }
    }

    /**
     * Stops the thread, waits (a bounded time) for reports in flight, and closes every descriptor
     * still watched, without signalling any process: stopping jobs is the runner's business.
     */
    @Override
    public void close() {
        running = false;
        wake();
        boolean interrupted = false;
        while (true) {
            try {
                thread.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        boolean drained = false;
        writes.lock();
        try {
            drained = Conditions.await(writesDone, () -> pendingWrites == 0, WRITES_DRAIN_LIMIT);
        } catch (InterruptedException e) {
            interrupted = true;
        } finally {
            writes.unlock();
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment errno = Posix.newErrnoSegment(arena);
            for (Integer fd : watched.keySet()) {
                Posix.closeFd(errno, fd);
            }
            watched.clear();
            if (drained) {
                Posix.closeFd(errno, epollFd);
                Posix.closeFd(errno, wakeFd);
            } else {
                // A report still in flight will wake this (stopped) thread when it is done: its
                // descriptor stays open, lest the write land in a file that reused the number.
                LOG.log(System.Logger.Level.WARNING, "job watcher closed with output still being stored");
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
