package io.linkbase.record.publish;

import com.google.protobuf.NullValue;
import io.linkbase.kit.events.Cause;
import io.linkbase.kit.events.Topics;
import io.linkbase.kit.outbox.Packs;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.events.v1.RecordDeleted;
import io.linkbase.proto.v1.Value;
import io.linkbase.record.catalog.Rows;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The outbox rows {@link RecordEvents} writes in COPY's binary format, read back field by field:
 * an upsert written straight to bytes ({@link UpsertWriter}) is the very envelope protobuf's
 * sealed builder gives, whatever its values (every kind, nulls, non-ASCII, no values at all).
 */
class RecordEventsTest {
    private static final String TENANT = "acme-ü";
    private static final String TABLE = "tbl_01HZX";

    @Test
    void upsertsWrittenToBytesAreTheEnvelopesProtobufBuilds() throws Exception {
        List<Rows.Row> rows = List.of(
            new Rows.Row(1, 1, values("c1", Value.newBuilder().setText("imported artist 1").build())),
            new Rows.Row(2, 7, values(
                "c1", Value.newBuilder().setText("Björk — 北京").build(),
                "c2", Value.newBuilder().setNullValue(NullValue.NULL_VALUE).build(),
                "c3", Value.newBuilder().setInteger(-42).build(),
                "c4", Value.newBuilder().setNumber("3.25").build(),
                "c5", Value.newBuilder().setBoolean(false).build(),
                "c6", Value.newBuilder().setDuration("PT3M25S").build(),
                "c7", Value.newBuilder().setText("").build())),
            new Rows.Row(3, 2, values()),
            new Rows.Row(40_000_000_000L, 300, values("c1", Value.newBuilder().setText("x".repeat(70_000)).build())));
        for (Cause cause : new Cause[] {new Cause(null, null), Cause.ofRequest(), new Cause("4bf92f3577b34da6a3ce929d0e0e4736", ""),
            new Cause("4bf92f3577b34da6a3ce929d0e0e4736", "evt-cause-1"), new Cause("", "evt-cause-2")}) {
            List<EventEnvelope> written = read(RecordEvents.encodeUpserts(TENANT, TABLE, rows, 41, cause));
            List<EventEnvelope.Builder> builders = new ArrayList<>();
            for (Rows.Row r : rows) {
                builders.add(RecordEvents.upserted(TABLE, r));
            }
            List<EventEnvelope> viaBuilders = read(RecordEvents.encode(TENANT, TABLE, builders, 41, cause));
            assertThat(written).hasSize(rows.size());
            for (int i = 0; i < rows.size(); i++) {
                EventEnvelope e = written.get(i);
                Rows.Row r = rows.get(i);
                EventEnvelope expected = EventEnvelope.newBuilder()
                    .setEventId(e.getEventId())
                    .setEventType("RecordUpserted")
                    .setTenantId(TENANT)
                    .setAggregateId(TABLE)
                    .setAggregateVersion(41 + i)
                    .setOccurredAt(e.getOccurredAt())
                    .setCorrelationId(cause.correlationId().isEmpty() ? e.getEventId() : cause.correlationId())
                    .setCausationId(cause.causationId())
                    .setSchemaVersion(1)
                    .setRecordUpserted(RecordEvents.upserted(TABLE, r).getRecordUpserted())
                    .build();
                assertThat(e).isEqualTo(expected);
                assertThat(UUID.fromString(e.getEventId()).version()).isEqualTo(4);
                assertThat(e.getOccurredAt().getSeconds()).isPositive();
                // the generic path (builders) writes upserts the same way
                assertThat(viaBuilders.get(i).toBuilder().setEventId(e.getEventId()).setOccurredAt(e.getOccurredAt())
                    .setCorrelationId(expected.getCorrelationId()).build()).isEqualTo(expected);
            }
        }
    }

