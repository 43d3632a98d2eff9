package io.linkbase.record.publish;

import io.linkbase.kit.events.Cause;
import io.linkbase.kit.events.EventVersions;
import io.linkbase.kit.events.Envelopes;
import io.linkbase.kit.events.Topics;
import io.linkbase.kit.outbox.OutboxRows;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.events.v1.RecordDeleted;
import io.linkbase.proto.events.v1.RecordUpserted;
import io.linkbase.proto.v1.Value;
import io.linkbase.record.catalog.Rows;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The typed publisher of record-service's events (topic {@code linkbase.records.v1}). Every event
 * of a table is enveloped with aggregate = the table and aggregate_version = the next number of
 * the table's gapless sequence (kit {@link EventVersions}, aggregate = the table); the sequence row stays locked
 * until commit, so versions follow commit order and the outbox holds them in order. Events reach
 * the outbox with one COPY in the caller's transaction (the rows kit {@code Outbox.append}
 * writes, without one round trip per event).
 */
public final class RecordEvents {
    /**
     * Writes of more events than this at once (batch imports, reconciliations and retypes of
     * many rows) go to the bulk lane, {@link Topics#RECORDS_BULK}; smaller ones to
     * {@link Topics#RECORDS}. The relay publishes the interactive lane first and search-service
     * consumes each lane on its own, so one tenant's import never queues ahead of another
     * tenant's single write (docs/decisions.md, "Lanes").
     */
    public static final int BULK_THRESHOLD = 100;

    private RecordEvents() {
    }

    /** Starts a table's sequence (on TableCreated); a redelivered creation keeps it. */
    public static void startSequence(Connection c, String tenantId, String tableId) throws SQLException {
        EventVersions.start(c, tenantId, tableId);
    }

    public static EventEnvelope.Builder upserted(String tableId, Rows.Row row) {
        return EventEnvelope.newBuilder().setRecordUpserted(RecordUpserted.newBuilder()
            .setTableId(tableId).setRecordId(row.id()).setRecordVersion(row.version()).putAllValues(row.values()));
    }

    public static EventEnvelope.Builder deleted(String tableId, long recordId, long recordVersion) {
        return EventEnvelope.newBuilder().setRecordDeleted(RecordDeleted.newBuilder()
            .setTableId(tableId).setRecordId(recordId).setRecordVersion(recordVersion));
    }

    /**
     * Appends {@code payloads} (all of table {@code tableId}) to the outbox, in order, correlated
     * and caused as {@code cause} says (kit {@link Cause}: the user's request, the causing event).
     */
    public static void publish(Connection c, String tenantId, String tableId, List<EventEnvelope.Builder> payloads,
                               Cause cause) throws SQLException {
        append(c, tenantId, tableId, payloads.size(), first -> encode(tenantId, tableId, payloads, first, cause));
    }

    /** Reserves {@code events} versions of the table's sequence and copies what {@code encode} gives for the first. */
    private static void append(Connection c, String tenantId, String tableId, int events,
                               java.util.function.LongFunction<Encoded> encode) throws SQLException {
        if (events > 0) {
            copy(c, encode.apply(reserve(c, tenantId, tableId, events)));
        }
    }

    /** Reserves {@code n} consecutive versions of the table's sequence (kit {@link EventVersions}); returns the first. */
    public static long reserve(Connection c, String tenantId, String tableId, int n) throws SQLException {
        return EventVersions.reserve(c, tenantId, tableId, n);
    }

    /** Outbox rows in COPY's binary format, in chunks; pure computation, so it may run beside SQL work. */
    public record Encoded(List<byte[]> chunks) {
    }

    /** The lane (topic) of a write of {@code events} record events. */
    public static String topicFor(int events) {
        return events > BULK_THRESHOLD ? Topics.RECORDS_BULK : Topics.RECORDS;
    }

    /**
     * The rows for kit {@link OutboxRows}' COPY (binary: the text format doubled an envelope in
     * hex, the largest single cost of an import in record-service, docs/decisions.md "Import
     * speed"). A RecordUpserted envelope is written straight to its wire bytes
     * ({@link UpsertWriter}); other payloads are sealed and serialized by protobuf.
     */
    public static Encoded encode(String tenantId, String tableId, List<EventEnvelope.Builder> payloads,
                                 long firstVersion, Cause cause) {
        Batch batch = new Batch(tenantId, tableId, payloads.size(), firstVersion, cause);
        for (EventEnvelope.Builder payload : payloads) {
            if (payload.getPayloadCase() == EventEnvelope.PayloadCase.RECORD_UPSERTED) {
                RecordUpserted u = payload.getRecordUpserted();
                batch.upsert(u.getTableId(), u.getRecordId(), u.getRecordVersion(), u.getValuesMap());
            } else {
                batch.sealed(payload);
            }
        }
        return batch.finish();
    }

    /** As {@link #encode}, for a RecordUpserted of each row (an import, a reconciliation): no builders at all. */
    public static Encoded encodeUpserts(String tenantId, String tableId, List<Rows.Row> rows, long firstVersion,
                                        Cause cause) {
        Batch batch = new Batch(tenantId, tableId, rows.size(), firstVersion, cause);
        for (Rows.Row row : rows) {
            batch.upsert(tableId, row.id(), row.version(), row.values());
        }
        return batch.finish();
    }

    /** As {@link #publish}, for a RecordUpserted of each row, in order. */
    public static void publishUpserts(Connection c, String tenantId, String tableId, List<Rows.Row> rows,
                                      Cause cause) throws SQLException {
        append(c, tenantId, tableId, rows.size(), first -> encodeUpserts(tenantId, tableId, rows, first, cause));
    }

    /** One COPY's rows being written: the fields every row of the write shares, and the rows. */
    private static final class Batch {
        private final String tenantId;
        private final String tableId;
        private final Cause cause;
        private final Instant now = Instant.now();
        private final UpsertWriter upserts;
        private final OutboxRows rows;
        private long version;

        Batch(String tenantId, String tableId, int events, long firstVersion, Cause cause) {
            this.tenantId = tenantId;
            this.tableId = tableId;
            this.cause = cause;
            this.version = firstVersion;
            this.upserts = new UpsertWriter(tenantId, tableId, cause, now);
            this.rows = new OutboxRows(topicFor(events), tenantId + "/" + tableId);
        }

        void upsert(String payloadTableId, long recordId, long recordVersion, Map<String, Value> values) {
            UUID id = newEventId();
            int size = upserts.size(id.toString(), version, payloadTableId, recordId, recordVersion, values);
            int at = rows.reserve(id, UpsertWriter.TYPE, size);
            upserts.write(rows.array(), at, size);
            version++;
        }

        void sealed(EventEnvelope.Builder payload) {
            UUID id = newEventId();
            EventEnvelope e = Envelopes.seal(payload, id.toString(), tenantId, tableId, version++, cause.correlationId(), cause.causationId(), now);
            rows.add(id, e.getEventType(), e.toByteArray());
        }

        Encoded finish() {
            return new Encoded(rows.finish());
        }
    }

    /** A random (version 4) UUID from a non-blocking generator: event ids need uniqueness, not secrecy. */
    private static UUID newEventId() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        return new UUID((random.nextLong() & 0xffffffffffff0fffL) | 0x0000000000004000L,
            (random.nextLong() & 0x3fffffffffffffffL) | 0x8000000000000000L);
    }

    public static void copy(Connection c, Encoded rows) throws SQLException {
        OutboxRows.copy(c, rows.chunks());
    }
}
