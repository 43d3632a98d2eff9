package io.linkbase.devstack.dev;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.linkbase.devstack.DevstackException;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code bin/linkbase dev --demo}: a small music database (artist, album, track) in tenant
 * {@code demo}, loaded through the public HTTP API like any client would, with album.Artist linked
 * and track.Album left as text for the README's walkthrough to link. Loading again finds it there
 * and only prints the token and ids.
 */
public final class DemoData {
    public static final String TENANT = "demo";
    /** The tenant {@code bin/linkbase dev} without {@code --demo} signs the web UI into (empty at first). */
    static final String DEV_TENANT = "dev";
    /** How long the owner tokens printed by {@code bin/linkbase dev} are valid. */
    private static final long OWNER_TOKEN_SECONDS = 30L * 24 * 3600;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private static final String[][] ARTISTS = {
        {"Beyoncé", "US"}, {"Motörhead", "GB"}, {"Björk", "IS"}, {"Sigur Rós", "IS"}, {"Mötley Crüe", "US"},
        {"Daft Punk", "FR"}, {"Nina Simone", "US"}, {"Radiohead", "GB"}, {"Rosalía", "ES"}, {"Caetano Veloso", "BR"}};
    /** title, year, artist index. */
    private static final Object[][] ALBUMS = {
        {"Lemonade", 2016, 0}, {"Renaissance", 2022, 0}, {"Ace of Spades", 1980, 1}, {"Homogenic", 1997, 2},
        {"Vespertine", 2001, 2}, {"Ágætis byrjun", 1999, 3}, {"Dr. Feelgood", 1989, 4}, {"Discovery", 2001, 5},
        {"Pastel Blues", 1965, 6}, {"OK Computer", 1997, 7}, {"Kid A", 2000, 7}, {"Motomami", 2022, 8},
        {"Transa", 1972, 9}};
    /** title, length, album index. */
    private static final Object[][] TRACKS = {
        {"Formation", "PT3M26S", 0}, {"Hold Up", "PT3M41S", 0}, {"Cuff It", "PT3M45S", 1}, {"Ace of Spades", "PT2M49S", 2},
        {"Jóga", "PT5M5S", 3}, {"Bachelorette", "PT5M16S", 3}, {"Pagan Poetry", "PT5M14S", 4}, {"Svefn-g-englar", "PT10M4S", 5},
        {"Starálfur", "PT6M47S", 5}, {"Kickstart My Heart", "PT4M43S", 6}, {"One More Time", "PT5M20S", 7},
        {"Digital Love", "PT4M58S", 7}, {"Sinnerman", "PT10M19S", 8}, {"Paranoid Android", "PT6M23S", 9},
        {"Karma Police", "PT4M21S", 9}, {"Everything in Its Right Place", "PT4M11S", 10}, {"Saoko", "PT2M17S", 11},
        {"Candy", "PT3M13S", 11}, {"You Don't Know Me", "PT3M50S", 12}};

    private final String baseUrl;
    private final String secret;

    public DemoData(String baseUrl, String secret) {
        this.baseUrl = baseUrl;
        this.secret = secret;
    }

