package io.jobscheduler.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ExitCodesTest {
    @ParameterizedTest(name = "{0} exit_code={1} signal={2} error_text={3} -> {4}")
    @CsvSource(delimiter = '|', nullValues = "null", value = {
            "SUCCEEDED | 0    | null | ''                                         | 0",
            "FAILED    | 3    | null | exit status 3                              | 3",
            "FAILED    | 255  | null | exit status 255                            | 255",
            "FAILED    | null | 9    | killed by signal 9                         | 137",
            "FAILED    | null | 15   | killed by signal 15                        | 143",
            "FAILED    | null | 9    | timed out after 5s                         | 124",
            "STOPPED   | null | 15   | stopped                                    | 75",
            "STOPPED   | null | 9    | stopped                                    | 75",
            "LOST      | null | null | worker lost                                | 69",
    })
    void theJobsOutcome(String state, Integer exitCode, Integer signal, String errorText, int expected) {
        assertEquals(expected, ExitCodes.of(job(state, exitCode, signal, errorText)));
    }

    @Test
    void aJobThatHasNotEndedIsAnErrorOfTheClient() {
        CliException e = assertThrows(CliException.class, () -> ExitCodes.of(job("RUNNING", null, null, "")));
        assertEquals(ExitCodes.CLI_ERROR, e.exitCode());
        assertTrue(e.getMessage().contains("has not ended (state RUNNING)"), e.getMessage());
    }

    @Test
    void anEndWithNeitherExitCodeNorSignalIsAnErrorThatSaysWhy() {
        CliException e = assertThrows(CliException.class,
                () -> ExitCodes.of(job("FAILED", null, null, "worker restarted while the job was running")));
        assertEquals(ExitCodes.CLI_ERROR, e.exitCode());
        assertTrue(e.getMessage().endsWith("neither an exit code nor a signal: worker restarted while the job was running"),
                e.getMessage());
    }

    private static JsonNode job(String state, Integer exitCode, Integer signal, String errorText) {
        ObjectNode job = Api.JSON.createObjectNode().put("job_id", "j").put("done", !state.equals("RUNNING"))
                .put("state", state).put("error_text", errorText);
        job.put("exit_code", exitCode);
        job.put("signal", signal);
        return job;
    }
}
