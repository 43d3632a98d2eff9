package io.linkbase.kit.parking;

import io.linkbase.kit.events.Envelopes;
import io.linkbase.kit.outbox.Packs;
import io.linkbase.proto.events.v1.EventEnvelope;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * The two places where events are set aside: {@code parked_events} (an event a consumer could
 * not apply, kit V0_1) and {@code outbox_parked} (an event the outbox relay could not publish,
 * kit V0_2; queried only where it exists).
 */
public final class ParkedEvents {
    public static final String CONSUMER_KIND = "consumer";
    public static final String OUTBOX_KIND = "outbox";

    /** One parked event as an operator sees it. */
    @io.micronaut.serde.annotation.Serdeable
    public record Parked(String kind, String consumer, String id, String eventId, String eventType, String tenant,
                         String aggregate, long version, String topic, String reason, Instant parkedAt) {
    }

    private ParkedEvents() {
    }

    /** Sets an event aside for {@code consumer}; a second parking of the same event keeps the first. */
    public static void park(Connection c, String consumer, UUID eventId, String eventType, String reason,
                            byte[] envelope) throws SQLException {
        try (PreparedStatement insert = c.prepareStatement(
            "INSERT INTO parked_events (consumer, event_id, event_type, reason, envelope) VALUES (?, ?, ?, ?, ?) "
                + "ON CONFLICT DO NOTHING")) {
            insert.setString(1, consumer);
            insert.setObject(2, eventId);
            insert.setString(3, eventType);
            insert.setString(4, reason);
            insert.setBytes(5, envelope);
            insert.executeUpdate();
        }
    }

    public static long count(Connection c, String consumer) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT count(*) FROM parked_events WHERE consumer = ?")) {
            s.setString(1, consumer);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** Removes a consumer-parked event and returns its envelope bytes (locked until the transaction ends). */
    public static Optional<byte[]> take(Connection c, String consumer, UUID eventId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
            "DELETE FROM parked_events WHERE consumer = ? AND event_id = ? RETURNING envelope")) {
            s.setString(1, consumer);
            s.setObject(2, eventId);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? Optional.of(rs.getBytes(1)) : Optional.empty();
            }
        }
    }

    /** The newest parked events of both kinds, at most {@code limit} of each. */
    public static List<Parked> list(Connection c, int limit) throws SQLException {
        List<Parked> out = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement(
            "SELECT consumer, event_id, event_type, reason, envelope, parked_at FROM parked_events "
                + "ORDER BY parked_at DESC LIMIT ?")) {
            s.setInt(1, limit);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    EventEnvelope e = readable(rs.getBytes(5));
                    out.add(new Parked(CONSUMER_KIND, rs.getString(1), rs.getString(2), rs.getString(2),
                        rs.getString(3), e == null ? null : e.getTenantId(), e == null ? null : e.getAggregateId(),
                        e == null ? 0 : e.getAggregateVersion(), null, rs.getString(4),
                        rs.getTimestamp(6).toInstant()));
                }
            }
        }
        if (outboxParkedExists(c)) {
            try (PreparedStatement s = c.prepareStatement(
                "SELECT id, topic, kafka_key, event_id, event_type, envelope, reason, parked_at, events FROM outbox_parked "
                    + "ORDER BY parked_at DESC LIMIT ?")) {
                s.setInt(1, limit);
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        EventEnvelope e = readable(rs.getBytes(6), rs.getInt(9));
                        String key = rs.getString(3);
                        int slash = key.indexOf('/');
                        out.add(new Parked(OUTBOX_KIND, null, Long.toString(rs.getLong(1)), rs.getString(4),
                            rs.getString(5), slash < 0 ? key : key.substring(0, slash),
                            slash < 0 ? null : key.substring(slash + 1), e == null ? 0 : e.getAggregateVersion(),
                            rs.getString(2), rs.getString(7), rs.getTimestamp(8).toInstant()));
                    }
                }
            }
        }
        return out;
    }

    /**
     * Moves a relay-parked row back into the outbox (at its tail, with a new id) for the relay
     * to publish again; false when there is no such row.
     */
    public static boolean requeueOutbox(Connection c, long id) throws SQLException {
        if (!outboxParkedExists(c)) {
            return false;
        }
        try (PreparedStatement s = c.prepareStatement(
            "WITH moved AS (DELETE FROM outbox_parked WHERE id = ? "
                + "RETURNING topic, kafka_key, event_id, event_type, envelope, events) "
                + "INSERT INTO outbox (topic, kafka_key, event_id, event_type, envelope, events) "
                + "SELECT topic, kafka_key, event_id, event_type, envelope, events FROM moved")) {
            s.setLong(1, id);
            return s.executeUpdate() > 0;
        }
    }

    public static boolean outboxParkedExists(Connection c) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT to_regclass('outbox_parked') IS NOT NULL");
             ResultSet rs = s.executeQuery()) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    /** The (first) envelope of a parked outbox row of {@code events} events, or null. */
    private static EventEnvelope readable(byte[] bytes, int events) {
        try {
            return readable(Packs.envelopes(bytes, events).get(0));
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static EventEnvelope readable(byte[] bytes) {
        try {
            return Envelopes.parse(bytes);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }
}
