package io.linkbase.record.reconcile;

import io.linkbase.kit.consumer.AppliedVersions;
import io.linkbase.proto.events.v1.ClearedValue;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.events.v1.LinkReconciled;
import io.linkbase.proto.v1.ColumnType;
import io.linkbase.proto.v1.LinkPreview;
import io.linkbase.proto.v1.LinkPreviewRequest;
import io.linkbase.proto.v1.OnDelete;
import io.linkbase.proto.v1.Record;
import io.linkbase.proto.v1.Value;
import io.linkbase.record.sql.PhysicalNames;
import io.linkbase.record.ddl.SchemaEventApplier;
import io.linkbase.record.support.RecordServiceHarness;
import io.linkbase.record.support.SchemaEvents;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import jakarta.inject.Inject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.linkbase.proto.events.v1.EventEnvelope.PayloadCase.LINK_RECONCILED;
import static io.linkbase.proto.events.v1.EventEnvelope.PayloadCase.RECORD_UPSERTED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * ColumnLinked on real PostgreSQL: values are kept only on an exact canonical-text match, the
 * column takes the target's type, a real validated FOREIGN KEY appears, and what was cleared is
 * published (LinkReconciled + RecordUpserted) exactly once.
 */
@MicronautTest(transactional = false)
class LinkReconciliationIT extends RecordServiceHarness {
    @Inject
    SchemaEventApplier applier;

    @Override
    protected String database() {
        return "record_link_it";
    }

    @Test
    void textToIntegerKeepsOnlyExactCanonicalMatches() {
        SchemaEvents s = newTenant("t2i");
        SchemaEvents.Table artist = s.createTable("artist", "Name", ColumnType.TEXT);
        long a1 = create(s, artist, "Name", text("Abba")).getId();
        long a2 = create(s, artist, "Name", text("Queen")).getId();
        long a3 = create(s, artist, "Name", text("Yes")).getId();
        SchemaEvents.Table track = s.createTable("track", "Title", ColumnType.TEXT, "Artist", ColumnType.TEXT);
        Map<String, Record> rows = new LinkedHashMap<>();
        for (String v : List.of("" + a1, "0" + a1, " " + a1, a1 + ".0", "" + a2, "abc", "" + a3)) {
            rows.put(v, create(s, track, "Title", text("t"), "Artist", text(v)));
        }
        Record none = create(s, track, "Title", text("no artist"));

        LinkPreview preview = api(s.tenant()).previewLink(LinkPreviewRequest.newBuilder().setTableId(track.id())
            .setColumnId(track.col("Artist")).setTargetTableId(artist.id()).build());
        assertThat(preview.getKeptCount()).isEqualTo(3);
        assertThat(preview.getClearedCount()).isEqualTo(4);
        assertThat(preview.getClearedSamplesList()).extracting(x -> x.getValue().getText())
            .containsExactly("0" + a1, " " + a1, a1 + ".0", "abc");
        assertThat(get(s, track, rows.get("abc").getId()).getValuesMap().get(track.col("Artist")).getText())
            .as("preview changes nothing").isEqualTo("abc");

        EventEnvelope linked = s.link(track, "Artist", artist, "id", ColumnType.INTEGER, ColumnType.TEXT, OnDelete.SET_NULL);

        assertThat(sqlType(s, track, "Artist")).isEqualTo("bigint");
        assertThat(foreignKeys(s, track).values()).singleElement().asString()
            .contains("REFERENCES").contains("ON DELETE SET NULL");
        String artistCol = track.col("Artist");
        for (Map.Entry<String, Record> r : rows.entrySet()) {
            Record now = get(s, track, r.getValue().getId());
            boolean kept = r.getKey().equals("" + a1) || r.getKey().equals("" + a2) || r.getKey().equals("" + a3);
            if (kept) {
                assertThat(now.getValuesMap().get(artistCol)).isEqualTo(integer(Long.parseLong(r.getKey())));
                assertThat(now.getVersion()).isEqualTo(r.getValue().getVersion());
                assertThat(now.getLinksMap().get(artistCol).getRecordId()).isEqualTo(Long.parseLong(r.getKey()));
            } else {
                assertThat(now.getValuesMap().get(artistCol).getKindCase()).isEqualTo(Value.KindCase.NULL_VALUE);
                assertThat(now.getVersion()).isEqualTo(r.getValue().getVersion() + 1);
                assertThat(now.getLinksMap()).doesNotContainKey(artistCol);
            }
        }
        assertThat(get(s, track, none.getId()).getVersion()).isEqualTo(none.getVersion());
        assertThat(get(s, track, rows.get("" + a2).getId()).getLinksMap().get(artistCol).getSummary()).isEqualTo("Queen");

        LinkReconciled reconciled = awaitReconciled(s, track, 1).get(0);
        assertThat(reconciled.getLinkVersion()).isEqualTo(linked.getAggregateVersion());
        assertThat(reconciled.getKeptCount()).isEqualTo(3);
        assertThat(reconciled.getClearedCount()).isEqualTo(4);
        Map<Long, String> formerById = new LinkedHashMap<>();
        for (ClearedValue v : reconciled.getClearedValuesList()) {
            formerById.put(v.getRecordId(), v.getFormerValue().getText());
        }
        assertThat(formerById).containsEntry(rows.get("abc").getId(), "abc")
            .containsEntry(rows.get("0" + a1).getId(), "0" + a1).hasSize(4);
        List<EventEnvelope> upserts = tap.events(s.tenant(), track.id(), RECORD_UPSERTED);
        assertThat(upserts.stream().filter(e -> e.getRecordUpserted().getValuesMap().get(artistCol).getKindCase()
            == Value.KindCase.NULL_VALUE && formerById.containsKey(e.getRecordUpserted().getRecordId())
            && e.getRecordUpserted().getRecordVersion() == 2)).hasSize(4);
        assertGapless(s, track);
    }

