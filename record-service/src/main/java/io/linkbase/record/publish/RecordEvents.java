package io.linkbase.record.publish;

import io.linkbase.kit.events.Envelopes;
import io.linkbase.kit.events.Topics;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.events.v1.RecordDeleted;
import io.linkbase.proto.events.v1.RecordUpserted;
import io.linkbase.record.records.Rows;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The typed publisher of record-service's events (topic {@code linkbase.records.v1}). Every event
 * of a table is enveloped with aggregate = the table and aggregate_version = the next number of
 * the table's gapless sequence ({@code record_event_versions}); the sequence row stays locked
 * until commit, so versions follow commit order and the outbox holds them in order. Events are
 * appended with one multi-row insert per chunk, in the caller's transaction.
 */
public final class RecordEvents {
    private static final int CHUNK = 5_000;

    private RecordEvents() {
    }

    /** Starts a table's sequence (on TableCreated); a redelivered creation keeps it. */
    public static void startSequence(Connection c, String tenantId, String tableId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
            "INSERT INTO record_event_versions (tenant_id, table_id) VALUES (?, ?) ON CONFLICT DO NOTHING")) {
            s.setString(1, tenantId);
            s.setString(2, tableId);
            s.executeUpdate();
        }
    }

    public static EventEnvelope.Builder upserted(String tableId, Rows.Row row) {
        return EventEnvelope.newBuilder().setRecordUpserted(RecordUpserted.newBuilder()
            .setTableId(tableId).setRecordId(row.id()).setRecordVersion(row.version()).putAllValues(row.values()));
    }

    public static EventEnvelope.Builder deleted(String tableId, long recordId, long recordVersion) {
        return EventEnvelope.newBuilder().setRecordDeleted(RecordDeleted.newBuilder()
            .setTableId(tableId).setRecordId(recordId).setRecordVersion(recordVersion));
    }

    /** Appends {@code payloads} (all of table {@code tableId}) to the outbox, in order. */
    public static void publish(Connection c, String tenantId, String tableId, List<EventEnvelope.Builder> payloads,
                               String causationId) throws SQLException {
        if (payloads.isEmpty()) {
            return;
        }
        long last = allocate(c, tenantId, tableId, payloads.size());
        long version = last - payloads.size() + 1;
        Instant now = Instant.now();
        for (int from = 0; from < payloads.size(); from += CHUNK) {
            List<EventEnvelope.Builder> chunk = payloads.subList(from, Math.min(payloads.size(), from + CHUNK));
            List<String> keys = new ArrayList<>(chunk.size());
            List<UUID> ids = new ArrayList<>(chunk.size());
            List<String> types = new ArrayList<>(chunk.size());
            byte[][] envelopes = new byte[chunk.size()][];
            int i = 0;
            for (EventEnvelope.Builder payload : chunk) {
                EventEnvelope e = Envelopes.seal(payload, tenantId, tableId, version++, causationId, causationId, now);
                keys.add(Envelopes.kafkaKey(e));
                ids.add(UUID.fromString(e.getEventId()));
                types.add(e.getEventType());
                envelopes[i++] = e.toByteArray();
            }
            // Same rows as kit Outbox.append, one statement per chunk instead of one per event.
            try (PreparedStatement insert = c.prepareStatement(
                "INSERT INTO outbox (topic, kafka_key, event_id, event_type, envelope) "
                    + "SELECT ?, k, i, t, e FROM unnest(?::text[], ?::uuid[], ?::text[], ?::bytea[]) "
                    + "WITH ORDINALITY AS x(k, i, t, e, n) ORDER BY n")) {
                insert.setString(1, Topics.RECORDS);
                insert.setArray(2, c.createArrayOf("text", keys.toArray()));
                insert.setArray(3, c.createArrayOf("uuid", ids.toArray()));
                insert.setArray(4, c.createArrayOf("text", types.toArray()));
                insert.setArray(5, c.createArrayOf("bytea", envelopes));
                insert.executeUpdate();
            }
        }
    }

    /** Reserves {@code n} versions of the table's sequence; returns the last. */
    private static long allocate(Connection c, String tenantId, String tableId, int n) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
            "INSERT INTO record_event_versions AS v (tenant_id, table_id, last_version) VALUES (?, ?, ?) "
                + "ON CONFLICT (tenant_id, table_id) DO UPDATE SET last_version = v.last_version + EXCLUDED.last_version "
                + "RETURNING last_version")) {
            s.setString(1, tenantId);
            s.setString(2, tableId);
            s.setLong(3, n);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }
}
