package io.jobscheduler.scheduler.http;

import com.fasterxml.jackson.annotation.JsonProperty;
import io.helidon.http.Status;
import io.helidon.webserver.WebServer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static io.jobscheduler.scheduler.http.WorkersHttpServiceTest.assertError;
import static io.jobscheduler.scheduler.http.WorkersHttpServiceTest.assertJson;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The JSON body helper and the 500 mapping, on a server with the gateway's error conventions and
 * two routes of its own (the gateway has no POST route yet).
 */
class JsonBodyTest {
    /** A request shaped like the job routes' will be. */
    record StartRequest(@JsonProperty(required = true) String command, String path, Integer maxCount, Boolean follow) {
        StartRequest {
            command = StringField.COMMAND.required(command);
            path = StringField.PATH.check(path);
            if (command.isBlank()) {
                throw new IllegalArgumentException("field 'command' must not be empty");
            }
        }
    }

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static WebServer server;

    @BeforeAll
    static void start() {
        server = WebServer.builder()
                .host("127.0.0.1")
                .port(0)
                .directHandlers(SchedulerHttp.directHandlers())
                .routing(routing -> {
                    SchedulerHttp.errorHandling(routing);
                    routing.post("/echo", (req, res) ->
                                    JsonBody.send(res, Status.OK_200, JsonBody.read(req, StartRequest.class)))
                            .get("/boom", (req, res) -> {
                                throw new IllegalStateException("secret detail at line 42");
                            });
                })
                .build()
                .start();
    }

    @AfterAll
    static void stop() {
        server.stop();
    }

    @Test
    void aWellFormedBodyIsReadIntoTheRecordWithSnakeCaseNames() throws Exception {
        HttpResponse<String> response = post("application/json",
                "{\"command\": \"bash\", \"path\": \"scripts/count.sh\", \"max_count\": 3}");

        assertJson(response, 200);
        assertEquals("{\"command\":\"bash\",\"path\":\"scripts/count.sh\",\"max_count\":3,\"follow\":null}\n",
                response.body());
    }

    @Test
    void aJsonContentTypeWithACharsetIsJson() throws Exception {
        assertJson(post("application/json; charset=utf-8", "{\"command\": \"bash\"}"), 200);
    }

    @Test
    void anAbsentContentTypeIsJson() throws Exception {
        assertJson(post(null, "{\"command\": \"bash\"}"), 200);
    }

    @Test
    void anotherContentTypeIs415() throws Exception {
        assertError(post("text/plain", "{\"command\": \"bash\"}"), 415,
                "Content-Type 'text/plain' is not supported; send application/json");
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
            "{\"path\": \"x\"}                          | field 'command' is missing",
            "{\"command\": 5}                           | field 'command' must be a string",
            "{\"command\": [\"bash\"]}                  | field 'command' must be a string",
            "{\"command\": \"x\", \"max_count\": \"3\"} | field 'max_count' must be an integer",
            "{\"command\": \"x\", \"max_count\": 1.5}   | field 'max_count' must be an integer",
            "{\"command\": \"x\", \"follow\": \"yes\"}  | field 'follow' must be a boolean",
            "{\"command\": \"x\", \"nope\": 1}          | unknown field 'nope'",
            "{\"command\": \" \"}                       | field 'command' must not be empty",
            "[]                                         | request body must be a JSON object",
            "`\"bash\"`                                 | request body must be a JSON object",
            "null                                       | request body must be a JSON object",
            "1                                          | request body must be a JSON object",
            "true                                       | request body must be a JSON object",
            "{\"command\": \"a\", \"command\": \"b\"}     | duplicate field 'command'",
            "{\"command\": \"a\", \"path\": {\"x\": 1, \"x\": 2}} | field 'path' must be a string",
            "{\"command\": null}                        | field 'command' must be a string, not null",
            "{\"command\": \"a\\u0000b\"}                 | field 'command' must not contain NUL characters",
            "{\"command\": \"a\", \"path\": \"\\ud800\"}   | field 'path' is not valid Unicode (a lone surrogate at character 0)",
    })
    void aBodyThatDoesNotFitIs400NamingTheField(String body, String message) throws Exception {
        assertError(post("application/json", body), 400, message);
    }

    @Test
    void aFieldOverItsBoundIs400NamingTheFieldAndTheLimitInBytes() throws Exception {
        // 2,049 two-byte characters: within 4,096 characters, over 4,096 bytes of UTF-8.
        String command = "é".repeat(2049);
        assertError(post("application/json", "{\"command\": \"" + command + "\"}"), 400,
                "field 'command' is 4098 bytes of UTF-8; the limit is 4096");
        assertJson(post("application/json", "{\"command\": \"" + "é".repeat(2048) + "\"}"), 200);
    }

    @Test
    void aFourByteCharacterCountsFourBytes() {
        assertEquals("😀".repeat(1024), StringField.PATH.check("😀".repeat(1024)));
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> StringField.PATH.check("😀".repeat(1024) + "x"));
        assertEquals("field 'path' is 4097 bytes of UTF-8; the limit is 4096", e.getMessage());
    }

    @Test
    void malformedJsonIs400SayingWhere() throws Exception {
        HttpResponse<String> response = post("application/json", "{\"command\": ");

        assertJson(response, 400);
        assertTrue(response.body().contains("malformed JSON at line 1, column"), response.body());
    }

    @Test
    void anEmptyBodyIs400() throws Exception {
        assertError(post("application/json", ""), 400, "request body is empty; expected a JSON object");
    }

    @Test
    void anUnexpectedExceptionIs500WithoutDetails() throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(uri("/boom")).build(),
                HttpResponse.BodyHandlers.ofString());

        assertError(response, 500, "internal error");
    }

    private static HttpResponse<String> post(String contentType, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri("/echo")).POST(HttpRequest.BodyPublishers.ofString(body));
        if (contentType != null) {
            request.header("Content-Type", contentType);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static URI uri(String path) {
        return URI.create("http://127.0.0.1:" + server.port() + path);
    }
}
