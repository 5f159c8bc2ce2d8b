package io.jobscheduler.scheduler.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.jobscheduler.scheduler.SchedulerServer;
import io.jobscheduler.scheduler.TestServers;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** How the scheduler serves the dashboard's files (the page itself is DashboardBrowserTest's). */
class DashboardTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static SchedulerServer scheduler;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() {
        scheduler = SchedulerServer.start(TestServers.plaintext());
    }

    @AfterAll
    static void stop() {
        scheduler.close();
    }

    @ParameterizedTest
    @CsvSource({"/ui, text/html; charset=utf-8", "/ui/app.js, text/javascript; charset=utf-8",
            "/ui/app.css, text/css; charset=utf-8", "/ui/icon.svg, image/svg+xml"})
    void eachFileComesWithItsTypeAStrictPolicyAndNoSniffing(String path, String type) throws Exception {
        HttpResponse<String> response = get(path);
        assertEquals(200, response.statusCode());
        assertEquals(type, response.headers().firstValue("Content-Type").orElseThrow());
        assertEquals("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
                        + "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
                response.headers().firstValue("Content-Security-Policy").orElseThrow());
        assertEquals("nosniff", response.headers().firstValue("X-Content-Type-Options").orElseThrow());
        assertEquals("no-referrer", response.headers().firstValue("Referrer-Policy").orElseThrow());
        assertFalse(response.body().isEmpty());
    }

    @Test
    void thePageHasNoInlineScriptOrStyleAndNamesNoOtherOrigin() throws Exception {
        String page = get("/ui").body();
        assertTrue(page.contains("<script src=\"/ui/app.js\" defer></script>"), page);
        assertFalse(page.contains("<style"), "no inline style element");
        assertFalse(page.contains(" style="), "no inline style attribute");
        assertFalse(page.matches("(?s).*\\son[a-z]+=.*"), "no inline event handler");
        assertFalse(page.contains("http://") || page.contains("https://") || page.contains("//cdn"), "no other origin");
        String script = get("/ui/app.js").body();
        assertFalse(script.contains("innerHTML") || script.contains("insertAdjacentHTML") || script.contains("document.write"),
                "the script never makes markup from text");
    }

    @ParameterizedTest
    @ValueSource(strings = {"/ui/nothing.js", "/ui/../pom.xml", "/ui/index.html", "/uix"})
    void noOtherPathIsAFile(String path) throws Exception {
        HttpResponse<String> response = get(path);
        assertEquals(404, response.statusCode(), path);
        assertTrue(JSON.readTree(response.body()).path("error").isTextual(), response.body());
    }

    @Test
    void onlyGetIsAllowed() throws Exception {
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(uri("/ui"))
                .POST(HttpRequest.BodyPublishers.ofString("{}")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(405, response.statusCode());
        assertEquals("GET", response.headers().firstValue("Allow").orElseThrow());
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(uri(path)).GET().build(),
                HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
    }

    private static URI uri(String path) {
        return URI.create("http://127.0.0.1:" + scheduler.httpPort() + path);
    }
}
