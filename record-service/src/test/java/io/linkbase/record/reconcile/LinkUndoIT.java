package io.linkbase.record.reconcile;

import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.v1.ColumnType;
import io.linkbase.proto.v1.OnDelete;
import io.linkbase.proto.v1.UndoLinkRequest;
import io.linkbase.proto.v1.Value;
import io.linkbase.record.sql.PhysicalNames;
import io.linkbase.record.support.RecordServiceHarness;
import io.linkbase.record.support.SchemaEvents;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import org.junit.jupiter.api.Test;

import java.sql.ResultSet;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.linkbase.proto.events.v1.EventEnvelope.PayloadCase.RECORD_UPSERTED;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * ColumnLinkUndone on real PostgreSQL: the column gets its former type and every value the link
 * changed back, byte for byte as PostgreSQL stored it; values written since stay; applied once.
 */
@MicronautTest(transactional = false)
class LinkUndoIT extends RecordServiceHarness {
    @Override
    protected String database() {
        return "record_undo_it";
    }

    @Test
    void undoPutsBackClearedAndConvertedNumbersExactlyAndOnlyOnce() {
        SchemaEvents s = newTenant("undo");
        SchemaEvents.Table artist = s.createTable("artist", "Name", ColumnType.TEXT);
        long a1 = create(s, artist, "Name", text("Abba")).getId();
        long a2 = create(s, artist, "Name", text("Queen")).getId();
        SchemaEvents.Table track = s.createTable("track", "Score", ColumnType.NUMBER);
        // Stored as typed: 1.50 and 2.0 keep their scale in PostgreSQL, though both print canonically shorter.
        Map<String, Long> rows = new LinkedHashMap<>();
        for (String v : List.of("1.50", a1 + ".0", "-3", "2.5e1")) {
            rows.put(v, create(s, track, "Score", Value.newBuilder().setNumber(v).build()).getId());
        }
        Map<Long, String> before = stored(s, track);
        assertThat(before.get(rows.get("1.50"))).isEqualTo("1.50");
        assertThat(before.get(rows.get(a1 + ".0"))).isEqualTo(a1 + ".0");

        EventEnvelope linked = s.link(track, "Score", artist, "id", ColumnType.INTEGER, ColumnType.NUMBER, OnDelete.SET_NULL);
        assertThat(sqlType(s, track, "Score")).isEqualTo("bigint");
        assertThat(stored(s, track).get(rows.get(a1 + ".0"))).isEqualTo(String.valueOf(a1));
        assertThat(stored(s, track).get(rows.get("1.50"))).isNull();
        api(s.tenant()).checkLinkUndo(UndoLinkRequest.newBuilder().setTableId(track.id()).setColumnId(track.col("Score")).build());

        long later = create(s, track, "Score", integer(a2)).getId();
        // 4 creates, 3 values cleared by the link, 1 create since (the tap reads Kafka: wait for them all)
        int upsertsBefore = 8;
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
            assertThat(tap.events(s.tenant(), track.id(), RECORD_UPSERTED)).hasSize(upsertsBefore));
        EventEnvelope undone = s.undoLink(track, "Score", artist, "id", ColumnType.NUMBER, linked);

        assertThat(sqlType(s, track, "Score")).isEqualTo("numeric");
        assertThat(foreignKeys(s, track)).isEmpty();
        Map<Long, String> after = stored(s, track);
        for (Map.Entry<String, Long> r : rows.entrySet()) {
            assertThat(after.get(r.getValue())).as(r.getKey()).isEqualTo(before.get(r.getValue()));
        }
        assertThat(after.get(later)).isEqualTo(String.valueOf(a2));
        assertThat(count("SELECT count(*) FROM link_undo_values WHERE tenant_id = '" + s.tenant() + "'")).isZero();
        // Restored: the cleared 1.50, -3 and 2.5e1 and the converted a1.0 (its text changed back): one event each.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
            assertThat(tap.events(s.tenant(), track.id(), RECORD_UPSERTED)).hasSize(upsertsBefore + 4));
        long version = get(s, track, rows.get("1.50")).getVersion();

        s.redeliver(linked);
        s.redeliver(undone);
        create(s, track, "Score", nil()); // a later write, to know the redeliveries were consumed
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
            assertThat(tap.events(s.tenant(), track.id(), RECORD_UPSERTED)).hasSize(upsertsBefore + 5));
        assertThat(stored(s, track)).containsAllEntriesOf(after);
        assertThat(get(s, track, rows.get("1.50")).getVersion()).isEqualTo(version);
        assertThat(sqlType(s, track, "Score")).isEqualTo("numeric");
    }

    /** Each record's Score as PostgreSQL prints it (its own text form, not the canonical one). */
    private Map<Long, String> stored(SchemaEvents s, SchemaEvents.Table t) {
        return db.read(c -> {
            Map<Long, String> values = new LinkedHashMap<>();
            try (ResultSet rs = c.createStatement().executeQuery("SELECT " + PhysicalNames.quote(PhysicalNames.column(t.pk()))
                + ", " + PhysicalNames.quote(PhysicalNames.column(t.col("Score"))) + "::text FROM "
                + PhysicalNames.qualified(s.tenant(), t.id()))) {
                while (rs.next()) {
                    values.put(rs.getLong(1), rs.getString(2));
                }
            }
            return values;
        });
    }
}
