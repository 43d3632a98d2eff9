package io.linkbase.search.targets;

import io.linkbase.kit.events.Cause;
import io.linkbase.kit.events.Envelopes;
import io.linkbase.kit.events.EventVersions;
import io.linkbase.kit.events.Topics;
import io.linkbase.kit.outbox.Outbox;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.events.v1.LinkProgressed;
import io.linkbase.proto.events.v1.LinkTargetIndexed;
import io.linkbase.proto.v1.LinkState;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * search-service's events: LinkTargetIndexed, appended to the outbox in the transaction that
 * records the target as indexed. The envelope's aggregate is {@code search:<linking table id>}
 * with its own gapless version sequence: not the bare table id, because record-service already
 * numbers the table's record events under that id and schema-service follows both topics with
 * one consumer (one applied version per aggregate).
 */
final class LinkReports {
    static final String AGGREGATE_PREFIX = "search:";
    static final String PROGRESS_PREFIX = "progress:";

    private LinkReports() {
    }

    /** A report owed to a link; {@code cause} is its ColumnLinked's (the link request, that event). */
    record Owed(String table, String column, long linkVersion, Cause cause) {
    }

    /**
     * Emits LinkTargetIndexed for every live link owed one by {@code target}, each caused by its
     * link's ColumnLinked; returns how many.
     */
    static int emitOwed(Connection c, String tenant, String target, long indexedCount)
        throws SQLException {
        List<Owed> owed = owed(c, tenant, target);
        try (PreparedStatement d = c.prepareStatement(
            "DELETE FROM owed_reports WHERE tenant_id = ? AND target_table_id = ?")) {
            d.setString(1, tenant);
            d.setString(2, target);
            d.executeUpdate();
        }
        for (Owed o : owed) {
            String aggregate = AGGREGATE_PREFIX + o.table();
            EventEnvelope e = Envelopes.seal(EventEnvelope.newBuilder().setLinkTargetIndexed(LinkTargetIndexed.newBuilder()
                    .setTableId(o.table()).setColumnId(o.column()).setTargetTableId(target)
                    .setLinkVersion(o.linkVersion()).setIndexedCount(indexedCount)),
                tenant, aggregate, EventVersions.next(c, tenant, aggregate), o.cause().correlationId(), o.cause().causationId(), Instant.now());
            Outbox.append(c, Topics.SEARCH, e);
        }
        return owed.size();
    }

    /** The live links that {@code target}'s backfill still owes a report. */
    private static List<Owed> owed(Connection c, String tenant, String target) throws SQLException {
        List<Owed> owed = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement(
            "SELECT o.table_id, o.column_id, o.link_version, o.correlation_id, o.causation_id FROM owed_reports o JOIN links l "
                + "ON l.tenant_id = o.tenant_id AND l.table_id = o.table_id AND l.column_id = o.column_id "
                + "AND l.link_version = o.link_version AND l.target_table_id = o.target_table_id "
                + "WHERE o.tenant_id = ? AND o.target_table_id = ? ORDER BY o.table_id, o.column_id")) {
            s.setString(1, tenant);
            s.setString(2, target);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    owed.add(new Owed(rs.getString(1), rs.getString(2), rs.getLong(3), new Cause(rs.getString(4), rs.getString(5))));
                }
            }
        }
        return owed;
    }

    /**
     * Emits LinkProgressed (INDEXING, documents {@code done} of {@code total}) for every live link
     * still owed a report by {@code target}. Progress is not history: its aggregate is
     * {@code progress:<linking table>} and its version the clock in ms (schema-service keeps the newest).
     */
    static int emitProgress(Connection c, String tenant, String target, long done, long total) throws SQLException {
        List<Owed> owed = owed(c, tenant, target);
        Instant now = Instant.now();
        for (Owed o : owed) {
            EventEnvelope e = Envelopes.seal(EventEnvelope.newBuilder().setLinkProgressed(LinkProgressed.newBuilder()
                    .setTableId(o.table()).setColumnId(o.column()).setLinkVersion(o.linkVersion())
                    .setPhase(LinkState.INDEXING).setDone(done).setTotal(total)),
                tenant, PROGRESS_PREFIX + o.table(), now.toEpochMilli(), o.cause().correlationId(), o.cause().causationId(), now);
            Outbox.append(c, Topics.SEARCH, e);
        }
        return owed.size();
    }
}
