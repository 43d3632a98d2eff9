package io.linkbase.kit.outbox;

import io.linkbase.kit.events.Envelopes;
import io.linkbase.proto.events.v1.EventEnvelope;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.UUID;

/**
 * Appends events to the transactional outbox. Call it with the connection of the transaction
 * that makes the state change: the change and its event commit together or not at all.
 */
public final class Outbox {
    private Outbox() {
    }

    public static void append(Connection connection, String topic, EventEnvelope envelope) throws SQLException {
        try (PreparedStatement insert = connection.prepareStatement(
            "INSERT INTO outbox (topic, kafka_key, event_id, event_type, envelope) VALUES (?, ?, ?, ?, ?)")) {
            insert.setString(1, topic);
            insert.setString(2, Envelopes.kafkaKey(envelope));
            insert.setObject(3, UUID.fromString(envelope.getEventId()));
            insert.setString(4, envelope.getEventType());
            insert.setBytes(5, envelope.toByteArray());
            insert.executeUpdate();
        }
    }
}
