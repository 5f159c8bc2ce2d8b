package io.jobscheduler.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class TableTest {
    @Test
    void columnsAreAsWideAsTheirWidestCellThreeSpacesApartWithoutTrailingSpaces() {
        String text = new Table("ID", "STATE", "EXIT").row("a", "RUNNING", null).row("bbbb", "OK", "0").render();
        assertEquals("""
                ID     STATE     EXIT
                a      RUNNING   -
                bbbb   OK        0
                """, text);
    }

    @Test
    void aMissingOrEmptyCellIsADashAndWidthCountsCharactersNotUtf16Units() {
        String text = new Table("A", "B").row("", "x").row("\uD83D\uDE00\uD83D\uDE00", "y").render();
        assertEquals("""
                A    B
                -    x
                \uD83D\uDE00\uD83D\uDE00   y
                """, text);
    }

    @Test
    void aRowOfTheWrongSizeIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new Table("A", "B").row("only one"));
    }

    @Test
    void workersAsTheApiListsThem() throws IOException {
        JsonNode workers = Api.JSON.readTree("""
                [{"id":"f35283ff-c08a-4a31-9b96-c23d795d70ed","address":"127.0.0.1:30000","registered_at":"2026-11-27T00:07:50.471Z",
                  "state":"alive","last_seen":"2026-11-27T00:09:12.004Z","running_jobs":1},
                 {"id":"0b6f7f5e-0a57-4d7e-9d5e-6f3f0e6f2a11","address":"10.0.0.7:30000","registered_at":"2026-11-27T00:07:51.000Z",
                  "state":"down","last_seen":null,"running_jobs":12}]""");
        assertEquals("""
                ID                                     ADDRESS           STATE   RUNNING   LAST SEEN
                f35283ff-c08a-4a31-9b96-c23d795d70ed   127.0.0.1:30000   alive   1         2026-11-27T00:09:12.004Z
                0b6f7f5e-0a57-4d7e-9d5e-6f3f0e6f2a11   10.0.0.7:30000    down    12        -
                """, Formats.workers(workers));
    }

    @Test
    void jobsShowTheExitCodeOrTheSignalAndADashForWhatTheEntryDoesNotCarry() throws IOException {
        JsonNode jobs = Api.JSON.readTree("""
                [{"job_id":"j1","worker_id":"w","command":"bash","path":"scripts/count.sh","state":"RUNNING"},
                 {"job_id":"j2","worker_id":"w","command":"sleep","path":"","state":"FAILED","exit_code":null,"signal":9,
                  "started_at":"2026-11-27T00:08:05.008Z"},
                 {"job_id":"j3","worker_id":"w","command":"true","state":"SUCCEEDED","exit_code":0}]""");
        assertEquals("""
                ID   WORKER   STATE       EXIT       STARTED                    COMMAND
                j1   w        RUNNING     -          -                          bash scripts/count.sh
                j2   w        FAILED      signal 9   2026-11-27T00:08:05.008Z   sleep
                j3   w        SUCCEEDED   0          -                          true
                """, Formats.jobs(jobs));
    }
}