    @Test
    void textToTextIsCaseAndSpaceSensitive() {
        SchemaEvents s = newTenant("t2t");
        SchemaEvents.Table band = s.createTable("band", "Code!", ColumnType.TEXT);
        create(s, band, "Code", text("Abba"));
        create(s, band, "Code", text("Queen"));
        SchemaEvents.Table song = s.createTable("song", "Band", ColumnType.TEXT);
        long abba = create(s, song, "Band", text("Abba")).getId();
        long lower = create(s, song, "Band", text("abba")).getId();
        long spaced = create(s, song, "Band", text("Queen ")).getId();
        long queen = create(s, song, "Band", text("Queen")).getId();
        long empty = create(s, song, "Band", nil()).getId();

        s.link(song, "Band", band, "Code", ColumnType.TEXT, ColumnType.TEXT, OnDelete.RESTRICT);

        assertThat(value(s, song, abba, "Band")).isEqualTo(text("Abba"));
        assertThat(value(s, song, queen, "Band")).isEqualTo(text("Queen"));
        assertThat(value(s, song, lower, "Band")).isEqualTo(nil());
        assertThat(value(s, song, spaced, "Band")).isEqualTo(nil());
        assertThat(value(s, song, empty, "Band")).isEqualTo(nil());
        assertThat(sqlType(s, song, "Band")).isEqualTo("text");
        assertThat(foreignKeys(s, song).values()).singleElement().asString().contains("ON DELETE RESTRICT");
        LinkReconciled r = awaitReconciled(s, song, 1).get(0);
        assertThat(r.getKeptCount()).isEqualTo(2);
        assertThat(r.getClearedCount()).isEqualTo(2);
    }

    @Test
    void textToDurationMatchesOnlyTheIsoForm() {
        SchemaEvents s = newTenant("t2d");
        SchemaEvents.Table lengths = s.createTable("lengths", "Length!", ColumnType.DURATION);
        create(s, lengths, "Length", duration("PT3M25S"));
        create(s, lengths, "Length", duration("PT1H"));
        SchemaEvents.Table track = s.createTable("track", "Length", ColumnType.TEXT);
        long iso = create(s, track, "Length", text("PT3M25S")).getId();
        long words = create(s, track, "Length", text("3 minutes 25 seconds")).getId();
        long seconds = create(s, track, "Length", text("PT205S")).getId();
        long hour = create(s, track, "Length", text("PT1H")).getId();
        long lower = create(s, track, "Length", text("pt1h")).getId();

        s.link(track, "Length", lengths, "Length", ColumnType.DURATION, ColumnType.TEXT, OnDelete.SET_NULL);

        assertThat(sqlType(s, track, "Length")).isEqualTo("interval");
        assertThat(value(s, track, iso, "Length")).isEqualTo(duration("PT3M25S"));
        assertThat(value(s, track, hour, "Length")).isEqualTo(duration("PT1H"));
        for (long cleared : List.of(words, seconds, lower)) {
            assertThat(value(s, track, cleared, "Length")).isEqualTo(nil());
        }
        assertThat(awaitReconciled(s, track, 1).get(0).getClearedCount()).isEqualTo(3);

        // Unlinking keeps the target's type and the values.
        s.unlink(track, "Length", lengths, "Length", ColumnType.DURATION);
        assertThat(foreignKeys(s, track)).isEmpty();
        assertThat(sqlType(s, track, "Length")).isEqualTo("interval");
        assertThat(value(s, track, iso, "Length")).isEqualTo(duration("PT3M25S"));
    }

