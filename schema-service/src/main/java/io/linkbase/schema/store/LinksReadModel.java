package io.linkbase.schema.store;

import io.linkbase.proto.events.v1.ColumnLinked;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.v1.Column;
import io.linkbase.proto.v1.Link;
import io.linkbase.proto.v1.LinkProgress;
import io.linkbase.proto.v1.LinkState;
import io.linkbase.proto.v1.Table;
import io.linkbase.schema.table.TableCommand;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The links read model ({@code links}): every link of the tenant's tables, kept in step with the
 * tables' events in their transaction, and what the other services reported about each (its
 * state, counts and progress; written by {@code linkstate}).
 */
final class LinksReadModel {
    private LinksReadModel() {
    }

    /** Links of other tables to {@code tableId}, from the links read model. */
    static List<TableCommand.IncomingLink> incoming(Connection c, String tenantId, String tableId)
        throws SQLException {
        List<TableCommand.IncomingLink> links = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement(
            "SELECT table_id, column_id, target_column_id FROM links "
                + "WHERE tenant_id = ? AND target_table_id = ? AND table_id <> ? ORDER BY table_id, column_id")) {
            s.setString(1, tenantId);
            s.setString(2, tableId);
            s.setString(3, tableId);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    links.add(new TableCommand.IncomingLink(rs.getString(1), rs.getString(2), rs.getString(3)));
                }
            }
        }
        return links;
    }

    /** Keeps the links read model in step with the table's events, in the same transaction. */
    static void save(Connection c, String tenantId, String tableId, EventEnvelope e) throws SQLException {
        switch (e.getPayloadCase()) {
            case COLUMN_LINKED -> {
                ColumnLinked l = e.getColumnLinked();
                try (PreparedStatement s = c.prepareStatement(
                    "INSERT INTO links (tenant_id, table_id, column_id, link_version, target_table_id, target_column_id) "
                        + "VALUES (?, ?, ?, ?, ?, ?)")) {
                    s.setString(1, tenantId);
                    s.setString(2, tableId);
                    s.setString(3, l.getColumnId());
                    s.setLong(4, e.getAggregateVersion());
                    s.setString(5, l.getTargetTableId());
                    s.setString(6, l.getTargetColumnId());
                    s.executeUpdate();
                }
            }
            case COLUMN_UNLINKED -> delete(c, tenantId, tableId, e.getColumnUnlinked().getColumnId());
            case COLUMN_LINK_UNDONE -> delete(c, tenantId, tableId, e.getColumnLinkUndone().getColumnId());
            case COLUMN_DROPPED -> delete(c, tenantId, tableId, e.getColumnDropped().getColumnId());
            case TABLE_DELETED -> {
                delete(c, tenantId, tableId, null);
                try (PreparedStatement s = c.prepareStatement("DELETE FROM link_outcomes WHERE tenant_id = ? AND table_id = ?")) {
                    s.setString(1, tenantId);
                    s.setString(2, tableId);
                    s.executeUpdate();
                }
            }
            default -> {
            }
        }
    }

    private static void delete(Connection c, String tenantId, String tableId, String columnId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("DELETE FROM links WHERE tenant_id = ? AND table_id = ?"
            + (columnId == null ? "" : " AND column_id = ?"))) {
            s.setString(1, tenantId);
            s.setString(2, tableId);
            if (columnId != null) {
                s.setString(3, columnId);
            }
            s.executeUpdate();
        }
    }

    /** What the other services reported about a link: its state, counts and progress. */
    record LinkStatus(boolean reconciled, boolean indexed, long kept, long cleared,
                      long reconcileDone, long reconcileTotal, long indexDone, long indexTotal) {
        LinkState state() {
            return !reconciled ? LinkState.RECONCILING : indexed ? LinkState.ACTIVE : LinkState.INDEXING;
        }

        /**
         * Rows reconciled (RECONCILING) or documents indexed (INDEXING) of the total, while not
         * ACTIVE; total 0 until the service doing the work has reported it.
         */
        LinkProgress progress() {
            return switch (state()) {
                case RECONCILING -> LinkProgress.newBuilder().setPhase(LinkState.RECONCILING)
                    .setDone(reconcileDone).setTotal(reconcileTotal).build();
                case INDEXING -> LinkProgress.newBuilder().setPhase(LinkState.INDEXING)
                    .setDone(indexDone).setTotal(indexTotal).build();
                default -> null;
            };
        }
    }

    /** The link statuses of one table ({@code tableId} non-null) or of the whole tenant. */
    static Map<String, LinkStatus> statuses(Connection c, String tenantId, String tableId)
        throws SQLException {
        Map<String, LinkStatus> statuses = new HashMap<>();
        try (PreparedStatement s = c.prepareStatement(
            "SELECT table_id, column_id, reconciled, indexed, kept_count, cleared_count, reconcile_done, reconcile_total, "
                + "index_done, index_total FROM links WHERE tenant_id = ?"
                + (tableId == null ? "" : " AND table_id = ?"))) {
            s.setString(1, tenantId);
            if (tableId != null) {
                s.setString(2, tableId);
            }
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    statuses.put(rs.getString(1) + "/" + rs.getString(2),
                        new LinkStatus(rs.getBoolean(3), rs.getBoolean(4), rs.getLong(5), rs.getLong(6),
                            rs.getLong(7), rs.getLong(8), rs.getLong(9), rs.getLong(10)));
                }
            }
        }
        return statuses;
    }

    /** The table as users see it: its state plus each link's state, counts and progress. */
    static Table withStatus(Table t, Map<String, LinkStatus> statuses) {
        Table.Builder b = null;
        for (int i = 0; i < t.getColumnsCount(); i++) {
            Column col = t.getColumns(i);
            LinkStatus status = statuses.get(t.getId() + "/" + col.getId());
            if (col.hasLink() && status != null) {
                if (b == null) {
                    b = t.toBuilder();
                }
                Link.Builder link = col.getLink().toBuilder().setState(status.state())
                    .setKeptCount(status.kept()).setClearedCount(status.cleared()).clearProgress();
                LinkProgress progress = status.progress();
                if (progress != null) {
                    link.setProgress(progress);
                }
                b.setColumns(i, col.toBuilder().setLink(link));
            }
        }
        return b == null ? t : b.build();
    }
}