    /** Loads the demo tenant (if not there yet) and returns the lines to print. */
    public List<String> load() {
        String admin = token("platform", "platform-admin", 3600);
        String owner = token(TENANT, "owner", OWNER_TOKEN_SECONDS);
        call("PUT", "/api/v1/tenants/" + TENANT, admin, null, 200, 201);
        Map<String, JsonNode> tables = new LinkedHashMap<>();
        for (JsonNode t : call("GET", "/api/v1/tables", owner, null, 200).get("tables")) {
            tables.put(t.get("name").asText(), t);
        }
        if (!tables.containsKey("track")) {
            JsonNode artist = createTable(owner, "artist", "{\"name\":\"Name\"}", "{\"name\":\"Country\"}");
            JsonNode album = createTable(owner, "album", "{\"name\":\"Title\"}", "{\"name\":\"Year\",\"type\":\"integer\"}",
                "{\"name\":\"Artist\"}");
            JsonNode track = createTable(owner, "track", "{\"name\":\"Title\"}", "{\"name\":\"Length\",\"type\":\"duration\"}",
                "{\"name\":\"Album\"}");
            List<Long> artists = batch(owner, artist, ARTISTS.length, i -> Map.of("Name", ARTISTS[i][0], "Country", ARTISTS[i][1]));
            List<Long> albums = batch(owner, album, ALBUMS.length, i -> Map.of("Title", ALBUMS[i][0], "Year", ALBUMS[i][1],
                "Artist", Long.toString(artists.get((Integer) ALBUMS[i][2]))));
            batch(owner, track, TRACKS.length, i -> Map.of("Title", TRACKS[i][0], "Length", TRACKS[i][1],
                "Album", Long.toString(albums.get((Integer) TRACKS[i][2]))));
            // Two tracks typed by hand before any link: a title and a padded id. Linking track.Album
            // (the README's walkthrough) keeps the exact ids and clears these two.
            batch(owner, track, 2, i -> Map.of("Title", i == 0 ? "Idioteque" : "Army of Me",
                "Album", i == 0 ? "Kid A" : "0" + albums.get(3)));
            link(owner, album, "Artist", artist);
            tables.put("artist", artist);
            tables.put("album", album);
            tables.put("track", call("GET", "/api/v1/tables/" + track.get("id").asText(), owner, null, 200));
        }
        JsonNode track = tables.get("track");
        List<String> lines = new ArrayList<>();
        lines.add("# the demo music database (tenant 'demo'); paste these into your shell:");
        lines.add("export TOKEN=" + owner);
        lines.add("export ARTIST=" + tables.get("artist").get("id").asText()
            + " ALBUM=" + tables.get("album").get("id").asText() + " TRACK=" + track.get("id").asText());
        lines.add("export TRACK_ALBUM=" + columnId(track, "Album") + " TRACK_TITLE=" + columnId(track, "Title"));
        return lines;
    }

    /**
     * The link that opens the web UI signed in as an owner of {@code tenant} (provisioned if it is
     * not yet): the token is in the URL fragment, which the browser never sends to the server.
     */
    public String uiLink(String tenant) {
        call("PUT", "/api/v1/tenants/" + tenant, token("platform", "platform-admin", 3600), null, 200, 201);
        return baseUrl + "/#token=" + token(tenant, "owner", OWNER_TOKEN_SECONDS);
    }

    private JsonNode createTable(String token, String name, String... columns) {
        return call("POST", "/api/v1/tables", token,
            "{\"name\":\"" + name + "\",\"columns\":[" + String.join(",", columns) + "]}", 201);
    }

    private List<Long> batch(String token, JsonNode table, int n, java.util.function.IntFunction<Map<String, Object>> row) {
        ArrayNode records = JSON.createArrayNode();
        for (int i = 0; i < n; i++) {
            ObjectNode values = records.addObject().putObject("values");
            for (Map.Entry<String, Object> e : row.apply(i).entrySet()) {
                values.set(columnId(table, e.getKey()), JSON.valueToTree(e.getValue()));
            }
        }
        ObjectNode body = JSON.createObjectNode();
        body.set("records", records);
        List<Long> ids = new ArrayList<>();
        call("POST", "/api/v1/tables/" + table.get("id").asText() + "/records/batch", token, body.toString(), 201)
            .get("ids").forEach(id -> ids.add(id.asLong()));
        return ids;
    }

    private void link(String token, JsonNode table, String column, JsonNode target) {
        call("PUT", "/api/v1/tables/" + table.get("id").asText() + "/columns/" + columnId(table, column) + "/link?wait=30",
            token, "{\"targetTableId\":\"" + target.get("id").asText() + "\"}", 200, 202);
    }

    private static String columnId(JsonNode table, String name) {
        for (JsonNode c : table.get("columns")) {
            if (c.get("name").asText().equals(name)) {
                return c.get("id").asText();
            }
        }
        throw new DevstackException("demo: no column " + name + " in " + table.get("name"));
    }

    private JsonNode call(String method, String path, String token, String body, int... expected) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(Duration.ofSeconds(60))
            .header("Authorization", "Bearer " + token)
            .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        try {
            HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
            for (int e : expected) {
                if (r.statusCode() == e) {
                    return r.body().isBlank() ? JSON.createObjectNode() : JSON.readTree(r.body());
                }
            }
            throw new DevstackException("demo: " + method + " " + path + " answered " + r.statusCode() + ": " + r.body());
        } catch (IOException e) {
            throw new DevstackException("demo: " + method + " " + path + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DevstackException("demo: interrupted");
        }
    }

    /** An HS256 token signed with the gateway's secret, as an identity provider would issue. */
    private String token(String tenant, String role, long seconds) {
        return io.linkbase.devstack.Tokens.hs256(secret, "demo", tenant, List.of(role), java.time.Duration.ofSeconds(seconds));
    }
}