    @Test
    void integerToIntegerKeepsExistingIdsAndNullsStayNull() {
        SchemaEvents s = newTenant("i2i");
        SchemaEvents.Table album = s.createTable("album", "Name", ColumnType.TEXT);
        long a1 = create(s, album, "Name", text("One")).getId();
        long a2 = create(s, album, "Name", text("Two")).getId();
        SchemaEvents.Table track = s.createTable("track", "Album", ColumnType.INTEGER);
        long r1 = create(s, track, "Album", integer(a1)).getId();
        long r2 = create(s, track, "Album", integer(a2)).getId();
        long r99 = create(s, track, "Album", integer(a2 + 1000)).getId();
        Record blank = create(s, track);

        s.link(track, "Album", album, "id", ColumnType.INTEGER, ColumnType.INTEGER, OnDelete.CASCADE);

        assertThat(value(s, track, r1, "Album")).isEqualTo(integer(a1));
        assertThat(value(s, track, r2, "Album")).isEqualTo(integer(a2));
        assertThat(value(s, track, r99, "Album")).isEqualTo(nil());
        assertThat(get(s, track, blank.getId()).getVersion()).as("a null is neither kept nor cleared")
            .isEqualTo(blank.getVersion());
        LinkReconciled r = awaitReconciled(s, track, 1).get(0);
        assertThat(r.getKeptCount()).isEqualTo(2);
        assertThat(r.getClearedCount()).isEqualTo(1);
        assertThat(r.getClearedValues(0).getFormerValue()).isEqualTo(integer(a2 + 1000));
    }

    @Test
    void aTableMayLinkToItself() {
        SchemaEvents s = newTenant("self");
        SchemaEvents.Table people = s.createTable("people", "Name", ColumnType.TEXT, "Boss", ColumnType.TEXT);
        long ceo = create(s, people, "Name", text("ceo")).getId();
        long vp = create(s, people, "Name", text("vp"), "Boss", text("" + ceo)).getId();
        long dev = create(s, people, "Name", text("dev"), "Boss", text("" + vp)).getId();
        long ghost = create(s, people, "Name", text("ghost"), "Boss", text("12345")).getId();

        s.link(people, "Boss", people, "id", ColumnType.INTEGER, ColumnType.TEXT, OnDelete.CASCADE);

        assertThat(value(s, people, dev, "Boss")).isEqualTo(integer(vp));
        assertThat(get(s, people, dev).getLinksMap().get(people.col("Boss")).getSummary()).isEqualTo("vp");
        assertThat(value(s, people, ghost, "Boss")).isEqualTo(nil());
        assertThat(foreignKeys(s, people).values()).singleElement().asString().contains("ON DELETE CASCADE");
    }

