package io.jobscheduler.worker.job;

import java.nio.ByteBuffer;
import java.util.OptionalInt;

/**
 * How a job's process is run, in the shape of Nomad's task-driver contract: start, wait (the
 * listener hears of output, its end, and the exit), signal, recover. The runner knows nothing of
 * how a process is made; limits and run-as plug in here, as other drivers or options of one.
 */
interface ProcessDriver extends AutoCloseable {
    /** A signal the runner sends to a job's whole process group. */
    enum Signal {
        /** Asks the job to end (SIGTERM). */
        TERMINATE,
        /** Ends the job at once (SIGKILL). */
        KILL
    }

    /**
     * What the driver reports about one process. Output and its end come in order, one at a time,
     * on a thread that may write to disk; the exit comes on the driver's own thread, so a report
     * of it must not block.
     */
    interface Listener {
        /** Output bytes, valid only during the call. */
        void output(ByteBuffer bytes);

        /** The output has ended: every byte was reported (or the output was cut loose). */
        void outputEnded();

        void exited(OptionalInt exitCode, OptionalInt signal);
    }

    /** A started process: the leader of its own process group. */
    interface Started {
        /** Its process group id (= its pid), kept in the job's record for {@link #recover}. */
        int pgid();

        /** When the kernel started it (clock ticks since boot, -1 if unknown), kept for {@link #recover}. */
        long startTicks();

        /** Starts reporting to the listener; until then the process runs unwatched. Once only. */
        void watch(Listener listener);

        /** Signals the whole group; a group that is gone is no error. */
        void signal(Signal signal);

        /**
         * Reports the output's end without waiting for it: the group is dead but a descendant that
         * left it still holds the output open.
         */
        void cutOutput();

        /** Kills and forgets a process that was never watched (the runner could not take it). */
        void discard();

        /**
         * Why the kernel ended the job for its memory limit ("out of memory (limit 256 MiB)"), if it did:
         * asked once the process has exited. Empty for a process without a memory cgroup.
         */
        default java.util.Optional<String> outOfMemory() {
            return java.util.Optional.empty();
        }

        /**
         * Ends what is left of the job once it has ended, descendants that left its process group too, and
         * lets go of what it held (its cgroup). Returns once they are gone.
         */
        default void release() {
        }
    }

    /**
     * Starts a launch (no shell) as it says: file, argv, environment, current folder; answers
     * once it runs.
     *
     * @throws SpawnException the command cannot start, or the worker is out of descriptors or memory
     */
    Started start(Launch launch) throws SpawnException;

    /**
     * Deals with a process group a previous worker process left running (its record says
     * RUNNING): this driver cannot adopt it (it is no child of this process, so no exit status
     * would be heard), so it is killed, if it is still the job's.
     */
    void recover(int pgid, long startTicks);

    /** Stops watching, without signalling any process (stopping jobs is the runner's business). */
    @Override
    void close();
}
