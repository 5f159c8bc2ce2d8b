package io.jobscheduler.scheduler.http;

import io.jobscheduler.scheduler.SchedulerCore;
import io.jobscheduler.scheduler.SchedulerServer;
import io.jobscheduler.scheduler.TestServers;
import io.jobscheduler.scheduler.WorkerRegistry;
import io.swagger.v3.oas.models.OpenAPI;
import io.swagger.v3.oas.models.Operation;
import io.swagger.v3.oas.models.media.MediaType;
import io.swagger.v3.oas.models.responses.ApiResponse;
import io.swagger.v3.parser.OpenAPIV3Parser;
import io.swagger.v3.parser.core.models.ParseOptions;
import io.swagger.v3.parser.core.models.SwaggerParseResult;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

import static org.hamcrest.MatcherAssert.assertThat;
import static org.hamcrest.Matchers.empty;
import static org.hamcrest.Matchers.is;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The OpenAPI document ({@value SchedulerServer#OPENAPI_DOCUMENT}) is valid, describes exactly
 * the routes the scheduler serves (the {@link ApiRoutes} table and {@link ObserveRoutes}),
 * every error as the one error shape, and every status api.md documents for a route; and
 * {@code /openapi} serves it.
 */
class OpenApiParityTest {
    private static final Pattern HEADING = Pattern.compile("^## (GET|POST|PUT|DELETE|PATCH) (/\\S*)$", Pattern.MULTILINE);
    /** A status in backticks ("`201 Created`", "`503`"); 1xx is none of ours (and "`100`" is a default value). */
    private static final Pattern QUOTED_STATUS = Pattern.compile("`([2-5]\\d\\d)\\b");
    /**
     * A status in an "Errors" paragraph: three digits that are not part of a larger number
     * ("4,096"), a size ("512 MiB", "256M") or a word ("'256X'").
     */
    private static final Pattern ERROR_STATUS = Pattern.compile("(?<![\\d,.])([1-5]\\d\\d)(?![\\d,A-Za-z]| ?[KMG]iB| bytes)");

    @Test
    void theDocumentIsValidOpenApi3() throws IOException {
        SwaggerParseResult result = parse(document());

        assertThat("parser messages", result.getMessages(), is(empty()));
        assertTrue(result.getOpenAPI().getOpenapi().startsWith("3."), result.getOpenAPI().getOpenapi());
    }

    @Test
    void itsPathsAndMethodsAreExactlyTheRouteTableAndTheObserveRoutes() throws IOException {
        Set<String> documented = operations(parse(document()).getOpenAPI()).keySet();
        Set<String> served = servedRoutes();

        Set<String> missing = new TreeSet<>(served);
        missing.removeAll(documented);
        Set<String> extra = new TreeSet<>(documented);
        extra.removeAll(served);
        assertTrue(missing.isEmpty() && extra.isEmpty(), "openapi.yaml is not the route table: routes served but not in"
                + " openapi.yaml: " + missing + "; in openapi.yaml but not served: " + extra);
    }

    @Test
    void apiMdHasASectionForEveryRouteAndNoOther() throws IOException {
        Set<String> sections = new TreeSet<>(apiMdStatuses().keySet());
        Set<String> served = servedRoutes();

        Set<String> missing = new TreeSet<>(served);
        missing.removeAll(sections);
        Set<String> extra = new TreeSet<>(sections);
        extra.removeAll(served);
        assertTrue(missing.isEmpty() && extra.isEmpty(), "api.md's '## METHOD /path' sections are not the route table:"
                + " served without a section: " + missing + "; a section but not served: " + extra);
    }

    @Test
    void everyStatusApiMdDocumentsForARouteIsInTheDocument() throws IOException {
        Map<String, Operation> operations = operations(parse(document()).getOpenAPI());
        List<String> absent = new ArrayList<>();
        apiMdStatuses().forEach((route, statuses) -> {
            Operation operation = operations.get(route);
            for (String status : statuses) {
                if (operation == null || !operation.getResponses().containsKey(status)) {
                    absent.add(route + " " + status);
                }
            }
        });
        assertThat("statuses api.md documents that openapi.yaml lacks", absent, is(empty()));
        assertTrue(apiMdStatuses().get("POST /start").containsAll(Set.of("201", "400", "403", "422", "501", "503")),
                "the api.md reader found /start's statuses: " + apiMdStatuses().get("POST /start"));
    }

    @Test
    void everyErrorAnswerOfTheApiIsTheOneErrorShape() throws IOException {
        ParseOptions options = new ParseOptions();
        options.setResolveFully(true);
        OpenAPI api = new OpenAPIV3Parser().readContents(document(), null, options).getOpenAPI();
        List<String> wrong = new ArrayList<>();
        operations(api).forEach((route, operation) -> operation.getResponses().forEach((status, response) -> {
            if ((status.equals("default") || status.compareTo("400") >= 0) && !isErrorShape(response)
                    && !route.equals("GET /observe/metrics")) {
                wrong.add(route + " " + status);
            }
        }));
        assertThat("error answers not described as {\"error\": string}", wrong, is(empty()));
    }

    @Test
    void openapiServesTheDocument() throws Exception {
        try (SchedulerServer server = SchedulerServer.start(TestServers.plaintext())) {
            HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + server.httpPort() + "/openapi")).build(),
                    HttpResponse.BodyHandlers.ofString());

            assertEquals(200, response.statusCode(), response.body());
            assertEquals(operations(parse(document()).getOpenAPI()).keySet(),
                    operations(parse(response.body()).getOpenAPI()).keySet());
        }
    }

    private static boolean isErrorShape(ApiResponse response) {
        if (response.getContent() == null) {
            return false;
        }
        MediaType json = response.getContent().get("application/json");
        return json != null && json.getSchema() != null && json.getSchema().getProperties() != null
                && json.getSchema().getProperties().keySet().equals(Set.of("error"))
                && Objects.equals(json.getSchema().getRequired(), List.of("error"));
    }

    /** "METHOD /path" of every route the HTTP socket serves. */
    private static Set<String> servedRoutes() {
        try (SchedulerCore core = SchedulerCore.create(TestServers.plaintext(), Clock.systemUTC(),
                WorkerRegistry.Listener.NONE)) {
            Set<String> routes = ApiRoutes.of(core.registry(), core.gateway()).all().stream()
                    .map(route -> route.method().text() + " " + route.path()).collect(Collectors.toCollection(TreeSet::new));
            ObserveRoutes.ALL.forEach(route -> routes.add(route.method().text() + " " + route.path()));
            return routes;
        }
    }

    private static Map<String, Operation> operations(OpenAPI api) {
        Map<String, Operation> operations = new TreeMap<>();
        api.getPaths().forEach((path, item) -> item.readOperationsMap().forEach((method, operation) ->
                operations.put(method.name().toUpperCase(Locale.ROOT) + " " + path, operation)));
        return operations;
    }

    /** api.md's statuses by "METHOD /path": in backticks anywhere in a route's section, and in its "Errors" paragraph. */
    private static Map<String, Set<String>> apiMdStatuses() throws IOException {
        String text = Files.readString(Path.of("api.md"));
        Map<String, Set<String>> statuses = new TreeMap<>();
        Matcher heading = HEADING.matcher(text);
        List<int[]> starts = new ArrayList<>();
        List<String> routes = new ArrayList<>();
        while (heading.find()) {
            starts.add(new int[] {heading.start(), heading.end()});
            routes.add(heading.group(1) + " " + heading.group(2));
        }
        for (int i = 0; i < routes.size(); i++) {
            int end = text.indexOf("\n## ", starts.get(i)[1]);
            String section = text.substring(starts.get(i)[1], end < 0 ? text.length() : end);
            Set<String> found = new TreeSet<>();
            Matcher quoted = QUOTED_STATUS.matcher(section);
            while (quoted.find()) {
                found.add(quoted.group(1));
            }
            int errors = section.indexOf("\nErrors");
            if (errors >= 0) {
                Matcher status = ERROR_STATUS.matcher(section.substring(errors));
                while (status.find()) {
                    found.add(status.group(1));
                }
            }
            statuses.put(routes.get(i), found);
        }
        return statuses;
    }

    private static SwaggerParseResult parse(String text) {
        return new OpenAPIV3Parser().readContents(text, null, new ParseOptions());
    }

    private static String document() throws IOException {
        try (InputStream in = OpenApiParityTest.class.getClassLoader().getResourceAsStream(SchedulerServer.OPENAPI_DOCUMENT)) {
            assertTrue(in != null, SchedulerServer.OPENAPI_DOCUMENT + " is not on the class path");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
