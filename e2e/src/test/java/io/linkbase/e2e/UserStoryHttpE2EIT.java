package io.linkbase.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The user's story of ARCHITECTURE.md through the public HTTP API, against the whole system:
 * add a column, pick a table to link to, preview, link with exact-match clearing, fill the
 * column through autocomplete (accents, ranking, "add a new record"), unlink.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class UserStoryHttpE2EIT {
    private String tenant;
    private Api owner;

    @BeforeAll
    void provision() {
        tenant = "story-" + UUID.randomUUID().toString().substring(0, 8);
        Api admin = new Api(Stack.adminToken());
        assertThat(admin.put("/api/v1/tenants/" + tenant, null).status()).isEqualTo(201);
        assertThat(admin.put("/api/v1/tenants/" + tenant, null).status()).isEqualTo(200);
        owner = new Api(Stack.token(tenant, "owner"));
    }

    @Test
    void linkingAColumnKeepsExactMatchesClearsTheRestAndFillsThroughAutocomplete() {
        // The user has tables artist and track.
        JsonNode artist = created(owner.post("/api/v1/tables",
            "{\"name\":\"artist\",\"columns\":[{\"name\":\"Name\",\"type\":\"text\"}]}"));
        JsonNode track = created(owner.post("/api/v1/tables",
            "{\"name\":\"track\",\"columns\":[{\"name\":\"Title\",\"type\":\"text\"}]}"));
        String artistId = artist.get("id").asText();
        String trackId = track.get("id").asText();
        String artistName = columnId(artist, "Name");
        String title = columnId(track, "Title");

        // 1. Add new column: a text column by default.
        JsonNode column = created(owner.post("/api/v1/tables/" + trackId + "/columns", "{}"));
        assertThat(column.get("type").asText()).isEqualTo("text");
        assertThat(column.get("name").asText()).isEqualTo("Column 1");
        assertThat(column.get("link").isNull()).isTrue();
        String col = column.get("id").asText();
        assertThat(owner.patch("/api/v1/tables/" + trackId + "/columns/" + col, "{\"name\":\"Artist\"}").status()).isEqualTo(200);

        List<Long> artists = ids(owner.post("/api/v1/tables/" + artistId + "/records/batch", "{\"records\":["
            + "{\"values\":{\"" + artistName + "\":\"Beyoncé\"}},"
            + "{\"values\":{\"" + artistName + "\":\"Motörhead\"}},"
            + "{\"values\":{\"" + artistName + "\":\"Björk\"}},"
            + "{\"values\":{\"" + artistName + "\":\"Beyond the Grave\"}},"
            + "{\"values\":{\"" + artistName + "\":\"Bey\"}}]}"));
        long beyonce = artists.get(0);
        long motorhead = artists.get(1);
        long bey = artists.get(4);
        // Values typed before the link: only exact canonical text of an artist id survives.
        Map<String, String> typed = new HashMap<>();
        typed.put("exact", "\"" + beyonce + "\"");
        typed.put("leading zero", "\"0" + beyonce + "\"");
        typed.put("space", "\" " + beyonce + "\"");
        typed.put("decimal", "\"" + beyonce + ".0\"");
        typed.put("name", "\"Beyoncé\"");
        typed.put("missing", "\"999999\"");
        typed.put("null", "null");
        typed.put("other", "\"" + motorhead + "\"");
        Map<String, Long> trackIds = new HashMap<>();
        for (Map.Entry<String, String> e : typed.entrySet()) {
            trackIds.put(e.getKey(), created(owner.post("/api/v1/tables/" + trackId + "/records",
                "{\"values\":{\"" + title + "\":\"" + e.getKey() + "\",\"" + col + "\":" + e.getValue() + "}}")).get("id").asLong());
        }

        // 2. Link to another table: candidates are every table, itself included, primary key preselected.
        JsonNode candidates = ok(owner.get("/api/v1/tables/" + trackId + "/columns/" + col + "/link-candidates")).get("tables");
        List<String> names = new ArrayList<>();
        candidates.forEach(t -> names.add(t.get("name").asText()));
        assertThat(names).contains("artist", "track").isSorted();
        JsonNode artistCandidate = candidates.get(names.indexOf("artist"));
        assertThat(artistCandidate.get("columns")).extracting(c -> c.get("name").asText()).containsExactly("id");
        assertThat(artistCandidate.get("defaultColumnId").asText()).isEqualTo(artist.get("primaryKeyColumnId").asText());

        // 3. Preview: kept and cleared, with samples, changing nothing.
        JsonNode preview = ok(owner.post("/api/v1/tables/" + trackId + "/columns/" + col + "/link/preview",
            "{\"targetTableId\":\"" + artistId + "\"}"));
        assertThat(preview.get("keptCount").asLong()).isEqualTo(2);
        assertThat(preview.get("clearedCount").asLong()).isEqualTo(5);
        assertThat(preview.get("clearedSamples")).extracting(s -> s.get("value").asText())
            .contains("0" + beyonce, " " + beyonce, beyonce + ".0", "Beyoncé", "999999");
        assertThat(ok(owner.get("/api/v1/tables/" + trackId)).get("columns")).anySatisfy(c ->
            assertThat(c.get("type").asText()).isEqualTo("text"));

        // Confirm: wait until the link is ACTIVE.
        Api.Response linked = owner.put("/api/v1/tables/" + trackId + "/columns/" + col + "/link?wait=30",
            "{\"targetTableId\":\"" + artistId + "\"}");
        assertThat(linked.status()).as(linked.toString()).isEqualTo(200);
        assertThat(linked.body().get("state").asText()).isEqualTo("ACTIVE");
        assertThat(linked.body().get("keptCount").asLong()).isEqualTo(2);
        assertThat(linked.body().get("clearedCount").asLong()).isEqualTo(5);
        assertThat(linked.body().get("targetColumnId").asText()).isEqualTo(artist.get("primaryKeyColumnId").asText());
        assertThat(linked.body().get("onDelete").asText()).isEqualTo("SET_NULL");
        JsonNode linkedColumn = column(ok(owner.get("/api/v1/tables/" + trackId)), col);
        assertThat(linkedColumn.get("type").asText()).isEqualTo("integer");
        assertThat(linkedColumn.get("link").get("state").asText()).isEqualTo("ACTIVE");

        Map<String, JsonNode> after = new HashMap<>();
        for (Map.Entry<String, Long> e : trackIds.entrySet()) {
            after.put(e.getKey(), ok(owner.get("/api/v1/tables/" + trackId + "/records/" + e.getValue())));
        }
        assertThat(after.get("exact").get("values").get(col).asLong()).isEqualTo(beyonce);
        assertThat(after.get("exact").get("links").get(col).get("summary").asText()).isEqualTo("Beyoncé");
        assertThat(after.get("other").get("values").get(col).asLong()).isEqualTo(motorhead);
        for (String cleared : List.of("leading zero", "space", "decimal", "name", "missing", "null")) {
            assertThat(after.get(cleared).get("values").get(col).isNull()).as(cleared).isTrue();
        }

        // 4. Autocomplete: accents folded, exact summary first, then summary prefix, then word prefixes.
        String suggest = "/api/v1/tables/" + trackId + "/columns/" + col + "/suggestions";
        JsonNode beyonceQ = ok(owner.get(suggest + "?q=beyonce"));
        assertThat(beyonceQ.get("suggestions").get(0).get("summary").asText()).isEqualTo("Beyoncé");
        assertThat(beyonceQ.get("suggestions").get(0).get("value").asLong()).isEqualTo(beyonce);
        assertThat(beyonceQ.get("createOption").isNull()).isTrue();
        assertThat(ok(owner.get(suggest + "?q=motor")).get("suggestions").get(0).get("recordId").asLong()).isEqualTo(motorhead);
        JsonNode beyQ = ok(owner.get(suggest + "?q=bey"));
        assertThat(beyQ.get("suggestions")).extracting(s -> s.get("recordId").asLong())
            .startsWith(bey).contains(beyonce, artists.get(3));
        JsonNode none = ok(owner.get(suggest + "?q=zaz"));
        assertThat(none.get("suggestions")).isEmpty();
        assertThat(none.get("createOption").get("text").asText()).isEqualTo("zaz");
        assertThat(ok(owner.get(suggest + "?q=")).get("suggestions").size()).isEqualTo(5);

        // "Add a new record" creates it in the linked table; it is suggested within 2 seconds.
        JsonNode added = created(owner.post(suggest, "{\"text\":\"Zaz\"}"));
        long zaz = added.get("recordId").asLong();
        assertThat(added.get("value").asLong()).isEqualTo(zaz);
        assertThat(added.get("summary").asText()).isEqualTo("Zaz");
        await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(100)).untilAsserted(() ->
            assertThat(ok(owner.get(suggest + "?q=za")).get("suggestions")).extracting(s -> s.get("recordId").asLong())
                .containsExactly(zaz));
        JsonNode filled = ok(owner.patch("/api/v1/tables/" + trackId + "/records/" + trackIds.get("null"),
            "{\"values\":{\"" + col + "\":" + zaz + "}}"));
        assertThat(filled.get("values").get(col).asLong()).isEqualTo(zaz);
        assertThat(filled.get("links").get(col).get("summary").asText()).isEqualTo("Zaz");
        // A linked column accepts only an existing target value.
        Api.Response dangling = owner.patch("/api/v1/tables/" + trackId + "/records/" + trackIds.get("null"),
            "{\"values\":{\"" + col + "\":999999}}");
        assertThat(dangling.status()).isEqualTo(400);
        assertThat(dangling.code()).isEqualTo("validation_failed");

        // 5. Unlink: the column keeps the type of the column it was linked to, and its values.
        assertThat(owner.delete("/api/v1/tables/" + trackId + "/columns/" + col + "/link?wait=10").status()).isEqualTo(200);
        assertThat(owner.get("/api/v1/tables/" + trackId + "/columns/" + col + "/link").status()).isEqualTo(404);
        JsonNode unlinked = column(ok(owner.get("/api/v1/tables/" + trackId)), col);
        assertThat(unlinked.get("type").asText()).isEqualTo("integer");
        assertThat(unlinked.get("link").isNull()).isTrue();
        assertThat(ok(owner.get("/api/v1/tables/" + trackId + "/records/" + trackIds.get("exact"))).get("values").get(col).asLong())
            .isEqualTo(beyonce);
        JsonNode history = ok(owner.get("/api/v1/tables/" + trackId + "/events")).get("events");
        assertThat(history).extracting(e -> e.get("type").asText()).contains("ColumnAdded", "ColumnLinked", "ColumnUnlinked");
    }

    @Test
    void unlinkingFromADurationColumnLeavesADurationColumn() {
        JsonNode song = created(owner.post("/api/v1/tables",
            "{\"name\":\"song\",\"columns\":[{\"name\":\"Title\",\"type\":\"text\"},{\"name\":\"Length\",\"type\":\"duration\",\"unique\":true}]}"));
        JsonNode plays = created(owner.post("/api/v1/tables",
            "{\"name\":\"plays\",\"columns\":[{\"name\":\"Heard\",\"type\":\"text\"}]}"));
        String songId = song.get("id").asText();
        String playsId = plays.get("id").asText();
        String length = columnId(song, "Length");
        String heard = columnId(plays, "Heard");
        created(owner.post("/api/v1/tables/" + songId + "/records",
            "{\"values\":{\"" + columnId(song, "Title") + "\":\"Halo\",\"" + length + "\":\"PT3M25S\"}}"));
        long kept = created(owner.post("/api/v1/tables/" + playsId + "/records",
            "{\"values\":{\"" + heard + "\":\"PT3M25S\"}}")).get("id").asLong();
        long cleared = created(owner.post("/api/v1/tables/" + playsId + "/records",
            "{\"values\":{\"" + heard + "\":\"PT205S\"}}")).get("id").asLong();

        Api.Response notUnique = owner.put("/api/v1/tables/" + playsId + "/columns/" + heard + "/link",
            "{\"targetTableId\":\"" + songId + "\",\"targetColumnId\":\"" + columnId(song, "Title") + "\"}");
        assertThat(notUnique.status()).isEqualTo(400);
        assertThat(notUnique.code()).isEqualTo("link_target_not_unique");

        Api.Response linked = owner.put("/api/v1/tables/" + playsId + "/columns/" + heard + "/link?wait=30",
            "{\"targetTableId\":\"" + songId + "\",\"targetColumnId\":\"" + length + "\"}");
        assertThat(linked.status()).as(linked.toString()).isEqualTo(200);
        assertThat(column(ok(owner.get("/api/v1/tables/" + playsId)), heard).get("type").asText()).isEqualTo("duration");
        assertThat(ok(owner.get("/api/v1/tables/" + playsId + "/records/" + kept)).get("values").get(heard).asText())
            .isEqualTo("PT3M25S");
        assertThat(ok(owner.get("/api/v1/tables/" + playsId + "/records/" + cleared)).get("values").get(heard).isNull()).isTrue();

        assertThat(owner.delete("/api/v1/tables/" + playsId + "/columns/" + heard + "/link").status()).isEqualTo(202);
        JsonNode after = column(ok(owner.get("/api/v1/tables/" + playsId)), heard);
        assertThat(after.get("type").asText()).isEqualTo("duration");
        assertThat(after.get("link").isNull()).isTrue();
        assertThat(ok(owner.get("/api/v1/tables/" + playsId + "/records/" + kept)).get("values").get(heard).asText())
            .isEqualTo("PT3M25S");
    }

    static JsonNode created(Api.Response r) {
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        return r.body();
    }

    static JsonNode ok(Api.Response r) {
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        return r.body();
    }

    static String columnId(JsonNode table, String name) {
        for (JsonNode c : table.get("columns")) {
            if (c.get("name").asText().equals(name)) {
                return c.get("id").asText();
            }
        }
        throw new AssertionError("no column " + name + " in " + table);
    }

    static JsonNode column(JsonNode table, String id) {
        for (JsonNode c : table.get("columns")) {
            if (c.get("id").asText().equals(id)) {
                return c;
            }
        }
        throw new AssertionError("no column " + id + " in " + table);
    }

    static List<Long> ids(Api.Response r) {
        List<Long> ids = new ArrayList<>();
        created(r).get("ids").forEach(n -> ids.add(n.asLong()));
        return ids;
    }
}
