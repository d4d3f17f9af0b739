package io.pgchat.testing;

import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.NoSuchElementException;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WindowType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The system's headless Chromium, driven through the system's chromedriver (Selenium downloads
 * nothing when both are given), with a fresh profile each: one Browser is one person.
 */
public final class Browser implements AutoCloseable {

    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    static final Path SCREENSHOTS = Path.of("target", "screenshots");
    private static final Duration WAIT = Duration.ofSeconds(20);
    // CDP commands go through chromedriver, not Selenium's per-version DevTools classes: their warning
    // that none matches this Chromium is noise. Held here, as java.util.logging keeps loggers weakly.
    private static final List<Logger> QUIET = Stream.of("org.openqa.selenium.devtools.CdpVersionFinder",
            "org.openqa.selenium.chromium.ChromiumDriver").map(Logger::getLogger).toList();

    static {
        QUIET.forEach(logger -> logger.setLevel(Level.SEVERE));
    }

    public final ChromeDriver driver;
    private final Path profile;
    private String window;
    // Without motion, a screenshot or a check never catches the drawer halfway.
    private final Map<String, String> media = new LinkedHashMap<>(Map.of("prefers-reduced-motion", "reduce"));

    private Browser(ChromeDriver driver, Path profile) {
        this.driver = driver;
        this.profile = profile;
        this.window = driver.getWindowHandle();
        // A page that cannot get a connection (a browser allows 6 per server) fails the test, not hangs it.
        driver.manage().timeouts().pageLoadTimeout(WAIT);
        emulateMedia();
    }

    /** Skips the test without Chromium, unless the run requires browser tests (CI does: it installs them). */
    public static void assumeInstalled() {
        boolean installed = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
        if (!installed && "required".equals(System.getenv("PGCHAT_BROWSER_TESTS"))) {
            fail("PGCHAT_BROWSER_TESTS=required but " + CHROMIUM + " or " + CHROMEDRIVER + " is missing");
        }
        assumeTrue(installed, "Browser tests skipped: " + CHROMIUM + " and " + CHROMEDRIVER
                + " are needed (Debian: apt-get install chromium chromium-driver)");
    }

    /** A desktop-sized window; {@link #phone()} turns it into a phone. Arguments are added to Chromium's. */
    public static Browser start(String... arguments) throws IOException {
        Path profile = Files.createTempDirectory("pgchat-chromium-");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        // Without the background-networking switches Chromium keeps calling Google's services, which
        // on a closed network only costs time.
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--disable-extensions", "--lang=en-US", "--window-size=1280,800",
                "--user-data-dir=" + profile);
        options.addArguments(arguments);
        options.setCapability("goog:loggingPrefs", Map.of(LogType.BROWSER, "ALL"));
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort()
                .withSilent(true)
                .build();
        try {
            return new Browser(new ChromeDriver(service, options), profile);
        } catch (RuntimeException e) {
            delete(profile);
            throw e;
        }
    }

    public Browser open(URI uri) {
        driver.get(uri.toString());
        return this;
    }

    /** A new tab of this browser (the same profile: storage, locks and connections are shared), now in use. */
    String newTab() {
        driver.switchTo().newWindow(WindowType.TAB);
        window = driver.getWindowHandle();
        return window;
    }

    /** Commands go to this tab from now on. */
    public void use(String tab) {
        if (!tab.equals(window)) {
            driver.switchTo().window(tab);
            window = tab;
        }
    }

    /** Closes the tab as a person does; commands then go to another open tab. */
    public void closeTab(String tab) {
        use(tab);
        driver.close();
        use(driver.getWindowHandles().iterator().next());
    }

    public Object js(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    /** 375 x 740 CSS pixels at twice the density, as a phone shows a page. */
    public void phone() {
        driver.executeCdpCommand("Emulation.setDeviceMetricsOverride",
                Map.of("width", 375, "height", 740, "deviceScaleFactor", 2, "mobile", true));
    }

    public void darkMode() {
        media.put("prefers-color-scheme", "dark");
        emulateMedia();
    }

    private void emulateMedia() {
        driver.executeCdpCommand("Emulation.setEmulatedMedia", Map.of("features", media.entrySet().stream()
                .map(feature -> Map.of("name", feature.getKey(), "value", feature.getValue())).toList()));
    }

    public void timeZone(String zone) {
        driver.executeCdpCommand("Emulation.setTimezoneOverride", Map.of("timezoneId", zone));
    }

    public void screenshot(String name) {
        try {
            Files.createDirectories(SCREENSHOTS);
            Files.write(SCREENSHOTS.resolve(name + ".png"), driver.getScreenshotAs(OutputType.BYTES));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Errors the page logged: script errors, refused policies, failed requests. */
    public List<String> consoleErrors() {
        return driver.manage().logs().get(LogType.BROWSER).getAll().stream()
                .filter(entry -> entry.getLevel().intValue() >= Level.SEVERE.intValue())
                .map(LogEntry::getMessage)
                .toList();
    }

    public void await(String what, BooleanSupplier condition) {
        awaitEquals(true, condition::getAsBoolean, what);
    }

    /** Polls until {@code actual} gives {@code expected}; fails with the last value seen after the deadline. */
    public <T> void awaitEquals(T expected, Supplier<T> actual, String what) {
        AtomicReference<T> seen = new AtomicReference<>();
        try {
            Await.until(WAIT, Duration.ofMillis(50), () -> what + ": expected <" + expected + "> but was <" + seen.get() + ">",
                    () -> {
                        seen.set(current(actual));
                        return Objects.equals(expected, seen.get());
                    });
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for " + what, e);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new AssertionError(e); // the condition throws nothing checked
        }
    }

    private static <T> T current(Supplier<T> actual) {
        try {
            return actual.get();
        } catch (NoSuchElementException | StaleElementReferenceException e) {
            return null; // the page is changing under us: look again
        }
    }

    @Override
    public void close() {
        try {
            driver.quit();
        } finally {
            delete(profile);
        }
    }

    private static void delete(Path directory) {
        try (Stream<Path> paths = Files.walk(directory)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException e) {
            // A temporary profile left behind harms nothing.
        }
    }
}