    @Test
    void aRedeliveredColumnLinkedChangesNothing() {
        SchemaEvents s = newTenant("dup");
        SchemaEvents.Table artist = s.createTable("artist", "Name", ColumnType.TEXT);
        long a1 = create(s, artist, "Name", text("Abba")).getId();
        SchemaEvents.Table track = s.createTable("track", "Artist", ColumnType.TEXT);
        long kept = create(s, track, "Artist", text("" + a1)).getId();
        long cleared = create(s, track, "Artist", text("nope")).getId();
        EventEnvelope linked = s.link(track, "Artist", artist, "id", ColumnType.INTEGER, ColumnType.TEXT, OnDelete.SET_NULL);
        awaitReconciled(s, track, 1);
        long versionAfter = get(s, track, cleared).getVersion();

        s.redeliver(linked);
        assertThat(applier.consumer().deliver(linked)).isEqualTo(AppliedVersions.Verdict.DUPLICATE);
        // The next event of the table is applied after the redelivered one (same partition).
        s.display(track, "Artist");
        await().atMost(Duration.ofSeconds(30)).until(() -> count("SELECT count(*) FROM outbox") == 0);

        await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(10)).untilAsserted(() ->
            assertThat(tap.events(s.tenant(), track.id(), LINK_RECONCILED)).hasSize(1));
        assertThat(get(s, track, cleared).getVersion()).isEqualTo(versionAfter);
        assertThat(value(s, track, kept, "Artist")).isEqualTo(integer(a1));
        assertThat(foreignKeys(s, track)).hasSize(1);
        assertGapless(s, track);
    }

    @Test
    void retypingConvertsExactTextAndNullsTheRest() {
        SchemaEvents s = newTenant("retype");
        SchemaEvents.Table t = s.createTable("stock", "Qty", ColumnType.TEXT);
        Record five = create(s, t, "Qty", text("5"));
        Record padded = create(s, t, "Qty", text("05"));
        Record word = create(s, t, "Qty", text("x"));
        Record minus = create(s, t, "Qty", text("-12"));

        s.retype(t, "Qty", ColumnType.TEXT, ColumnType.INTEGER);
        assertThat(sqlType(s, t, "Qty")).isEqualTo("bigint");
        assertThat(value(s, t, five.getId(), "Qty")).isEqualTo(integer(5));
        assertThat(value(s, t, minus.getId(), "Qty")).isEqualTo(integer(-12));
        assertThat(value(s, t, padded.getId(), "Qty")).isEqualTo(nil());
        assertThat(value(s, t, word.getId(), "Qty")).isEqualTo(nil());
        assertThat(get(s, t, word.getId()).getVersion()).isEqualTo(word.getVersion() + 1);
        assertThat(get(s, t, five.getId()).getVersion()).isEqualTo(five.getVersion());

        s.retype(t, "Qty", ColumnType.INTEGER, ColumnType.TEXT);
        assertThat(value(s, t, five.getId(), "Qty")).isEqualTo(text("5"));
        s.retype(t, "Qty", ColumnType.TEXT, ColumnType.NUMBER);
        assertThat(value(s, t, minus.getId(), "Qty")).isEqualTo(Value.newBuilder().setNumber("-12").build());

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
            assertThat(tap.events(s.tenant(), t.id(), RECORD_UPSERTED).stream()
                .filter(e -> e.getRecordUpserted().getRecordId() == word.getId()
                    && e.getRecordUpserted().getRecordVersion() == word.getVersion() + 1)).hasSize(1));
    }

    @Test
    void uniqueOnClearsLaterDuplicatesAndOffDropsTheConstraint() {
        SchemaEvents s = newTenant("uniq");
        SchemaEvents.Table t = s.createTable("codes", "Code", ColumnType.TEXT);
        long first = create(s, t, "Code", text("a")).getId();
        long second = create(s, t, "Code", text("a")).getId();
        long other = create(s, t, "Code", text("b")).getId();

        s.unique(t, "Code", true);
        assertThat(value(s, t, first, "Code")).isEqualTo(text("a"));
        assertThat(value(s, t, second, "Code")).isEqualTo(nil());
        assertThat(value(s, t, other, "Code")).isEqualTo(text("b"));
        assertThat(failure(() -> create(s, t, "Code", text("b"))).getCode()).isEqualTo("conflict");

        s.unique(t, "Code", false);
        create(s, t, "Code", text("b"));
    }

    @Test
    void renamingDroppingAndDeletingWorkOnTablesWithData() {
        SchemaEvents s = newTenant("drop");
        SchemaEvents.Table t = s.createTable("notes", "Title", ColumnType.TEXT, "Body", ColumnType.TEXT);
        long id = create(s, t, "Title", text("x"), "Body", text("y")).getId();
        s.send(t.id(), EventEnvelope.newBuilder().setTableRenamed(
            io.linkbase.proto.events.v1.TableRenamed.newBuilder().setName("\"; DROP TABLE outbox; --")));
        s.send(t.id(), EventEnvelope.newBuilder().setColumnRenamed(
            io.linkbase.proto.events.v1.ColumnRenamed.newBuilder().setColumnId(t.col("Title")).setName("Heading")));
        assertThat(get(s, t, id).getValuesMap().get(t.col("Title"))).isEqualTo(text("x"));
        s.drop(t, "Body");
        assertThat(get(s, t, id).getValuesMap()).containsOnlyKeys(t.col("id"), t.col("Title"));
        s.deleteTable(t);
        assertThat(failure(() -> get(s, t, id)).getCode()).isEqualTo("not_found");
        assertThat(count("SELECT count(*) FROM pg_tables WHERE tablename = '" + PhysicalNames.table(t.id()) + "'")).isZero();
    }

    private Value value(SchemaEvents s, SchemaEvents.Table t, long id, String column) {
        return get(s, t, id).getValuesMap().get(t.col(column));
    }

    private List<LinkReconciled> awaitReconciled(SchemaEvents s, SchemaEvents.Table t, int n) {
        List<LinkReconciled> found = new ArrayList<>();
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            found.clear();
            tap.events(s.tenant(), t.id(), LINK_RECONCILED).forEach(e -> found.add(e.getLinkReconciled()));
            assertThat(found).hasSize(n);
        });
        return found;
    }

    /** Record events of a table carry aggregate versions 1, 2, 3... with no gap or repeat. */
    private void assertGapless(SchemaEvents s, SchemaEvents.Table t) {
        long last = count("SELECT last_version FROM event_versions WHERE tenant_id = '" + s.tenant()
            + "' AND aggregate_id = '" + t.id() + "'");
        List<Long> expected = new ArrayList<>();
        for (long v = 1; v <= last; v++) {
            expected.add(v);
        }
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
            assertThat(tap.events(s.tenant()).stream().filter(e -> e.getAggregateId().equals(t.id()))
                .map(EventEnvelope::getAggregateVersion).toList()).isNotEmpty().containsExactlyElementsOf(expected));
    }
}
