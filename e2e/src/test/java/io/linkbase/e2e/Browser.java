package io.linkbase.e2e;

import io.linkbase.devstack.DataDirs;
import io.linkbase.devstack.ModuleProcess;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.ElementClickInterceptedException;
import org.openqa.selenium.ElementNotInteractableException;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.interactions.Actions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import java.util.logging.Level;

/**
 * A real Chromium (Debian's {@code chromium} and {@code chromium-driver}, installed by .ci/run),
 * headless, with a fresh profile, driven through Selenium. {@link #close()} quits the browser and
 * the driver and deletes the profile, whatever happened before.
 */
final class Browser implements AutoCloseable {
    static final String CHROMIUM = System.getProperty("linkbase.chromium", "/usr/bin/chromium");
    static final String CHROMEDRIVER = System.getProperty("linkbase.chromedriver", "/usr/bin/chromedriver");

    final ChromeDriver driver;
    private final Path profile;
    private final Path screenshots;

    Browser(int width, int height) {
        if (!new File(CHROMIUM).canExecute() || !new File(CHROMEDRIVER).canExecute()) {
            throw new IllegalStateException("the browser tests need Chromium and its driver at " + CHROMIUM + " and "
                + CHROMEDRIVER + ": apt-get install -y --no-install-recommends chromium chromium-driver (.ci/run does)");
        }
        try {
            profile = Files.createTempDirectory("linkbase-chromium-");
            screenshots = Files.createDirectories(ModuleProcess.repoRoot().resolve("e2e/target/screenshots"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM);
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--user-data-dir=" + profile, "--window-size=" + width + "," + height, "--lang=en-US");
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        ChromeDriverService service = new ChromeDriverService.Builder()
            .usingDriverExecutable(new File(CHROMEDRIVER)).usingAnyFreePort().build();
        try {
            driver = new ChromeDriver(service, options);
        } catch (RuntimeException e) {
            service.stop();
            DataDirs.deleteRecursively(profile);
            throw e;
        }
        driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(30));
    }

    WebDriverWait waiting(Duration timeout) {
        WebDriverWait wait = new WebDriverWait(driver, timeout, Duration.ofMillis(25));
        // The UI re-renders rows and lists: an element found a moment ago may be replaced.
        wait.ignoring(StaleElementReferenceException.class);
        wait.withMessage(() -> "page:\n" + pageText() + "\nbrowser log:\n" + consoleLog());
        return wait;
    }

    <T> T until(Function<org.openqa.selenium.WebDriver, T> condition) {
        return waiting(Duration.ofSeconds(30)).until(condition);
    }

    WebElement visible(By by) {
        return until(ExpectedConditions.visibilityOfElementLocated(by));
    }

    /** Clicks what {@code by} finds once it is visible and enabled (found again if it was re-rendered meanwhile). */
    WebElement click(By by) {
        return waiting(Duration.ofSeconds(30))
            .ignoring(ElementClickInterceptedException.class).ignoring(ElementNotInteractableException.class)
            .until(d -> {
                WebElement e = d.findElement(by);
                if (!e.isDisplayed() || !e.isEnabled()) {
                    return null;
                }
                e.click();
                return e;
            });
    }

    /** Keys typed into whatever has the focus, as a keyboard user would. */
    void keys(CharSequence... keys) {
        new Actions(driver).sendKeys(keys).perform();
    }

    WebElement focused() {
        return driver.switchTo().activeElement();
    }

    Object js(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    Object jsAsync(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeAsyncScript(script, args);
    }

    void resize(int width, int height) {
        driver.executeCdpCommand("Emulation.clearDeviceMetricsOverride", java.util.Map.of());
        driver.manage().window().setSize(new Dimension(width, height));
    }

    /** A phone's screen (Chromium's device emulation: a desktop window cannot be that narrow). */
    void phone(int width, int height) {
        driver.executeCdpCommand("Emulation.setDeviceMetricsOverride",
            java.util.Map.of("width", width, "height", height, "deviceScaleFactor", 2, "mobile", true));
    }

    /**
     * Saves a screenshot as e2e/target/screenshots/{name}.png, and into docs/screenshots when run
     * with -Dlinkbase.screenshots.update=true (how the README's pictures are made).
     */
    void screenshot(String name) {
        File png = driver.getScreenshotAs(OutputType.FILE);
        try {
            Path target = screenshots.resolve(name + ".png");
            Files.copy(png.toPath(), target, StandardCopyOption.REPLACE_EXISTING);
            if (Boolean.getBoolean("linkbase.screenshots.update")) {
                Path docs = Files.createDirectories(ModuleProcess.repoRoot().resolve("docs/screenshots"));
                Files.copy(target, docs.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } finally {
            png.delete();
        }
    }

    /** What the page shows (and a screenshot e2e/target/screenshots/failure-*.png), for a failure message. */
    String pageText() {
        try {
            screenshot("failure-" + System.currentTimeMillis());
            Object text = js("return document.body.innerText;");
            return String.valueOf(text);
        } catch (RuntimeException e) {
            return "(no page text: " + e + ")";
        }
    }

    String consoleLog() {
        try {
            List<LogEntry> entries = driver.manage().logs().get(LogType.BROWSER).getAll();
            StringBuilder out = new StringBuilder();
            entries.forEach(e -> out.append(e.getLevel()).append(' ').append(e.getMessage()).append('\n'));
            return out.toString();
        } catch (RuntimeException e) {
            return "(no browser log: " + e + ")";
        }
    }

    @Override
    public void close() {
        try {
            driver.quit(); // the browser, then the driver process
        } finally {
            DataDirs.deleteRecursively(profile);
        }
    }
}
