package io.linkbase.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import io.linkbase.devstack.dev.DemoData;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.openqa.selenium.By;
import org.openqa.selenium.Keys;
import org.openqa.selenium.WebElement;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static io.linkbase.e2e.UserStoryHttpE2EIT.column;
import static io.linkbase.e2e.UserStoryHttpE2EIT.columnId;
import static io.linkbase.e2e.UserStoryHttpE2EIT.created;
import static io.linkbase.e2e.UserStoryHttpE2EIT.ok;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The web UI in a real Chromium against the whole system: the user's story of ARCHITECTURE.md
 * click by click (tables, "Add new column", the link dialog with its preview, the record picker by
 * keyboard, "Add a new record", unlink keeping a duration, the history), the --demo link, a phone
 * sized screen, and how the static files are served.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WebUiE2EIT {
    private Browser browser;

    @BeforeAll
    void start() {
        Stack.services();
        browser = new Browser(1280, 800);
    }

    @AfterAll
    void stop() {
        if (browser != null) {
            browser.close();
        }
    }

    @Test
    void theUiIsServedWithoutATokenAndTheApiStillNeedsOne() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        for (String[] file : new String[][] {{"/", "text/html"}, {"/index.html", "text/html"},
            {"/app/main.js", "javascript"}, {"/app/picker.js", "javascript"}, {"/app/app.css", "text/css"}}) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(Stack.gatewayUrl() + file[0])).build(),
                HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as(file[0]).isEqualTo(200);
            assertThat(r.headers().firstValue("Content-Type").orElse("")).as(file[0]).contains(file[1]);
            assertThat(r.headers().firstValue("Content-Security-Policy").orElse("")).as(file[0])
                .contains("script-src 'self'").doesNotContain("unsafe");
        }
        assertThat(new Api(null).get("/api/v1/tables").status()).isEqualTo(401);
        assertThat(new Api(null).get("/app/nothing-here.js").status()).isEqualTo(404);
    }

    @Test
    void theWholeStoryClickByClick() {
        String tenant = "ui-" + UUID.randomUUID().toString().substring(0, 8);
        assertThat(new Api(Stack.adminToken()).put("/api/v1/tenants/" + tenant, null).status()).isEqualTo(201);
        Api owner = new Api(Stack.token(tenant, "owner"));
        browser.resize(1280, 800);
        browser.driver.get(Stack.gatewayUrl() + "/#token=" + owner.token());

        // Signed in from the link; the token left the address bar. An empty tenant says what to do.
        browser.visible(By.id("welcome"));
        assertThat(browser.driver.getCurrentUrl()).doesNotContain("token");

        // Create the tables artist and track from the sidebar.
        createTable("artist");
        createTable("track");
        JsonNode artist = table(owner, "artist");
        JsonNode track = table(owner, "track");

        // "Add new column" in artist: a text column "Column 1" at once; rename it Name, make it the summary.
        openTable("artist");
        browser.click(By.id("add-column"));
        header("Column 1");
        browser.until(d -> header("Column 1").getText().contains("text"));
        columnMenu("Column 1", "col-rename");
        typeInto(By.id("prompt-input"), "Name");
        header("Name");
        columnMenu("Name", "col-display");
        browser.until(d -> table(owner, "artist").get("displayColumnId").asText().equals(columnId(table(owner, "artist"), "Name")));

        // Records through the grid: "+ New record" opens the editor on the first column.
        String name = columnId(table(owner, "artist"), "Name");
        for (String n : List.of("Beyoncé", "Björk", "Motörhead")) {
            browser.click(By.id("add-record"));
            browser.visible(By.cssSelector(".cell-input"));
            browser.keys(n, Keys.ENTER);
            browser.until(d -> d.findElements(By.cssSelector(".cell-input")).isEmpty());
        }
        browser.until(d -> records(owner, artist).size() == 3);
        List<JsonNode> artists = records(owner, artist);
        long bjork = artists.get(1).get("id").asLong();
        assertThat(artists.get(0).get("values").get(name).asText()).isEqualTo("Beyoncé");

        // An integer column and a value the API refuses: its message shows on the cell.
        browser.click(By.id("add-column"));
        columnMenu("Column 1", "col-type");
        new org.openqa.selenium.support.ui.Select(browser.visible(By.id("type-select"))).selectByValue("integer");
        browser.click(By.id("type-ok"));
        browser.until(d -> header("Column 1").getText().contains("integer"));
        browser.click(cellAt(artists.get(0).get("id").asLong(), columnId(table(owner, "artist"), "Column 1")));
        browser.keys("abc", Keys.ENTER);
        WebElement error = browser.visible(By.cssSelector(".editor-error"));
        assertThat(error.getText()).contains("whole number");
        browser.screenshot("cell-error");
        browser.keys(Keys.ESCAPE);

        // track: "Add new column", renamed Artist; values typed as text before any link.
        openTable("track");
        browser.click(By.id("add-column"));
        columnMenu("Column 1", "col-rename");
        typeInto(By.id("prompt-input"), "Artist");
        header("Artist");
        for (String v : List.of(Long.toString(bjork), "Beyonce", "")) {
            browser.click(By.id("add-record"));
            browser.visible(By.cssSelector(".cell-input"));
            browser.keys(v, Keys.ENTER);
            browser.until(d -> d.findElements(By.cssSelector(".cell-input")).isEmpty());
        }
        browser.until(d -> records(owner, track).size() == 3);
        List<JsonNode> tracks = records(owner, track);
        String artistCol = columnId(table(owner, "track"), "Artist");

        // Link to another table: artist preselected (the other table), its primary key preselected;
        // the preview shows the value that does not exactly match, before anything changes.
        columnMenu("Artist", "col-link");
        WebElement preview = browser.visible(By.id("preview-cleared"));
        assertThat(new org.openqa.selenium.support.ui.Select(browser.visible(By.id("link-table")))
            .getFirstSelectedOption().getText()).isEqualTo("artist");
        assertThat(new org.openqa.selenium.support.ui.Select(browser.visible(By.id("link-column")))
            .getFirstSelectedOption().getText()).contains("id").contains("primary key");
        assertThat(preview.getText()).isEqualTo("1");
        assertThat(browser.visible(By.id("preview-kept")).getText()).isEqualTo("1");
        assertThat(browser.visible(By.id("preview-samples")).getText()).contains("Beyonce");
        assertThat(browser.visible(By.id("link-confirm")).getText()).isEqualTo("Link and clear 1 value");
        browser.screenshot("link-dialog");
        browser.click(By.id("link-confirm"));

        // The column is linked: integer, its cells show the linked record's summary.
        browser.until(d -> header("Artist").getText().contains("→ artist") && linkSettled("Artist")
            && header("Artist").getText().contains("integer"));
        browser.until(d -> cell(tracks.get(0).get("id").asLong(), artistCol).getText().contains("Björk"));
        assertThat(cell(tracks.get(1).get("id").asLong(), artistCol).getText()).doesNotContain("Beyonce");

        // The picker, keyboard only: from the cleared cell, Enter opens it, typing searches at once,
        // the matched prefix is highlighted, arrows move, Enter chooses.
        browser.click(cellAt(tracks.get(0).get("id").asLong(), artistCol));
        browser.keys(Keys.ARROW_DOWN, Keys.ENTER);
        WebElement combo = browser.visible(By.cssSelector("input[role=combobox]"));
        assertThat(combo.getAttribute("aria-expanded")).isEqualTo("true");
        browser.keys("bey");
        browser.until(d -> "bey".equals(d.findElement(By.cssSelector("[role=listbox]")).getDomAttribute("data-q")));
        List<WebElement> options = browser.driver.findElements(By.cssSelector("[role=option]"));
        assertThat(options).hasSize(1);
        assertThat(options.get(0).findElement(By.tagName("mark")).getText()).isEqualTo("Bey");
        assertThat(combo.getAttribute("aria-activedescendant")).isEqualTo(options.get(0).getAttribute("id"));
        browser.keys(Keys.BACK_SPACE, Keys.BACK_SPACE, Keys.BACK_SPACE, "b");
        browser.until(d -> "b".equals(d.findElement(By.cssSelector("[role=listbox]")).getDomAttribute("data-q")));
        browser.screenshot("picker");
        browser.keys(Keys.ARROW_DOWN);
        String second = browser.driver.findElements(By.cssSelector("[role=option]")).get(1).getText();
        browser.keys(Keys.ARROW_UP);
        browser.keys("ey", Keys.ENTER); // Enter right after typing: chooses from the answer for "bey"
        browser.until(d -> d.findElements(By.cssSelector("input[role=combobox]")).isEmpty());
        assertThat(second).isNotBlank();
        browser.until(d -> cell(tracks.get(1).get("id").asLong(), artistCol).getText().contains("Beyoncé"));
        cellFocused(artistCol);

        // Escape cancels; no match offers "Add a new record: <text>", which creates and stores it.
        browser.keys(Keys.ARROW_DOWN, Keys.ENTER, "zz", Keys.ESCAPE);
        browser.until(d -> d.findElements(By.cssSelector("input[role=combobox]")).isEmpty());
        cellFocused(artistCol);
        browser.keys(Keys.ENTER, "Rosalía");
        browser.until(d -> d.findElement(By.cssSelector("[role=option].create")).getText().contains("Add a new record: Rosalía"));
        browser.screenshot("picker-add-new");
        browser.keys(Keys.ENTER);
        browser.until(d -> cell(tracks.get(2).get("id").asLong(), artistCol).getText().contains("Rosalía"));
        assertThat(records(owner, artist)).extracting(r -> r.get("values").get(name).asText()).contains("Rosalía");
        JsonNode stored = ok(owner.get("/api/v1/tables/" + track.get("id").asText() + "/records/" + tracks.get(2).get("id").asLong()));
        assertThat(stored.get("links").get(artistCol).get("summary").asText()).isEqualTo("Rosalía");
        browser.screenshot("grid-linked");

        // Unlink keeps the linked column's type: a link to a unique duration column stays a duration.
        JsonNode song = created(owner.post("/api/v1/tables",
            "{\"name\":\"song\",\"columns\":[{\"name\":\"Length\",\"type\":\"duration\",\"unique\":true}]}"));
        created(owner.post("/api/v1/tables/" + song.get("id").asText() + "/records",
            "{\"values\":{\"" + columnId(song, "Length") + "\":\"PT3M25S\"}}"));
        browser.driver.navigate().refresh(); // the token stays for the session
        openTable("track");
        browser.click(By.id("add-column"));
        header("Column 1");
        String lengthCol = columnId(table(owner, "track"), "Column 1");
        browser.click(cellAt(tracks.get(0).get("id").asLong(), lengthCol));
        browser.keys(Keys.ENTER);
        browser.visible(By.cssSelector(".cell-input"));
        browser.keys("PT3M25S", Keys.ENTER);
        browser.until(d -> d.findElements(By.cssSelector(".cell-input")).isEmpty());
        columnMenu("Column 1", "col-link");
        new org.openqa.selenium.support.ui.Select(browser.visible(By.id("link-table"))).selectByVisibleText("song");
        new org.openqa.selenium.support.ui.Select(browser.visible(By.id("link-column"))).selectByVisibleText("Length · duration (unique)");
        browser.until(d -> d.findElement(By.id("preview-kept")).getText().equals("1")
            && d.findElement(By.id("preview-cleared")).getText().equals("0"));
        browser.click(By.id("link-confirm"));
        browser.until(d -> header("Column 1").getText().contains("→ song") && header("Column 1").getText().contains("duration")
            && linkSettled("Column 1"));
        columnMenu("Column 1", "col-unlink");
        browser.click(By.id("confirm-ok"));
        browser.until(d -> !header("Column 1").getText().contains("→") && header("Column 1").getText().contains("duration"));
        JsonNode unlinked = table(owner, "track");
        assertThat(unlinked.get("columns")).anySatisfy(c -> {
            assertThat(c.get("id").asText()).isEqualTo(lengthCol);
            assertThat(c.get("type").asText()).isEqualTo("duration");
            assertThat(c.get("link").isNull()).isTrue();
        });
        assertThat(cell(tracks.get(0).get("id").asLong(), lengthCol).getText()).isEqualTo("PT3M25S");

        // The history: linked and unlinked, each link with its kept and cleared counts — the live
        // one (Artist: 1 kept, 1 cleared) and the one just removed (Column 1: 1 kept, 0 cleared).
        browser.click(By.id("history-btn"));
        browser.until(d -> d.findElement(By.id("history-list")).getText().contains("Column unlinked"));
        String history = browser.visible(By.id("history-list")).getText();
        assertThat(history).contains("Column linked", "1 kept, 1 cleared", "1 kept, 0 cleared", "stays duration");
        browser.screenshot("history");
        browser.click(By.id("history-close"));

        // Errors in words: artist is the target of a link, so it cannot be deleted.
        browser.click(By.cssSelector("button[aria-label='Actions for table artist']"));
        browser.click(By.id("table-delete"));
        browser.click(By.id("confirm-ok"));
        assertThat(browser.visible(By.cssSelector("dialog .dialog-error")).getText()).contains("target of a link");
        browser.keys(Keys.ESCAPE);

        // Delete a record from its row.
        long gone = tracks.get(2).get("id").asLong();
        WebElement row = browser.visible(By.cssSelector(".grid-row[data-record='" + gone + "']"));
        new org.openqa.selenium.interactions.Actions(browser.driver).moveToElement(row).perform();
        browser.click(By.cssSelector("button[aria-label='Delete record " + gone + "']"));
        browser.click(By.id("confirm-ok"));
        browser.until(d -> d.findElements(By.cssSelector(".grid-row[data-record='" + gone + "']")).isEmpty());
        assertThat(owner.get("/api/v1/tables/" + track.get("id").asText() + "/records/" + gone).status()).isEqualTo(404);

        // Undo of a link: a text column linked to song's Length clears the value that is no
        // duration; "Undo link…" gives the column back its type and that value, as it was.
        browser.click(By.id("add-column"));
        header("Column 2");
        String undoCol = columnId(table(owner, "track"), "Column 2");
        long keptRow = tracks.get(0).get("id").asLong();
        long clearedRow = tracks.get(1).get("id").asLong();
        for (Map.Entry<Long, String> typed : Map.of(keptRow, "PT3M25S", clearedRow, "three minutes").entrySet()) {
            browser.click(cellAt(typed.getKey(), undoCol));
            browser.keys(Keys.ENTER);
            browser.visible(By.cssSelector(".cell-input"));
            browser.keys(typed.getValue(), Keys.ENTER);
            browser.until(d -> d.findElements(By.cssSelector(".cell-input")).isEmpty());
        }
        columnMenu("Column 2", "col-link");
        new org.openqa.selenium.support.ui.Select(browser.visible(By.id("link-table"))).selectByVisibleText("song");
        new org.openqa.selenium.support.ui.Select(browser.visible(By.id("link-column"))).selectByVisibleText("Length · duration (unique)");
        browser.until(d -> d.findElement(By.id("preview-kept")).getText().equals("1")
            && d.findElement(By.id("preview-cleared")).getText().equals("1"));
        browser.click(By.id("link-confirm"));
        browser.until(d -> header("Column 2").getText().contains("→ song") && linkSettled("Column 2"));
        assertThat(cell(clearedRow, undoCol).getText()).doesNotContain("three minutes");
        columnMenu("Column 2", "col-undo-link");
        assertThat(browser.visible(By.cssSelector("dialog p")).getText()).contains("the 1 value the link cleared");
        browser.click(By.id("confirm-ok"));
        browser.until(d -> !header("Column 2").getText().contains("→") && header("Column 2").getText().contains("text"));
        browser.until(d -> cell(clearedRow, undoCol).getText().equals("three minutes"));
        assertThat(cell(keptRow, undoCol).getText()).isEqualTo("PT3M25S");
        browser.screenshot("link-undone");
        assertThat(column(table(owner, "track"), undoCol).get("type").asText()).isEqualTo("text");

        // A phone-sized screen: the sidebar becomes a drawer.
        browser.phone(390, 844);
        browser.until(d -> d.findElement(By.id("menu-toggle")).isDisplayed());
        browser.until(d -> ((Number) browser.js("return document.getElementById('sidebar').getBoundingClientRect().right;")).doubleValue() <= 0);
        browser.screenshot("phone-grid");
        assertThat((Long) browser.js("return window.innerWidth;")).isEqualTo(390L);
        assertThat((Long) browser.js("return document.documentElement.scrollWidth;")).isEqualTo(390L); // only the grid scrolls sideways
        browser.click(By.id("menu-toggle"));
        browser.visible(By.cssSelector("#table-list button.table-link[data-table='" + artist.get("id").asText() + "']"));
        browser.until(d -> ((Number) browser.js("return document.getElementById('sidebar').getBoundingClientRect().left;")).doubleValue() == 0);
        browser.screenshot("phone-drawer");
        browser.click(By.cssSelector("#table-list button.table-link[data-table='" + artist.get("id").asText() + "']"));
        browser.until(d -> d.findElement(By.id("table-title")).getText().equals("artist"));
        browser.resize(1280, 800);
    }

    @Test
    void menusAndDialogsWorkWithTheKeyboardAlone() {
        String tenant = "ui-kb-" + UUID.randomUUID().toString().substring(0, 8);
        assertThat(new Api(Stack.adminToken()).put("/api/v1/tenants/" + tenant, null).status()).isEqualTo(201);
        Api owner = new Api(Stack.token(tenant, "owner"));
        assertThat(owner.post("/api/v1/tables", "{\"name\":\"kb\",\"columns\":[{\"name\":\"title\",\"type\":\"text\"}]}")
            .status()).isEqualTo(201);
        browser.resize(1280, 800);
        browser.driver.get(Stack.gatewayUrl() + "/#token=" + owner.token());
        browser.visible(By.xpath("//ul[@id='table-list']//button[@class='table-link' and text()='kb']"));

        // Tab to the table in the sidebar, open it with Enter.
        tabUntil(e -> "kb".equals(e.getText()) && e.getAttribute("class").contains("table-link"));
        browser.keys(Keys.ENTER);
        browser.until(d -> d.findElement(By.id("table-title")).getText().equals("kb"));
        header("title");

        // Tab to the column's header button; Enter opens its menu with the first item focused.
        tabUntil(e -> String.valueOf(e.getAttribute("aria-label")).startsWith("title, text"));
        browser.keys(Keys.ENTER);
        browser.until(d -> "menuitem".equals(browser.focused().getAttribute("role")));
        // Escape closes it and gives the focus back to the header button.
        browser.keys(Keys.ESCAPE);
        browser.until(d -> d.findElements(By.cssSelector("ul.menu")).isEmpty());
        assertThat(browser.focused().getAttribute("aria-label")).startsWith("title, text");

        // Enter again, arrows to "Rename…", Enter; the dialog's field has the focus: type, Enter.
        browser.keys(Keys.ENTER);
        browser.until(d -> "menuitem".equals(browser.focused().getAttribute("role")));
        for (int i = 0; i < 12 && !"col-rename".equals(browser.focused().getAttribute("id")); i++) {
            browser.keys(Keys.ARROW_DOWN);
        }
        assertThat(browser.focused().getAttribute("id")).isEqualTo("col-rename");
        browser.keys(Keys.ENTER);
        browser.until(d -> "prompt-input".equals(browser.focused().getAttribute("id")));
        browser.keys(Keys.END);
        for (int i = 0; i < "title".length(); i++) {
            browser.keys(Keys.BACK_SPACE);
        }
        browser.keys("headline", Keys.ENTER);
        browser.until(d -> d.findElements(By.id("prompt-input")).isEmpty());
        browser.until(d -> owner.get("/api/v1/tables").body().path("tables").get(0).path("columns").toString()
            .contains("\"headline\""));
        header("headline");
    }

    /** Whether the focused element is the one wanted; asked again if the page re-rendered it meanwhile. */
    private boolean focusedIs(java.util.function.Predicate<WebElement> wanted) {
        for (int attempt = 0; attempt < 5; attempt++) {
            try {
                WebElement f = browser.focused();
                return f != null && wanted.test(f);
            } catch (org.openqa.selenium.StaleElementReferenceException e) {
                // the grid drew its rows again between finding the element and reading it
            }
        }
        return false;
    }

    /** Presses Tab, as a keyboard user would, until the focused element is the one wanted (at most 60 times). */
    private void tabUntil(java.util.function.Predicate<WebElement> wanted) {
        for (int i = 0; i < 60; i++) {
            browser.keys(Keys.TAB);
            if (focusedIs(wanted)) {
                return;
            }
        }
        throw new AssertionError("Tab never reached the element; focused: " + browser.focused().getAttribute("outerHTML"));
    }

    @Test
    void theDemoLinkOpensTheDemoTables() {
        DemoData demo = new DemoData(Stack.gatewayUrl(), Stack.JWT_SECRET);
        demo.load();
        browser.resize(1280, 800);
        browser.driver.get(demo.uiLink(DemoData.TENANT));
        browser.until(d -> d.findElement(By.id("table-list")).getText().replace("⋯", "").lines()
            .map(String::strip).filter(s -> !s.isEmpty()).toList().equals(List.of("album", "artist", "track")));
        browser.until(d -> d.findElements(By.cssSelector(".grid-row[data-record]")).size() >= 13);
        assertThat(header("Artist").getText()).contains("→ artist");
        browser.until(d -> d.findElement(By.cssSelector(".grid-body")).getText().contains("Beyoncé"));
        browser.screenshot("demo-album");
    }

    @Test
    void aLargeTableIsPagedAsItScrollsWithOnlyTheRowsInViewInThePage() {
        String tenant = "ui-big-" + UUID.randomUUID().toString().substring(0, 8);
        assertThat(new Api(Stack.adminToken()).put("/api/v1/tenants/" + tenant, null).status()).isEqualTo(201);
        Api owner = new Api(Stack.token(tenant, "owner"));
        JsonNode big = created(owner.post("/api/v1/tables", "{\"name\":\"big\",\"columns\":[{\"name\":\"N\",\"type\":\"integer\"}]}"));
        String n = columnId(big, "N");
        StringBuilder body = new StringBuilder("{\"records\":[");
        for (int i = 1; i <= 1_000; i++) {
            body.append(i == 1 ? "" : ",").append("{\"values\":{\"").append(n).append("\":").append(i).append("}}");
        }
        List<Long> ids = UserStoryHttpE2EIT.ids(owner.post("/api/v1/tables/" + big.get("id").asText() + "/records/batch", body + "]}"));
        browser.resize(1280, 800);
        browser.driver.get(Stack.gatewayUrl() + "/#token=" + owner.token());
        browser.until(d -> d.findElement(By.id("table-title")).getText().equals("big"));
        browser.visible(By.cssSelector(".grid-row[data-record='" + ids.get(0) + "']"));
        // Scrolling to the end: the grid asks for the next pages (after=cursor) as the end comes into view.
        long last = ids.get(ids.size() - 1);
        browser.until(d -> {
            browser.js("const s = document.querySelector('.grid-scroll'); s.scrollTop = s.scrollHeight;");
            return !d.findElements(By.cssSelector(".grid-row[data-record='" + last + "']")).isEmpty();
        });
        assertThat(browser.visible(cellAt(last, n)).getText()).isEqualTo("1000");
        long rowsInPage = (Long) browser.js("return document.querySelectorAll('.grid-row[data-record]').length;");
        assertThat(rowsInPage).isBetween(10L, 60L);
        assertThat(browser.driver.findElements(By.cssSelector(".grid-row[data-record='" + ids.get(0) + "']"))).isEmpty();
        assertThat(browser.driver.findElements(By.cssSelector(".loading-row"))).isEmpty(); // no next page any more
    }

    /**
     * Keystroke → rendered results in the picker, measured in the page: from the input event
     * (performance.now() in a capturing listener) to the mutation that shows the answer for that
     * text (the listbox's data-q marker), and to the start of the next frame, which paints it.
     * Each keystroke waits for its answer. Printed, not asserted (docs/benchmarks.md).
     */
    @Test
    void pickerSpeedOnTheDemoData() {
        DemoData demo = new DemoData(Stack.gatewayUrl(), Stack.JWT_SECRET);
        demo.load();
        browser.resize(1280, 800);
        browser.driver.get(demo.uiLink(DemoData.TENANT));
        openTable("album");
        Api owner = new Api(Stack.token(DemoData.TENANT, "owner"));
        JsonNode album = table(owner, "album");
        long first = records(owner, album).get(0).get("id").asLong();
        List<String> queries = List.of("beyonc", "motorh", "bjork", "sigur r", "motley", "daft p", "nina s", "radioh",
            "rosali", "caetan", "Beyoncé", "Motörhead", "Björk", "Sigur Rós", "Mötley", "Daft", "Nina", "Radio", "Rosalía");
        List<String> typed = new java.util.ArrayList<>();
        long[][] latencies = typeAndMeasure(cellAt(first, columnId(album, "Artist")), queries, "Sigur Rós", typed);
        report("demo data (10 artists)", latencies);
        reportApi("demo data (10 artists)", owner, "/api/v1/tables/" + album.get("id").asText() + "/columns/"
            + columnId(album, "Artist") + "/suggestions", typed);
    }

    /**
     * The same on a table of {@code -Dlinkbase.bench.ui-targets} records (100,000 for
     * docs/benchmarks.md), loaded through the batch API; not part of the default build.
     */
    @Test
    void pickerSpeedOnALargeTargetTable() {
        int targets = Integer.getInteger("linkbase.bench.ui-targets", 0);
        org.junit.jupiter.api.Assumptions.assumeTrue(targets > 0, "opt in with -Dlinkbase.bench.ui-targets=100000");
        Api admin = new Api(Stack.adminToken());
        admin.put("/api/v1/tenants/" + Stack.BENCH_TENANT, null);
        Api owner = new Api(Stack.token(Stack.BENCH_TENANT, "owner"));
        String suffix = UUID.randomUUID().toString().substring(0, 6);
        JsonNode person = created(owner.post("/api/v1/tables",
            "{\"name\":\"person_" + suffix + "\",\"columns\":[{\"name\":\"Name\",\"type\":\"text\"}]}"));
        JsonNode visit = created(owner.post("/api/v1/tables",
            "{\"name\":\"visit_" + suffix + "\",\"columns\":[{\"name\":\"Person\",\"type\":\"text\"}]}"));
        String nameCol = columnId(person, "Name");
        java.util.Random random = new java.util.Random(13);
        String[] firsts = {"Ada", "Bruno", "Chloé", "Dmitri", "Elif", "Farah", "Gustav", "Hana", "Ines", "Jonas", "Kofi",
            "Lena", "Mateo", "Nadia", "Oskar", "Priya", "Quentin", "Rosa", "Sven", "Tomás", "Ulla", "Vera", "Wen", "Yusuf", "Zoë"};
        String[] syllables = {"ber", "lin", "ka", "mo", "ran", "det", "sol", "vik", "ur", "an", "es", "ho", "tre", "gal", "pi", "nu"};
        long t0 = System.nanoTime();
        for (int done = 0; done < targets; done += 10_000) {
            StringBuilder body = new StringBuilder("{\"records\":[");
            for (int i = 0; i < Math.min(10_000, targets - done); i++) {
                StringBuilder last = new StringBuilder();
                for (int k = 0; k < 2 + random.nextInt(2); k++) {
                    last.append(syllables[random.nextInt(syllables.length)]);
                }
                last.setCharAt(0, Character.toUpperCase(last.charAt(0)));
                body.append(i == 0 ? "" : ",").append("{\"values\":{\"").append(nameCol).append("\":\"")
                    .append(firsts[random.nextInt(firsts.length)]).append(' ').append(last).append("\"}}");
            }
            Api.Response r = owner.post("/api/v1/tables/" + person.get("id").asText() + "/records/batch", body.append("]}").toString());
            assertThat(r.status()).as(r.toString()).isEqualTo(201);
        }
        String personCol = columnId(visit, "Person");
        long visitId = created(owner.post("/api/v1/tables/" + visit.get("id").asText() + "/records", "{\"values\":{}}")).get("id").asLong();
        String link = "/api/v1/tables/" + visit.get("id").asText() + "/columns/" + personCol + "/link";
        assertThat(owner.put(link + "?wait=30", "{\"targetTableId\":\"" + person.get("id").asText() + "\"}").status()).isIn(200, 202);
        browser.waiting(Duration.ofMinutes(10)).until(d -> "ACTIVE".equals(owner.get(link).body().path("state").asText()));
        System.out.printf("[ui-bench] %,d target records loaded and suggestible in %,d ms%n", targets, (System.nanoTime() - t0) / 1_000_000);
        browser.resize(1280, 800);
        browser.driver.get(Stack.gatewayUrl() + "/#token=" + owner.token() + "&table=" + visit.get("id").asText());
        browser.until(d -> d.findElement(By.id("table-title")).getText().equals("visit_" + suffix));
        List<String> queries = List.of("ada ber", "bruno", "chloe li", "dmitri", "elif ka", "farah mo", "gustav", "hana ran",
            "ines de", "jonas so", "kofi vi", "lena ur", "mateo an", "nadia es", "oskar ho", "priya tr", "rosa gal", "sven pi");
        List<String> typed = new java.util.ArrayList<>();
        long[][] latencies = typeAndMeasure(cellAt(visitId, personCol), queries, null, typed);
        report(String.format("%,d target records", targets), latencies);
        reportApi(String.format("%,d target records", targets), owner, "/api/v1/tables/" + visit.get("id").asText()
            + "/columns/" + personCol + "/suggestions", typed);
    }

    /** Opens the picker on a cell, types each query char by char then clears it; [dom, frame] latencies in µs. */
    private long[][] typeAndMeasure(By cell, List<String> queries, String choose, List<String> typed) {
        browser.click(cell);
        browser.keys(Keys.ENTER);
        WebElement combo = browser.visible(By.cssSelector("input[role=combobox]"));
        browser.js("""
            const input = document.querySelector('input[role=combobox]');
            const list = document.getElementById(input.getAttribute('aria-controls'));
            const lb = window.__lbBench = { lat: [], pending: null };
            document.addEventListener('input', e => {
              if (e.target === input) lb.pending = { q: input.value, t0: performance.now() };
            }, true);
            new MutationObserver(() => {
              const p = lb.pending;
              if (!p || list.dataset.q !== p.q) return;
              const t1 = performance.now();
              lb.pending = null;
              requestAnimationFrame(() => lb.lat.push([t1 - p.t0, performance.now() - p.t0]));
            }).observe(list, { attributes: true, attributeFilter: ['data-q'], childList: true });
            """);
        int expected = 0;
        for (String q : queries) {
            for (int i = 0; i < q.length(); i++) {
                browser.keys(q.substring(i, i + 1));
                awaitMeasured(++expected);
                typed.add(q.substring(0, i + 1));
            }
            combo.sendKeys(Keys.chord(Keys.CONTROL, "a"), Keys.BACK_SPACE); // one keystroke empties it
            awaitMeasured(++expected);
            typed.add("");
        }
        @SuppressWarnings("unchecked")
        List<List<Number>> raw = (List<List<Number>>) browser.js("return window.__lbBench.lat;");
        assertThat(raw).hasSize(expected);
        if (choose != null) { // and the answers are right: typed at full speed, the best match comes first
            browser.keys(choose);
            browser.until(d -> choose.equals(d.findElement(By.cssSelector("[role=listbox]")).getDomAttribute("data-q")));
            assertThat(browser.driver.findElement(By.cssSelector("[role=option][aria-selected=true]")).getText()).startsWith(choose);
        }
        browser.keys(Keys.ESCAPE);
        long[][] out = new long[raw.size()][2];
        for (int i = 0; i < raw.size(); i++) {
            out[i][0] = Math.round(raw.get(i).get(0).doubleValue() * 1000);
            out[i][1] = Math.round(raw.get(i).get(1).doubleValue() * 1000);
        }
        return out;
    }

    private void awaitMeasured(int n) {
        browser.jsAsync("const n = arguments[0], done = arguments[arguments.length - 1];"
            + "(function wait() { if (window.__lbBench.lat.length >= n) done(true); else setTimeout(wait, 1); })();", n);
        try {
            Thread.sleep(20); // stays far below the test stack's per-user rate limit
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The same texts through the public HTTP API from the test JVM, one after another: what the browser adds is the difference. */
    private static void reportApi(String what, Api api, String path, List<String> typed) {
        org.HdrHistogram.Histogram h = new org.HdrHistogram.Histogram(3);
        for (String q : typed) {
            long t0 = System.nanoTime();
            Api.Response r = api.get(path + "?limit=10&q=" + java.net.URLEncoder.encode(q, java.nio.charset.StandardCharsets.UTF_8));
            h.recordValue(Math.max(1, (System.nanoTime() - t0) / 1000));
            assertThat(r.status()).as(r.toString()).isEqualTo(200);
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        System.out.printf("[ui-bench] the same %d texts through the HTTP API alone (test JVM, no browser), %s: p50 %.1f ms,"
            + " p95 %.1f ms, max %.1f ms%n", typed.size(), what, h.getValueAtPercentile(50) / 1000.0,
            h.getValueAtPercentile(95) / 1000.0, h.getMaxValue() / 1000.0);
    }

    private static void report(String what, long[][] latencies) {
        org.HdrHistogram.Histogram dom = new org.HdrHistogram.Histogram(3);
        org.HdrHistogram.Histogram frame = new org.HdrHistogram.Histogram(3);
        for (long[] l : latencies) {
            dom.recordValue(Math.max(1, l[0]));
            frame.recordValue(Math.max(1, l[1]));
        }
        System.out.printf("[ui-bench] picker, %s, %d keystrokes: keystroke -> results in the DOM p50 %.1f ms, p95 %.1f ms,"
                + " max %.1f ms; -> painted frame p50 %.1f ms, p95 %.1f ms, max %.1f ms%n", what, latencies.length,
            dom.getValueAtPercentile(50) / 1000.0, dom.getValueAtPercentile(95) / 1000.0, dom.getMaxValue() / 1000.0,
            frame.getValueAtPercentile(50) / 1000.0, frame.getValueAtPercentile(95) / 1000.0, frame.getMaxValue() / 1000.0);
    }

    // ---------------------------------------------------------------- helpers

    private void cellFocused(String columnId) {
        browser.until(d -> columnId.equals(browser.focused().getDomAttribute("data-column")));
    }

    private void createTable(String name) {
        browser.click(By.id(browser.driver.findElement(By.id("welcome")).isDisplayed() ? "welcome-new-table" : "new-table"));
        typeInto(By.id("prompt-input"), name);
        browser.until(d -> d.findElement(By.id("table-title")).getText().equals(name));
    }

    private void openTable(String name) {
        browser.click(By.xpath("//ul[@id='table-list']//button[@class='table-link' and text()='" + name + "']"));
        browser.until(d -> d.findElement(By.id("table-title")).getText().equals(name));
    }

    private void typeInto(By field, String text) {
        WebElement input = browser.visible(field);
        input.clear();
        input.sendKeys(text, Keys.ENTER);
        browser.until(d -> d.findElements(field).isEmpty());
    }

    private WebElement header(String name) {
        return browser.visible(headerAt(name));
    }

    private static By headerAt(String name) {
        return By.xpath("//button[contains(@class,'colhead-btn')][span[@class='colname' and text()='" + name + "']]");
    }

    /** The header shows no RECONCILING / INDEXING progress any more. */
    private boolean linkSettled(String column) {
        return header(column).findElements(By.cssSelector(".linkstate")).isEmpty();
    }

    private void columnMenu(String column, String item) {
        browser.click(headerAt(column));
        browser.click(By.id(item));
    }

    private WebElement cell(long recordId, String columnId) {
        return browser.visible(cellAt(recordId, columnId));
    }

    private static By cellAt(long recordId, String columnId) {
        return By.cssSelector(".grid-row[data-record='" + recordId + "'] [data-column='" + columnId + "']");
    }

    private static JsonNode table(Api api, String name) {
        for (JsonNode t : ok(api.get("/api/v1/tables")).get("tables")) {
            if (t.get("name").asText().equals(name)) {
                return t;
            }
        }
        throw new AssertionError("no table " + name);
    }

    private static List<JsonNode> records(Api api, JsonNode table) {
        List<JsonNode> out = new java.util.ArrayList<>();
        ok(api.get("/api/v1/tables/" + table.get("id").asText() + "/records?limit=1000")).get("records").forEach(out::add);
        return out;
    }
}
