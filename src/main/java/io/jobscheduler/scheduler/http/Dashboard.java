package io.jobscheduler.scheduler.http;

import io.helidon.http.HeaderNames;
import io.helidon.http.Method;
import io.helidon.http.Status;
import io.helidon.webserver.http.HttpRules;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The dashboard at {@code /ui}: the few static files of {@code src/main/resources/ui}, read once
 * from the jar and served with a strict Content-Security-Policy (scripts, styles and calls to
 * this origin only, no inline code, no frames) and {@code nosniff}. Only the files named here
 * are served: no directory, no path resolved from the request. They hold no data: everything the
 * page shows comes from the API, with the token the user gives it, so {@link #PATH} and below is
 * open to every caller ({@link ApiAccess} leaves it open).
 */
public final class Dashboard {
    /** The dashboard's page; its files are below it. */
    public static final String PATH = "/ui";
    static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; "
            + "img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

    /** A file: its resource name and its type. */
    private record File(String resource, String type) {
    }

    private static final Map<String, File> FILES = files();

    private Dashboard() {
    }

    private static Map<String, File> files() {
        Map<String, File> files = new LinkedHashMap<>();
        files.put(PATH, new File("ui/index.html", "text/html; charset=utf-8"));
        files.put(PATH + "/app.js", new File("ui/app.js", "text/javascript; charset=utf-8"));
        files.put(PATH + "/app.css", new File("ui/app.css", "text/css; charset=utf-8"));
        files.put(PATH + "/icon.svg", new File("ui/icon.svg", "image/svg+xml"));
        return Map.copyOf(files);
    }

    /** Registers a GET route per file (and 405 for other methods), each labelled with its path for the metrics. */
    static void register(HttpRules rules) {
        FILES.forEach((path, file) -> {
            byte[] content = read(file.resource());
            rules.get(path, RouteLabels.labelled(path, (request, response) -> {
                QueryParameters.only(request);
                response.status(Status.OK_200);
                response.header(HeaderNames.CONTENT_TYPE, file.type());
                response.header(HeaderNames.create("Content-Security-Policy"), CONTENT_SECURITY_POLICY);
                response.header(HeaderNames.create("X-Content-Type-Options"), "nosniff");
                response.header(HeaderNames.create("Referrer-Policy"), "no-referrer");
                response.header(HeaderNames.CACHE_CONTROL, "no-cache");
                response.send(content);
            }));
            rules.any(path, RouteLabels.labelled(path, SchedulerHttp.methodNotAllowed(Method.GET)));
        });
    }

    private static byte[] read(String resource) {
        try (InputStream in = Dashboard.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("the jar lacks the dashboard's " + resource);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