    @Test
    void otherPayloadsAreSealedByProtobufInTheSameWrite() throws Exception {
        List<EventEnvelope.Builder> mixed = List.of(
            RecordEvents.upserted(TABLE, new Rows.Row(5, 3, values("c1", Value.newBuilder().setText("a").build()))),
            EventEnvelope.newBuilder().setRecordDeleted(RecordDeleted.newBuilder().setTableId(TABLE).setRecordId(6).setRecordVersion(2)));
        List<EventEnvelope> read = read(RecordEvents.encode(TENANT, TABLE, mixed, 9, Cause.ofRequest()));
        assertThat(read).extracting(EventEnvelope::getEventType).containsExactly("RecordUpserted", "RecordDeleted");
        assertThat(read).extracting(EventEnvelope::getAggregateVersion).containsExactly(9L, 10L);
        assertThat(read.get(1).getRecordDeleted().getRecordId()).isEqualTo(6);
        assertThat(read.get(0).getRecordUpserted().getValuesMap().get("c1").getText()).isEqualTo("a");
    }

    @Test
    void rowsSpanChunksAndNameTheirLaneTypeAndId() throws Exception {
        List<Rows.Row> rows = new ArrayList<>();
        for (int i = 1; i <= 20_000; i++) {
            rows.add(new Rows.Row(i, 1, values("c1", Value.newBuilder().setText("imported artist " + i).build())));
        }
        RecordEvents.Encoded encoded = RecordEvents.encodeUpserts(TENANT, TABLE, rows, 1, Cause.ofRequest());
        assertThat(encoded.chunks()).hasSizeGreaterThan(1);
        List<String[]> fields = new ArrayList<>();
        List<EventEnvelope> envelopes = read(encoded, fields);
        assertThat(envelopes).hasSize(20_000);
        assertThat(envelopes.get(19_999).getRecordUpserted().getValuesMap().get("c1").getText()).isEqualTo("imported artist 20000");
        assertThat(fields.get(0)[0]).isEqualTo(Topics.RECORDS_BULK);
        assertThat(fields.get(0)[1]).isEqualTo(TENANT + "/" + TABLE);
        assertThat(fields.get(0)[2]).isEqualTo(envelopes.get(0).getEventId());
        assertThat(fields.get(0)[3]).isEqualTo("RecordUpserted");
        // the bulk lane's rows are packs of 500 events (kit OutboxRows)
        assertThat(fields).hasSize(40).allSatisfy(f -> assertThat(f[4]).isEqualTo("500"));
        assertThat(read(RecordEvents.encodeUpserts(TENANT, TABLE, rows.subList(0, 1), 1, Cause.ofRequest()), fields = new ArrayList<>()))
            .hasSize(1);
        assertThat(fields.get(0)[0]).isEqualTo(Topics.RECORDS);
    }

    private static Map<String, Value> values(Object... kv) {
        Map<String, Value> m = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            m.put((String) kv[i], (Value) kv[i + 1]);
        }
        return m;
    }

    private static List<EventEnvelope> read(RecordEvents.Encoded encoded) throws Exception {
        return read(encoded, new ArrayList<>());
    }

    /** Parses COPY BINARY: header, then per row a field count and (length, bytes) per field; -1 ends. */
    private static List<EventEnvelope> read(RecordEvents.Encoded encoded, List<String[]> fields) throws Exception {
        int total = encoded.chunks().stream().mapToInt(c -> c.length).sum();
        ByteBuffer b = ByteBuffer.allocate(total);
        encoded.chunks().forEach(b::put);
        b.flip();
        byte[] header = new byte[19];
        b.get(header);
        assertThat(new String(header, 0, 5, StandardCharsets.US_ASCII)).isEqualTo("PGCOP");
        List<EventEnvelope> out = new ArrayList<>();
        for (short n = b.getShort(); n != -1; n = b.getShort()) {
            assertThat(n).isEqualTo((short) 6);
            byte[][] f = new byte[6][];
            for (int i = 0; i < 6; i++) {
                f[i] = new byte[b.getInt()];
                b.get(f[i]);
            }
            ByteBuffer id = ByteBuffer.wrap(f[2]);
            int events = ByteBuffer.wrap(f[4]).getInt();
            fields.add(new String[] {new String(f[0], StandardCharsets.UTF_8), new String(f[1], StandardCharsets.UTF_8),
                new UUID(id.getLong(), id.getLong()).toString(), new String(f[3], StandardCharsets.UTF_8),
                Integer.toString(events)});
            for (byte[] envelope : Packs.envelopes(f[5], events)) {
                out.add(EventEnvelope.parseFrom(envelope));
            }
        }
        assertThat(b.remaining()).isZero();
        return out;
    }
}
