package io.jobscheduler.scheduler;

import io.jobscheduler.scheduler.placement.QueuedJob;
import java.util.Optional;

/**
 * Where a {@code GET /jobs} page ends. A listing walks the queue first (dispatch order), then the
 * history, newest first: the jobs placed on workers by start time ({@link JobTable.Cursor}) merged
 * with the jobs that ended before they ran by submission time ({@link NeverRanJobs}). A cursor
 * points into the queue, or holds a position in each kind of the history, so the merge never loses
 * or repeats one. Its text is what the API hands out as {@code next}: a queue cursor is
 * {@code q<priority>_<arrival>}; a history cursor whose never-ran position is the placed one's
 * millisecond keeps the table's form ({@code <start millis>-<sequence>}, so a cursor given out
 * before jobs that never ran were listed stays valid), any other is
 * {@code h<start millis>-<sequence>_<submitted millis>-<sequence>}.
 */
public sealed interface JobsCursor {
    String text();

    /** After the queued job at this position. */
    record InQueue(QueuedJob.Position after) implements JobsCursor {
        @Override
        public String text() {
            return "q" + after.priority() + "_" + after.arrival();
        }
    }

    /**
     * In the history: placed jobs after {@code placedAfter} (older), jobs that never ran keyed before
     * {@code neverRanBefore}.
     */
    record History(JobTable.Cursor placedAfter, JobTable.Cursor neverRanBefore) implements JobsCursor {
        /** The start of the history: every job of both kinds. */
        public static final History START = after(JobTable.Cursor.NEWEST);
        /** The placed part of a cursor once the table has no further match: after every placed job. */
        static final JobTable.Cursor PLACED_DONE = new JobTable.Cursor(Long.MIN_VALUE, Long.MIN_VALUE);

        /**
         * After this placed job: the jobs that never ran of older milliseconds only (at its own,
         * they come before it).
         */
        static History after(JobTable.Cursor placed) {
            return new History(placed, new JobTable.Cursor(placed.startedMillis(), Long.MIN_VALUE));
        }

        @Override
        public String text() {
            return equals(after(placedAfter)) ? placedAfter.text() : "h" + placedAfter.text() + "_" + neverRanBefore.text();
        }
    }

    /** The cursor a page's {@code next} named; empty for text this scheduler did not make. */
    static Optional<JobsCursor> parse(String text) {
        if (text.startsWith("h")) {
            int underscore = text.indexOf('_');
            return underscore < 0 ? Optional.empty() : JobTable.Cursor.parse(text.substring(1, underscore))
                    .flatMap(placed -> JobTable.Cursor.parse(text.substring(underscore + 1))
                            .map(neverRan -> new History(placed, neverRan)));
        }
        if (!text.startsWith("q")) {
            return JobTable.Cursor.parse(text).map(History::after);
        }
        int underscore = text.indexOf('_');
        try {
            return underscore < 0 ? Optional.empty() : Optional.of(new InQueue(new QueuedJob.Position(
                    Integer.parseInt(text.substring(1, underscore)), Long.parseLong(text.substring(underscore + 1)))));
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
    }
}
