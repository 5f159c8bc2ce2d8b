package io.jobscheduler.scheduler.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.jobscheduler.config.AccessSettings;
import io.jobscheduler.scheduler.SchedulerServer;
import io.jobscheduler.scheduler.TestServers;
import io.jobscheduler.security.ApiRole;
import io.jobscheduler.security.ApiToken;
import io.jobscheduler.security.TokenTable;
import io.jobscheduler.worker.TestWorkers;
import io.jobscheduler.worker.WorkerServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.LifecycleMethodExecutionExceptionHandler;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The dashboard in a real browser: Debian's {@code chromium} driven through its
 * {@code chromium-driver} ({@code /usr/bin/chromedriver}, so Selenium Manager never downloads
 * anything), headless, with a fresh profile, against a scheduler that requires tokens
 * ({@code [auth] tokens_file}) and a worker in the test JVM.
 * The packages are installed by {@code bin/test} and {@code .ci/run} when missing; where they
 * cannot be had the test is skipped, saying so. A failing test leaves a screenshot under
 * {@code target/dashboard-screenshots/}.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DashboardBrowserTest {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static final Duration WAIT = Duration.ofSeconds(60);   // generous: the machine may be loaded
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path work;
    @TempDir
    static Path data;
    @TempDir
    static Path profile;
    @TempDir
    static Path secrets;

    /** An operator's token: it may start and stop jobs. */
    private final String token = ApiToken.generate();
    private SchedulerServer scheduler;
    private WorkerServer worker;
    private String workerId;
    private WebDriver browser;
    private WebDriverWait wait;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    /** Saves what the browser showed (and its console) when a test or its set-up failed, then lets the failure through. */
    @RegisterExtension
    final Screenshots screenshotOnFailure = new Screenshots();

    final class Screenshots implements TestExecutionExceptionHandler, LifecycleMethodExecutionExceptionHandler {
        @Override
        public void handleTestExecutionException(ExtensionContext context, Throwable failure) throws Throwable {
            throw saved(context, failure);
        }

        @Override
        public void handleBeforeEachMethodExecutionException(ExtensionContext context, Throwable failure)
                throws Throwable {
            throw saved(context, failure);
        }

        private Throwable saved(ExtensionContext context, Throwable failure) {
            if (browser instanceof TakesScreenshot camera) {
                try {
                    Path folder = Files.createDirectories(Path.of("target", "dashboard-screenshots"));
                    Path file = folder.resolve(context.getRequiredTestMethod().getName() + ".png");
                    Files.write(file, camera.getScreenshotAs(OutputType.BYTES));
                    failure.addSuppressed(new AssertionError("screenshot of the page: " + file.toAbsolutePath()
                            + "; browser console: " + browser.manage().logs().get(LogType.BROWSER).getAll()));
                } catch (RuntimeException | IOException e) {
                    failure.addSuppressed(e);
                }
            }
            return failure;
        }
    }

    @BeforeAll
    void startClusterAndBrowser() throws Exception {
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
            String why = "SKIPPED: the dashboard's browser test needs Debian's chromium and chromium-driver ("
                    + CHROMIUM + ", " + CHROMEDRIVER + "); bin/test and .ci/run install them with apt-get as root";
            System.err.println("*** " + why + " ***");
            Assumptions.abort(why);
        }
        Path tokens = secrets.resolve("tokens.toml");
        Files.writeString(tokens, TokenTable.empty()
                .with(new TokenTable.Entry("dashboard-test", ApiRole.OPERATOR, ApiToken.sha256(token))).toToml());
        scheduler = SchedulerServer.start(TestServers.plaintext().withAccess(new AccessSettings(Optional.of(tokens),
                false, Optional.empty(), AccessSettings.DEFAULT_AUDIT_MAX_BYTES)));
        worker = WorkerServer.start(TestWorkers.settings(scheduler.grpcPort(), work, data));
        assertTrue(worker.awaitRegistered(Duration.ofSeconds(10)), "the worker registered");
        workerId = scheduler.registry().list().getFirst().id().toString();

        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                "--window-size=1280,1000", "--user-data-dir=" + profile);
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability(ChromeOptions.LOGGING_PREFS, logs);
        browser = new ChromeDriver(service, options);
        wait = new WebDriverWait(browser, WAIT);
    }

    @AfterAll
    void stop() {
        if (browser != null) {
            browser.quit();
        }
        if (worker != null) {
            worker.close();   // stops every job a test left running
        }
        if (scheduler != null) {
            scheduler.close();
        }
    }

    /** The page runs under its policy: the browser reported no violation (no inline code, no other origin). */
    @AfterEach
    void theBrowserRefusedNothingUnderThePolicy() {
        List<String> refused = browser.manage().logs().get(LogType.BROWSER).getAll().stream()
                .map(LogEntry::getMessage).filter(m -> m.contains("Content Security Policy")).toList();
        assertEquals(List.of(), refused);
    }

    /** Opens the dashboard, giving the token when it asks (the first time in this tab). */
    @BeforeEach
    void openTheDashboard() {
        browser.get(url("/ui"));
        By workerRow = By.cssSelector("#workers tr[data-id='" + workerId + "']");
        wait.until(ExpectedConditions.or(ExpectedConditions.presenceOfElementLocated(workerRow),
                ExpectedConditions.visibilityOfElementLocated(By.id("login"))));
        if (browser.findElement(By.id("login")).isDisplayed()) {
            logIn(token);
        }
        wait.until(ExpectedConditions.presenceOfElementLocated(workerRow));
    }

    @Test
    void whenTheApiAsksForATokenThePageAsksForItKeepsItInTheTabAndSendsItInNoUrl() {
        JavascriptExecutor page = (JavascriptExecutor) browser;
        page.executeScript("sessionStorage.clear();");
        browser.navigate().refresh();
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("login")));
        assertEquals(0, browser.findElements(By.cssSelector("#workers tbody tr")).size(), "nothing shows without a token");

        logIn(ApiToken.generate());
        wait.until(ExpectedConditions.textToBePresentInElementLocated(By.id("status"), "unknown or revoked token"));
        assertTrue(browser.findElement(By.id("login")).isDisplayed(), "a wrong token is asked for again");

        logIn(token);
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#workers tr[data-id='" + workerId + "']")));
        assertFalse(browser.findElement(By.id("login")).isDisplayed());
        assertEquals(token, page.executeScript("return sessionStorage.getItem('jobscheduler.token');"));
        assertEquals(0L, page.executeScript("return localStorage.length;"), "nothing outlives the tab");
        assertEquals(List.of(), page.executeScript("return performance.getEntriesByType('resource')"
                + ".map(e => e.name).filter(n => n.includes(arguments[0]));", token), "no URL holds the token");
    }

    private void logIn(String value) {
        WebElement field = browser.findElement(By.id("token"));
        field.clear();
        field.sendKeys(value);
        browser.findElement(By.cssSelector("#login-form button")).click();
    }

    @Test
    void theWorkerIsListedAlive() {
        WebElement row = browser.findElement(By.cssSelector("#workers tr[data-id='" + workerId + "']"));
        assertEquals("alive", row.findElements(By.tagName("td")).get(2).getText());
    }

    @Test
    void aJobStartedFromTheFormShowsItsOutputLiveThenItsExitCode() throws Exception {
        Path go = work.resolve("go");
        startFromTheForm("sh", List.of("-c", "echo first; while [ ! -e go ]; do sleep 0.05; done; echo second; exit 4"));

        waitForText("output", "first\n");
        assertFalse(browser.findElement(By.id("overview")).isDisplayed(), "a job's page is a page of its own");
        assertEquals("RUNNING", text("job-state"), "the job runs while its first line shows");
        assertEquals("-", text("job-exit"));

        Files.createFile(go);
        waitForText("output", "first\nsecond\n");
        wait.until(ExpectedConditions.textToBe(By.id("job-exit"), "4"));
        assertEquals("FAILED", text("job-state"));
        assertEquals("(ended)", text("follow-state"));
        assertFalse(browser.findElement(By.id("stop")).isEnabled(), "a finished job cannot be stopped");
    }

    @Test
    void theStopButtonStopsARunningJob() {
        startFromTheForm("sleep", List.of("600"));
        wait.until(ExpectedConditions.textToBe(By.id("job-state"), "RUNNING"));
        browser.findElement(By.id("stop")).click();
        wait.until(ExpectedConditions.textToBe(By.id("job-state"), "STOPPED"));
        assertEquals("signal 15", text("job-exit"));
        assertEquals("", text("stop-error"));
    }

    @Test
    void outputThatLooksLikeMarkupIsShownAsText() {
        String markup = "<script>window.injected = 1</script><b>bold</b><img src=x onerror=\"window.injected = 2\">";
        startFromTheForm("printf", List.of("%s", markup));
        wait.until(ExpectedConditions.textToBe(By.id("job-exit"), "0"));
        waitForText("output", markup);
        assertEquals(0, browser.findElements(By.cssSelector("#output *")).size(), "no element inside the output");
        assertEquals(null, ((JavascriptExecutor) browser).executeScript("return window.injected;"));
    }

    @Test
    void jobsStartedElsewhereAppearAndChangeStateWithoutAReloadAndPageByTheFilters() throws Exception {
        new Select(browser.findElement(By.id("filter-limit"))).selectByValue("10");
        String first = startThroughTheApi("exit 7");
        for (int i = 0; i < 10; i++) {
            startThroughTheApi("exit 0");
        }
        String watched = startThroughTheApi("while [ ! -e done ]; do sleep 0.05; done");
        By watchedState = By.cssSelector("#jobs tr[data-id='" + watched + "'] td:nth-child(2)");
        wait.until(ExpectedConditions.textToBe(watchedState, "RUNNING"));
        Files.createFile(work.resolve("done"));
        wait.until(ExpectedConditions.textToBe(watchedState, "SUCCEEDED"));

        // 12 jobs at 10 a page: the oldest is on the second.
        assertEquals(10, browser.findElements(By.cssSelector("#jobs tbody tr")).size());
        browser.findElement(By.id("older")).click();
        wait.until(ExpectedConditions.textToBe(By.id("page"), "page 2"));
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#jobs tr[data-id='" + first + "']")));

        browser.findElement(By.cssSelector("#filters input[value=FAILED]")).click();
        wait.until(ExpectedConditions.textToBe(By.id("page"), "page 1"));
        wait.until(driver -> driver.findElements(By.cssSelector("#jobs tbody tr")).stream()
                .allMatch(row -> row.findElements(By.tagName("td")).get(1).getText().equals("FAILED"))
                && !driver.findElements(By.cssSelector("#jobs tr[data-id='" + first + "']")).isEmpty());
    }

    @Test
    void onAPhoneNeitherTheListsNorAJobsPageAreWiderThanTheScreen() throws Exception {
        browser.manage().window().setSize(new Dimension(390, 844));
        try {
            browser.navigate().refresh();
            wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#workers tr[data-id='" + workerId + "']")));
            assertEquals(0L, overflow(), "the overview scrolls sideways only inside its tables");
            String job = startThroughTheApi("printf '%0500d' 0");   // one line far wider than the screen
            browser.get(url("/ui#job=" + job));
            wait.until(ExpectedConditions.textToBe(By.id("job-exit"), "0"));
            assertEquals(0L, overflow(), "a job's page wraps its output");
        } finally {
            browser.manage().window().setSize(new Dimension(1280, 1000));
        }
    }

    /** How much wider than the window the page is. */
    private long overflow() {
        return (Long) ((JavascriptExecutor) browser).executeScript(
                "return Math.max(0, document.documentElement.scrollWidth - window.innerWidth);");
    }

    private void startFromTheForm(String command, List<String> args) {
        browser.findElement(By.id("start-command")).sendKeys(command);
        browser.findElement(By.id("start-args")).sendKeys(String.join("\n", args));
        wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("#start-worker option[value='" + workerId + "']")));
        new Select(browser.findElement(By.id("start-worker"))).selectByValue(workerId);
        browser.findElement(By.id("start-submit")).click();
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.id("job-page")));
        assertEquals("", text("start-error"));
    }

    private String startThroughTheApi(String script) throws Exception {
        String body = JSON.writeValueAsString(Map.of("worker_id", workerId, "command", "sh", "args", List.of("-c", script)));
        HttpResponse<String> started = http.send(HttpRequest.newBuilder(URI.create(url("/start")))
                .header("Authorization", "Bearer " + token).POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(201, started.statusCode(), started.body());
        return JSON.readTree(started.body()).path("job_id").asText();
    }

    private void waitForText(String id, String expected) {
        // textContent, not getText(): that is the rendered text, which trims and folds whitespace.
        wait.until(driver -> expected.equals(driver.findElement(By.id(id)).getDomProperty("textContent")));
    }

    private String text(String id) {
        return browser.findElement(By.id(id)).getText();
    }

    private String url(String path) {
        return "http://127.0.0.1:" + scheduler.httpPort() + path;
    }
}
