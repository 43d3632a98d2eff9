package io.linkbase.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.util.UUID;

import static io.linkbase.e2e.UserStoryHttpE2EIT.columnId;
import static io.linkbase.e2e.UserStoryHttpE2EIT.created;
import static io.linkbase.e2e.UserStoryHttpE2EIT.ok;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * "Add a new record" links in one step (API.md "Autocomplete", {@code POST …/suggestions} with
 * {@code recordId}): the new record is created and stored in the cell being filled, in one call.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AddNewRecordE2EIT {
    private Api owner;
    private Api editor;

    @BeforeAll
    void provision() {
        String tenant = "addnew-" + UUID.randomUUID().toString().substring(0, 8);
        assertThat(new Api(Stack.adminToken()).put("/api/v1/tenants/" + tenant, null).status()).isEqualTo(201);
        owner = new Api(Stack.token(tenant, "owner"));
        editor = new Api(Stack.token(tenant, "editor"));
    }

    @Test
    void addingANewRecordFromTheCellStoresItsKeyInThatCellInTheSameCall() {
        JsonNode artist = created(owner.post("/api/v1/tables", "{\"name\":\"artist\",\"columns\":["
            + "{\"name\":\"Name\"},{\"name\":\"Code\",\"type\":\"integer\",\"unique\":true}]}"));
        JsonNode track = created(owner.post("/api/v1/tables", "{\"name\":\"track\",\"columns\":["
            + "{\"name\":\"Title\"},{\"name\":\"Artist\"},{\"name\":\"Artist code\"}]}"));
        String artistId = artist.get("id").asText();
        String trackId = track.get("id").asText();
        String byKey = columnId(track, "Artist");
        String byCode = columnId(track, "Artist code");
        String title = columnId(track, "Title");
        link(trackId, byKey, artistId, null);
        link(trackId, byCode, artistId, columnId(artist, "Code"));
        long song = created(editor.post("/api/v1/tables/" + trackId + "/records",
            "{\"values\":{\"" + title + "\":\"Je veux\"}}")).get("id").asLong();

        // Linked by the primary key: the new artist's id lands in the cell, with its summary.
        Api.Response added = editor.post(suggestions(trackId, byKey), "{\"text\":\"Zaz\",\"recordId\":" + song + "}");
        assertThat(added.status()).as(added.toString()).isEqualTo(201);
        long zaz = added.body().get("recordId").asLong();
        assertThat(added.body().get("value").asLong()).isEqualTo(zaz);
        JsonNode record = added.body().get("record");
        assertThat(record.get("id").asLong()).isEqualTo(song);
        assertThat(record.get("values").get(byKey).asLong()).isEqualTo(zaz);
        assertThat(record.get("values").get(title).asText()).isEqualTo("Je veux");
        assertThat(record.get("links").get(byKey).get("summary").asText()).isEqualTo("Zaz");
        JsonNode stored = ok(editor.get("/api/v1/tables/" + trackId + "/records/" + song));
        assertThat(stored.get("values").get(byKey).asLong()).isEqualTo(zaz);
        assertThat(stored.get("version").asLong()).isEqualTo(record.get("version").asLong());
        assertThat(ok(editor.get("/api/v1/tables/" + artistId + "/records/" + zaz)).get("values")
            .get(columnId(artist, "Name")).asText()).isEqualTo("Zaz");

        // Linked by a unique non-key column: that column gets the text, converted to its type.
        Api.Response coded = editor.post(suggestions(trackId, byCode), "{\"text\":\"42\",\"recordId\":" + song + "}");
        assertThat(coded.status()).as(coded.toString()).isEqualTo(201);
        assertThat(coded.body().get("value").isIntegralNumber()).isTrue();
        assertThat(coded.body().get("value").asLong()).isEqualTo(42);
        assertThat(coded.body().get("record").get("values").get(byCode).asLong()).isEqualTo(42);
        assertThat(coded.body().get("record").get("values").get(byKey).asLong()).isEqualTo(zaz);
        JsonNode newArtist = ok(editor.get("/api/v1/tables/" + artistId + "/records/" + coded.body().get("recordId").asLong()));
        assertThat(newArtist.get("values").get(columnId(artist, "Code")).asLong()).isEqualTo(42);

        // Without recordId: only the new record, as before.
        Api.Response plain = editor.post(suggestions(trackId, byKey), "{\"text\":\"Camille\"}");
        assertThat(plain.status()).as(plain.toString()).isEqualTo(201);
        assertThat(plain.body().has("record")).isFalse();
    }

    @Test
    void aCellThatCannotBeFilledIsRefusedBeforeAnythingIsCreated() {
        JsonNode artist = created(owner.post("/api/v1/tables", "{\"name\":\"band\",\"columns\":["
            + "{\"name\":\"Name\"},{\"name\":\"Code\",\"type\":\"integer\",\"unique\":true}]}"));
        JsonNode track = created(owner.post("/api/v1/tables", "{\"name\":\"song\",\"columns\":["
            + "{\"name\":\"Band\"},{\"name\":\"Band code\"}]}"));
        String artistId = artist.get("id").asText();
        String trackId = track.get("id").asText();
        String byKey = columnId(track, "Band");
        String byCode = columnId(track, "Band code");
        link(trackId, byKey, artistId, null);
        link(trackId, byCode, artistId, columnId(artist, "Code"));
        long song = created(editor.post("/api/v1/tables/" + trackId + "/records", "{\"values\":{}}")).get("id").asLong();

        Api.Response unknown = editor.post(suggestions(trackId, byKey), "{\"text\":\"Muse\",\"recordId\":" + (song + 1000) + "}");
        assertThat(unknown.status()).as(unknown.toString()).isEqualTo(404);
        Api.Response notANumber = editor.post(suggestions(trackId, byCode), "{\"text\":\"forty-two\",\"recordId\":" + song + "}");
        assertThat(notANumber.status()).as(notANumber.toString()).isEqualTo(400);
        assertThat(notANumber.code()).isEqualTo("validation_failed");
        Api.Response leadingZero = editor.post(suggestions(trackId, byCode), "{\"text\":\"042\",\"recordId\":" + song + "}");
        assertThat(leadingZero.status()).as(leadingZero.toString()).isEqualTo(400);
        Api.Response badId = editor.post(suggestions(trackId, byKey), "{\"text\":\"Muse\",\"recordId\":\"x\"}");
        assertThat(badId.status()).as(badId.toString()).isEqualTo(400);

        assertThat(ok(editor.get("/api/v1/tables/" + artistId + "/records")).get("records")).isEmpty();
        JsonNode unchanged = ok(editor.get("/api/v1/tables/" + trackId + "/records/" + song));
        assertThat(unchanged.get("values").get(byKey).isNull()).isTrue();
        assertThat(unchanged.get("values").get(byCode).isNull()).isTrue();
    }

    private void link(String tableId, String columnId, String targetTableId, String targetColumnId) {
        Api.Response r = owner.put("/api/v1/tables/" + tableId + "/columns/" + columnId + "/link?wait=30",
            "{\"targetTableId\":\"" + targetTableId + "\"" + (targetColumnId == null ? "" : ",\"targetColumnId\":\""
                + targetColumnId + "\"") + "}");
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
    }

    private static String suggestions(String tableId, String columnId) {
        return "/api/v1/tables/" + tableId + "/columns/" + columnId + "/suggestions";
    }
}
