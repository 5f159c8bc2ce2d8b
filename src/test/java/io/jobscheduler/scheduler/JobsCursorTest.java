package io.jobscheduler.scheduler;

import io.jobscheduler.scheduler.placement.QueuedJob;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The cursors {@code GET /jobs} hands out read back as the positions they were made from. */
class JobsCursorTest {
    @Test
    void everyCursorReadsBackAsItself() {
        List<JobsCursor> cursors = List.of(
                new JobsCursor.InQueue(new QueuedJob.Position(-3, 17)),
                JobsCursor.History.START,
                JobsCursor.History.after(new JobTable.Cursor(1795653085008L, 41)),
                new JobsCursor.History(new JobTable.Cursor(1795653085008L, 41), new JobTable.Cursor(1795653080000L, 7)),
                new JobsCursor.History(JobsCursor.History.PLACED_DONE, new JobTable.Cursor(0, 2)));
        for (JobsCursor cursor : cursors) {
            assertEquals(Optional.of(cursor), JobsCursor.parse(cursor.text()), cursor.text());
        }
    }

    @Test
    void aPlacedJobsCursorKeepsTheTablesFormSoOnesGivenOutBeforeStayValid() {
        assertEquals(JobTable.Cursor.NEWEST.text(), JobsCursor.History.START.text());
        assertEquals("1795653085008-41", JobsCursor.History.after(new JobTable.Cursor(1795653085008L, 41)).text());
        assertEquals(Optional.of(JobsCursor.History.after(new JobTable.Cursor(12, 3))), JobsCursor.parse("12-3"));
    }

    @Test
    void textThisSchedulerDidNotMakeIsNoCursor() {
        for (String text : List.of("", "q1_x", "q1", "h12-3", "h12-3_x", "hx_12-3", "12", "abc", "h_")) {
            assertEquals(Optional.empty(), JobsCursor.parse(text), text);
        }
    }
}
