package io.jobscheduler.worker.job;

import java.nio.file.Path;
import java.time.Instant;
import java.util.EnumSet;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class JobLifecycleTest {
    @TempDir
    Path dir;

    private Job aRunningJob() throws Exception {
        return Job.running("id-1", "sh", "x.sh", Instant.now(), 4242, 1L, OutputLog.create(dir.resolve("out")));
    }

    @Test
    void aRunningJobCanEndInExactlyOneOfTheThreeEndStates() {
        assertEquals(EnumSet.of(JobState.SUCCEEDED, JobState.FAILED, JobState.STOPPED), JobState.RUNNING.next());
        for (JobState end : EnumSet.of(JobState.SUCCEEDED, JobState.FAILED, JobState.STOPPED)) {
            assertTrue(end.next().isEmpty(), end + " must be final");
            assertTrue(end.done());
        }
        assertFalse(JobState.RUNNING.done());
    }

    @Test
    void nothingLeavesAnEndStateNorReentersRunning() {
        for (JobState from : JobState.values()) {
            assertThrows(IllegalTransitionException.class, () -> from.moveTo(JobState.RUNNING));
        }
        IllegalTransitionException e = assertThrows(IllegalTransitionException.class,
                () -> JobState.SUCCEEDED.moveTo(JobState.FAILED));
        assertEquals(JobState.SUCCEEDED, e.from());
        assertEquals(JobState.FAILED, e.to());
    }

    @Test
    void aJobCannotEndTwice() throws Exception {
        Job job = aRunningJob();
        job.succeed(Instant.now());
        assertThrows(IllegalTransitionException.class, () -> job.fail("exit status 1", Instant.now()));
        assertThrows(IllegalTransitionException.class, () -> job.stop(Instant.now()));
        assertThrows(IllegalTransitionException.class, () -> job.failOnRestart(Instant.now()));
        assertEquals(JobState.SUCCEEDED, job.status().state());
        assertEquals("", job.status().errorText());
    }

    @Test
    void aStopRequestedWhileRunningEndsStoppedEvenWhenTheProcessDiedOfSigterm() throws Exception {
        Job job = aRunningJob();
        assertTrue(job.requestStop());
        assertFalse(job.reaped(java.util.OptionalInt.empty(), java.util.OptionalInt.of(15), Instant.now()));
        assertTrue(job.outputEnded(Instant.now()));
        JobStatus status = job.status();
        assertEquals(JobState.STOPPED, status.state());
        assertEquals("stopped", status.errorText());
        assertTrue(status.error());
        assertFalse(job.requestStop(), "stopping an ended job is a no-op");
    }

    @Test
    void aJobEndsOnlyOnceItsProcessIsReapedAndItsOutputIsComplete() throws Exception {
        Job job = aRunningJob();
        assertFalse(job.outputEnded(Instant.now()));
        assertEquals(JobState.RUNNING, job.status().state());
        assertTrue(job.reaped(java.util.OptionalInt.of(3), java.util.OptionalInt.empty(), Instant.now()));
        assertEquals(JobState.FAILED, job.status().state());
        assertEquals("exit status 3", job.status().errorText());
    }
}
