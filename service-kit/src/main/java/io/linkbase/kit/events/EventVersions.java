package io.linkbase.kit.events;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * The one gapless version sequence of the events a service emits itself, per (tenant, aggregate),
 * in the kit's {@code event_versions} table. A reservation updates the aggregate's row and so holds
 * its lock until the transaction ends: two transactions of one aggregate take their versions in
 * commit order, which is what consumers' gap detection needs (a version is never skipped or reused).
 */
public final class EventVersions {
    private EventVersions() {
    }

    /** Creates the aggregate's sequence at 0 (e.g. on its creation); a second call keeps it. */
    public static void start(Connection c, String tenantId, String aggregateId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
            "INSERT INTO event_versions (tenant_id, aggregate_id) VALUES (?, ?) ON CONFLICT DO NOTHING")) {
            s.setString(1, tenantId);
            s.setString(2, aggregateId);
            s.executeUpdate();
        }
    }

    /** Reserves {@code n} (≥ 1) consecutive versions of the aggregate's sequence; returns the first. */
    public static long reserve(Connection c, String tenantId, String aggregateId, int n) throws SQLException {
        if (n < 1) {
            throw new IllegalArgumentException("reserve at least one version, not " + n);
        }
        try (PreparedStatement s = c.prepareStatement(
            "INSERT INTO event_versions AS v (tenant_id, aggregate_id, last_version) VALUES (?, ?, ?) "
                + "ON CONFLICT (tenant_id, aggregate_id) DO UPDATE SET last_version = v.last_version + EXCLUDED.last_version "
                + "RETURNING last_version")) {
            s.setString(1, tenantId);
            s.setString(2, aggregateId);
            s.setLong(3, n);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1) - n + 1;
            }
        }
    }

    /** The next version of the aggregate's sequence. */
    public static long next(Connection c, String tenantId, String aggregateId) throws SQLException {
        return reserve(c, tenantId, aggregateId, 1);
    }
}
