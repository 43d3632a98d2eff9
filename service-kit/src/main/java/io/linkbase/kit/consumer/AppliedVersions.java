package io.linkbase.kit.consumer;

import io.linkbase.proto.events.v1.EventEnvelope;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/** The last aggregate version a consumer applied, kept in the consumer's own database. */
public final class AppliedVersions {
    public enum Verdict { APPLY, DUPLICATE, GAP }

    private AppliedVersions() {
    }

    /** Locks the aggregate's row for this transaction and judges the event against it. */
    public static Verdict judge(Connection c, String consumer, EventEnvelope e) throws SQLException {
        try (PreparedStatement ensure = c.prepareStatement(
            "INSERT INTO applied_versions (consumer, tenant_id, aggregate_id, version) VALUES (?, ?, ?, 0) "
                + "ON CONFLICT DO NOTHING")) {
            bind(ensure, consumer, e);
            ensure.executeUpdate();
        }
        long applied;
        try (PreparedStatement select = c.prepareStatement(
            "SELECT version FROM applied_versions WHERE consumer = ? AND tenant_id = ? AND aggregate_id = ? FOR UPDATE")) {
            bind(select, consumer, e);
            try (ResultSet rs = select.executeQuery()) {
                rs.next();
                applied = rs.getLong(1);
            }
        }
        long version = e.getAggregateVersion();
        if (version <= applied) {
            return Verdict.DUPLICATE;
        }
        return version == applied + 1 ? Verdict.APPLY : Verdict.GAP;
    }

    public static void record(Connection c, String consumer, EventEnvelope e) throws SQLException {
        try (PreparedStatement update = c.prepareStatement(
            "UPDATE applied_versions SET version = ? WHERE consumer = ? AND tenant_id = ? AND aggregate_id = ?")) {
            update.setLong(1, e.getAggregateVersion());
            update.setString(2, consumer);
            update.setString(3, e.getTenantId());
            update.setString(4, e.getAggregateId());
            update.executeUpdate();
        }
    }

    public static long current(Connection c, String consumer, String tenantId, String aggregateId) throws SQLException {
        try (PreparedStatement select = c.prepareStatement(
            "SELECT version FROM applied_versions WHERE consumer = ? AND tenant_id = ? AND aggregate_id = ?")) {
            select.setString(1, consumer);
            select.setString(2, tenantId);
            select.setString(3, aggregateId);
            try (ResultSet rs = select.executeQuery()) {
                return rs.next() ? rs.getLong(1) : 0;
            }
        }
    }

    private static void bind(PreparedStatement s, String consumer, EventEnvelope e) throws SQLException {
        s.setString(1, consumer);
        s.setString(2, e.getTenantId());
        s.setString(3, e.getAggregateId());
    }
}
