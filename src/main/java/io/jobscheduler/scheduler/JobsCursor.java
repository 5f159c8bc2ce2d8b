package io.jobscheduler.scheduler;

import io.jobscheduler.scheduler.placement.QueuedJob;
import java.util.Optional;

/**
 * Where a {@code GET /jobs} page ends. A listing walks the queue first (dispatch order), then the
 * jobs placed on workers (newest first, {@link JobTable.Cursor}); a cursor points into one of the
 * two. Its text is what the API hands out as {@code next}: a placed cursor keeps the table's form
 * ({@code <start millis>-<sequence>}), so a cursor given out before the queue was paged stays valid;
 * a queue cursor is {@code q<priority>_<arrival>}.
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

    /** After this placed job ({@link JobTable.Cursor#NEWEST}: at the first placed job). */
    record Placed(JobTable.Cursor after) implements JobsCursor {
        @Override
        public String text() {
            return after.text();
        }
    }

    /** The cursor a page's {@code next} named; empty for text this scheduler did not make. */
    static Optional<JobsCursor> parse(String text) {
        if (!text.startsWith("q")) {
            return JobTable.Cursor.parse(text).map(Placed::new);
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
