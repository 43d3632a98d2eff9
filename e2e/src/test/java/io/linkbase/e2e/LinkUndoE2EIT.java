package io.linkbase.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.linkbase.proto.v1.ColumnType;
import io.linkbase.proto.v1.LinkbaseGrpc;
import io.linkbase.proto.v1.Table;
import io.linkbase.proto.v1.UndoLinkRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static io.linkbase.e2e.UserStoryHttpE2EIT.column;
import static io.linkbase.e2e.UserStoryHttpE2EIT.columnId;
import static io.linkbase.e2e.UserStoryHttpE2EIT.created;
import static io.linkbase.e2e.UserStoryHttpE2EIT.ids;
import static io.linkbase.e2e.UserStoryHttpE2EIT.ok;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Undo of a link (API.md "POST .../link/undo") through the public HTTP and gRPC APIs against
 * the whole system.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LinkUndoE2EIT {
    private String tenant;
    private Api owner;
    private ManagedChannel channel;

    @BeforeAll
    void provision() {
        tenant = "undo-" + UUID.randomUUID().toString().substring(0, 8);
        assertThat(new Api(Stack.adminToken()).put("/api/v1/tenants/" + tenant, null).status()).isEqualTo(201);
        owner = new Api(Stack.token(tenant, "owner"));
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", Stack.gatewayGrpcPort()).usePlaintext().build();
    }

    @AfterAll
    void disconnect() {
        channel.shutdownNow();
    }

    @Test
    void undoRestoresTheFormerTypeAndEveryClearedValueExactlyAndKeepsValuesWrittenSince() {
        JsonNode artist = created(owner.post("/api/v1/tables", "{\"name\":\"artist\",\"columns\":[{\"name\":\"Name\"}]}"));
        JsonNode track = created(owner.post("/api/v1/tables", "{\"name\":\"track\",\"columns\":["
            + "{\"name\":\"Title\"},{\"name\":\"Artist\"},{\"name\":\"Length\",\"type\":\"duration\"}]}"));
        String artistId = artist.get("id").asText();
        String trackId = track.get("id").asText();
        String name = columnId(artist, "Name");
        String title = columnId(track, "Title");
        String col = columnId(track, "Artist");
        String length = columnId(track, "Length");
        List<Long> artists = ids(owner.post("/api/v1/tables/" + artistId + "/records/batch", "{\"records\":["
            + "{\"values\":{\"" + name + "\":\"Beyoncé\"}},{\"values\":{\"" + name + "\":\"Björk\"}}]}"));
        long beyonce = artists.get(0);
        long bjork = artists.get(1);

        // Artist: text values, of which only the exact id survives the link; Length: durations,
        // none of which is an artist id (P1D and PT24H are different values and must stay so).
        Map<String, String> artistTexts = new LinkedHashMap<>();
        artistTexts.put("exact", String.valueOf(beyonce));
        artistTexts.put("leading zero", "0" + beyonce);
        artistTexts.put("space", " " + beyonce);
        artistTexts.put("decimal", beyonce + ".0");
        artistTexts.put("name", "Beyoncé");
        artistTexts.put("trailing spaces", "Björk  ");
        artistTexts.put("missing", "999999");
        Map<String, String> durations = Map.of("exact", "PT3M25S", "leading zero", "P1D", "space", "PT24H",
            "decimal", "P3DT4H5M6.5S");
        Map<String, Long> tracks = new LinkedHashMap<>();
        for (Map.Entry<String, String> e : artistTexts.entrySet()) {
            String d = durations.get(e.getKey());
            tracks.put(e.getKey(), created(owner.post("/api/v1/tables/" + trackId + "/records", "{\"values\":{\""
                + title + "\":\"" + e.getKey() + "\",\"" + col + "\":" + Api.JSON.valueToTree(e.getValue())
                + (d == null ? "" : ",\"" + length + "\":\"" + d + "\"") + "}}")).get("id").asLong());
        }
        Map<String, JsonNode> before = records(trackId, tracks);

        JsonNode artistLink = link(trackId, col, artistId);
        JsonNode lengthLink = link(trackId, length, artistId);
        assertThat(artistLink.get("keptCount").asLong()).isEqualTo(1);
        assertThat(artistLink.get("clearedCount").asLong()).isEqualTo(6);
        JsonNode linked = ok(owner.get("/api/v1/tables/" + trackId));
        assertThat(column(linked, col).get("type").asText()).isEqualTo("integer");
        assertThat(column(linked, length).get("type").asText()).isEqualTo("integer");
        assertThat(ok(owner.get(record(trackId, tracks.get("space")))).get("values").get(col).isNull()).isTrue();

        // Written after the link: a new track, and a cleared cell filled again.
        long later = created(owner.post("/api/v1/tables/" + trackId + "/records",
            "{\"values\":{\"" + title + "\":\"later\",\"" + col + "\":" + bjork + "}}")).get("id").asLong();
        ok(owner.patch(record(trackId, tracks.get("space")), "{\"values\":{\"" + col + "\":" + bjork + "}}"));

        // A stale If-Match is refused and changes nothing.
        long version = linked.get("version").asLong();
        Api.Response stale = owner.send("POST", undo(trackId, col), null, "\"" + (version - 1) + "\"");
        assertThat(stale.status()).as(stale.toString()).isEqualTo(409);
        assertThat(stale.code()).isEqualTo("version_conflict");
        assertThat(column(ok(owner.get("/api/v1/tables/" + trackId)), col).get("link").isNull()).isFalse();

        Api.Response undone = owner.send("POST", undo(trackId, col), null, "\"" + version + "\"");
        assertThat(undone.status()).as(undone.toString()).isEqualTo(200);
        assertThat(undone.header("ETag")).isEqualTo("\"" + (version + 1) + "\"");
        assertThat(column(undone.body(), col).get("type").asText()).isEqualTo("text");
        assertThat(column(undone.body(), col).get("link").isNull()).isTrue();
        JsonNode table = ok(owner.post(undo(trackId, length), null));
        assertThat(column(table, length).get("type").asText()).isEqualTo("duration");

        Map<String, JsonNode> after = records(trackId, tracks);
        for (String key : artistTexts.keySet()) {
            JsonNode values = after.get(key).get("values");
            String expected = key.equals("space") ? String.valueOf(bjork) : artistTexts.get(key);
            assertThat(values.get(col).isTextual()).as(key).isTrue();
            assertThat(values.get(col).asText()).as(key).isEqualTo(expected);
            assertThat(values.get(length)).as(key).isEqualTo(before.get(key).get("values").get(length));
            assertThat(after.get(key).has("links") && after.get(key).get("links").has(col)).as(key).isFalse();
        }
        assertThat(after.get("leading zero").get("values").get(length).asText()).isEqualTo("P1D");
        assertThat(after.get("space").get("values").get(length).asText()).isEqualTo("PT24H");
        assertThat(ok(owner.get(record(trackId, later))).get("values").get(col).asText()).isEqualTo(String.valueOf(bjork));

        // One event each in the history; the column is no longer linked.
        List<String> history = new java.util.ArrayList<>();
        ok(owner.get("/api/v1/tables/" + trackId + "/events")).get("events").forEach(e -> history.add(e.get("type").asText()));
        assertThat(history.subList(history.size() - 2, history.size())).containsExactly("ColumnLinkUndone", "ColumnLinkUndone");
        // Each ColumnLinked keeps what its reconciliation did, though both links are gone.
        List<String> linkedCounts = new java.util.ArrayList<>();
        ok(owner.get("/api/v1/tables/" + trackId + "/events")).get("events").forEach(e -> {
            if (e.get("type").asText().equals("ColumnLinked")) {
                linkedCounts.add(e.get("data").get("columnId").asText() + ": " + e.get("data").path("keptCount").asText("?")
                    + " kept, " + e.get("data").path("clearedCount").asText("?") + " cleared");
            }
        });
        assertThat(linkedCounts).containsExactly(
            col + ": " + artistLink.get("keptCount").asLong() + " kept, " + artistLink.get("clearedCount").asLong() + " cleared",
            length + ": " + lengthLink.get("keptCount").asLong() + " kept, " + lengthLink.get("clearedCount").asLong() + " cleared");
        assertThat(owner.get("/api/v1/tables/" + trackId + "/columns/" + col + "/link").status()).isEqualTo(404);
        Api.Response again = owner.post(undo(trackId, col), null);
        assertThat(again.status()).as(again.toString()).isEqualTo(404);

        // The column is free again: it links anew, and the restored values are judged again.
        link(trackId, col, artistId);
        JsonNode relinked = ok(owner.get(record(trackId, tracks.get("exact"))));
        assertThat(relinked.get("values").get(col).asLong()).isEqualTo(beyonce);
    }

    @Test
    void undoIsRefusedWithAReasonWhenValuesWrittenSinceCannotGoBackToTheFormerType() {
        JsonNode artist = created(owner.post("/api/v1/tables", "{\"name\":\"band\",\"columns\":[{\"name\":\"Name\"}]}"));
        JsonNode song = created(owner.post("/api/v1/tables", "{\"name\":\"song\",\"columns\":["
            + "{\"name\":\"Length\",\"type\":\"duration\"}]}"));
        String bandId = artist.get("id").asText();
        String songId = song.get("id").asText();
        String length = columnId(song, "Length");
        long band = ids(owner.post("/api/v1/tables/" + bandId + "/records/batch",
            "{\"records\":[{\"values\":{\"" + columnId(artist, "Name") + "\":\"Muse\"}}]}")).get(0);
        long cleared = created(owner.post("/api/v1/tables/" + songId + "/records",
            "{\"values\":{\"" + length + "\":\"PT4M\"}}")).get("id").asLong();
        link(songId, length, bandId);
        long since = created(owner.post("/api/v1/tables/" + songId + "/records",
            "{\"values\":{\"" + length + "\":" + band + "}}")).get("id").asLong();

        // An integer written since is no duration: a faithful undo would lose it.
        Api.Response refused = owner.post(undo(songId, length), null);
        assertThat(refused.status()).as(refused.toString()).isEqualTo(409);
        assertThat(refused.code()).isEqualTo("conflict");
        assertThat(refused.body().get("detail").asText()).contains("cannot be converted back", "duration", "record " + since);
        JsonNode unchanged = ok(owner.get("/api/v1/tables/" + songId));
        assertThat(column(unchanged, length).get("type").asText()).isEqualTo("integer");
        assertThat(column(unchanged, length).get("link").get("state").asText()).isEqualTo("ACTIVE");
        assertThat(ok(owner.get(record(songId, since))).get("values").get(length).asLong()).isEqualTo(band);

        // Once that value is cleared, the same undo goes through, through the public gRPC API too.
        ok(owner.patch(record(songId, since), "{\"values\":{\"" + length + "\":null}}"));
        LinkbaseGrpc.LinkbaseBlockingStub grpc = stub(Stack.token(tenant, "owner"));
        assertThatThrownBy(() -> grpc.undoLink(UndoLinkRequest.newBuilder().setTableId(songId).setColumnId(length)
            .setExpectedVersion(unchanged.get("version").asLong() - 1).build()))
            .isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.ABORTED));
        assertThatThrownBy(() -> stub(Stack.token(tenant, "editor")).undoLink(UndoLinkRequest.newBuilder()
            .setTableId(songId).setColumnId(length).build()))
            .isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
        Table table = grpc.undoLink(UndoLinkRequest.newBuilder().setTableId(songId).setColumnId(length).build());
        assertThat(table.getColumnsList()).anySatisfy(c -> {
            assertThat(c.getId()).isEqualTo(length);
            assertThat(c.getType()).isEqualTo(ColumnType.DURATION);
            assertThat(c.hasLink()).isFalse();
        });
        assertThat(ok(owner.get(record(songId, cleared))).get("values").get(length).asText()).isEqualTo("PT4M");
        assertThat(ok(owner.get(record(songId, since))).get("values").get(length).isNull()).isTrue();
    }

    /** Links and waits for ACTIVE; returns the Link (with its kept and cleared counts). */
    private JsonNode link(String tableId, String columnId, String targetTableId) {
        Api.Response r = owner.put("/api/v1/tables/" + tableId + "/columns/" + columnId + "/link?wait=30",
            "{\"targetTableId\":\"" + targetTableId + "\"}");
        assertThat(r.status()).as(r.toString()).isEqualTo(200);
        assertThat(r.body().get("state").asText()).isEqualTo("ACTIVE");
        return r.body();
    }

    private Map<String, JsonNode> records(String tableId, Map<String, Long> ids) {
        Map<String, JsonNode> records = new LinkedHashMap<>();
        ids.forEach((key, id) -> records.put(key, ok(owner.get(record(tableId, id)))));
        return records;
    }

    private static String record(String tableId, long id) {
        return "/api/v1/tables/" + tableId + "/records/" + id;
    }

    private static String undo(String tableId, String columnId) {
        return "/api/v1/tables/" + tableId + "/columns/" + columnId + "/link/undo";
    }

    private LinkbaseGrpc.LinkbaseBlockingStub stub(String token) {
        Metadata md = new Metadata();
        md.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
        return LinkbaseGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS)
            .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
    }
}
