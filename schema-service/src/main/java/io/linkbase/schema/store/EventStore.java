package io.linkbase.schema.store;

import io.linkbase.kit.events.Envelopes;
import io.linkbase.kit.events.Topics;
import io.linkbase.kit.grpc.ApiException;
import io.linkbase.kit.outbox.Outbox;
import io.linkbase.proto.events.v1.EventEnvelope;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * The append-only event store. Appending writes each event and its outbox row in the caller's
 * transaction; a concurrent append of the same version fails on the primary key and surfaces
 * as {@code version_conflict}, so the stream never has a gap or a fork.
 */
public final class EventStore {
    private EventStore() {
    }

    public static List<EventEnvelope> load(Connection c, String tenantId, String aggregateId) throws SQLException {
        List<EventEnvelope> events = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement(
            "SELECT envelope FROM events WHERE tenant_id = ? AND aggregate_id = ? ORDER BY version")) {
            s.setString(1, tenantId);
            s.setString(2, aggregateId);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    events.add(Envelopes.parse(rs.getBytes(1)));
                }
            }
        }
        return events;
    }

    /**
     * Appends {@code payloads} after {@code currentVersion}.
     *
     * @return the sealed events, versions currentVersion+1, +2, …
     */
    public static List<EventEnvelope> append(Connection c, String tenantId, String aggregateId, long currentVersion,
                                             List<EventEnvelope.Builder> payloads, String correlationId)
        throws SQLException {
        List<EventEnvelope> sealed = new ArrayList<>();
        Instant now = Instant.now();
        String causation = "";
        long version = currentVersion;
        for (EventEnvelope.Builder payload : payloads) {
            EventEnvelope e = Envelopes.seal(payload, tenantId, aggregateId, ++version, correlationId, causation, now);
            causation = e.getEventId();
            sealed.add(e);
        }
        try (PreparedStatement insert = c.prepareStatement(
            "INSERT INTO events (tenant_id, aggregate_id, version, event_id, event_type, occurred_at, envelope) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            for (EventEnvelope e : sealed) {
                insert.setString(1, tenantId);
                insert.setString(2, aggregateId);
                insert.setLong(3, e.getAggregateVersion());
                insert.setObject(4, UUID.fromString(e.getEventId()));
                insert.setString(5, e.getEventType());
                insert.setTimestamp(6, Timestamp.from(now));
                insert.setBytes(7, e.toByteArray());
                insert.executeUpdate();
            }
        } catch (SQLException ex) {
            if ("23505".equals(ex.getSQLState())) {
                throw versionConflict(aggregateId);
            }
            throw ex;
        }
        for (EventEnvelope e : sealed) {
            Outbox.append(c, Topics.SCHEMA, e);
        }
        return sealed;
    }

    public static ApiException versionConflict(String aggregateId) {
        return new ApiException(io.grpc.Status.Code.ABORTED, "version_conflict",
            "table " + aggregateId + " was changed concurrently; reload and retry", List.of());
    }
}
