package io.jobscheduler.worker.job;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import static io.jobscheduler.worker.job.JobFixtures.livingMembers;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The process driver's contract on its own: start, wait (reports), signal, discard, recover. */
@Timeout(60)
class PosixProcessDriverTest {
    @TempDir
    Path work;

    /** Completes with the exit report; output and its end are only counted. */
    private static final class Exit implements ProcessDriver.Listener {
        final CompletableFuture<OptionalInt[]> exited = new CompletableFuture<>();

        @Override
        public void output(ByteBuffer bytes) {
        }

        @Override
        public void outputEnded() {
        }

        @Override
        public void exited(OptionalInt exitCode, OptionalInt signal) {
            exited.complete(new OptionalInt[]{exitCode, signal});
        }
    }

    @Test
    void aSignalToTheGroupIsReportedAsTheExit() throws Exception {
        try (PosixProcessDriver driver = new PosixProcessDriver("test-driver")) {
            ProcessDriver.Started sleeper = driver.start(JobFixtures.launch(work.toRealPath(), "sleep", "1000"));
            assertTrue(sleeper.startTicks() > 0);
            Exit exit = new Exit();
            sleeper.watch(exit);
            sleeper.signal(ProcessDriver.Signal.TERMINATE);
            OptionalInt[] status = exit.exited.get(30, TimeUnit.SECONDS);
            assertEquals(OptionalInt.empty(), status[0]);
            assertEquals(OptionalInt.of(15), status[1]);
        }
    }

    @Test
    void aDiscardedProcessIsKilledAndReaped() throws Exception {
        try (PosixProcessDriver driver = new PosixProcessDriver("test-driver")) {
            ProcessDriver.Started never = driver.start(JobFixtures.launch(work.toRealPath(), "sleep", "1000"));
            never.discard();
            assertEquals(List.of(), livingMembers(never.pgid()));
            // Reaped, not a zombie: no process holds the pid any more.
            assertTrue(ProcStat.startTicks(never.pgid()).isEmpty());
        }
    }

    @Test
    void recoveryKillsTheLeftoverGroupOfAnEarlierWorkerButNotAStranger() throws Exception {
        try (PosixProcessDriver earlier = new PosixProcessDriver("earlier");
             PosixProcessDriver later = new PosixProcessDriver("later")) {
            ProcessDriver.Started leftover = earlier.start(JobFixtures.launch(work.toRealPath(), "sleep", "1000"));
            Exit exit = new Exit();
            leftover.watch(exit);
            // Another process's start time: the pid is taken to be reused, and left alone.
            later.recover(leftover.pgid(), leftover.startTicks() + 1);
            assertEquals(List.of(leftover.pgid()), livingMembers(leftover.pgid()));
            later.recover(leftover.pgid(), leftover.startTicks());
            assertEquals(OptionalInt.of(9), exit.exited.get(30, TimeUnit.SECONDS)[1]);
        }
    }
}
