package io.linkbase.kit.consumer;

import io.linkbase.proto.events.v1.EventEnvelope;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * Applies one event inside the consumer's transaction. Whatever it writes through
 * {@code connection} commits together with the consumer's applied version, or not at all.
 */
@FunctionalInterface
public interface EventHandler {
    /** @return false when the event is not for this consumer to understand (it is parked). */
    boolean apply(Connection connection, EventEnvelope event) throws SQLException;
}
