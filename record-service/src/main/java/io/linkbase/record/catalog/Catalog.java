package io.linkbase.record.catalog;

import io.linkbase.proto.v1.ColumnType;
import io.linkbase.proto.v1.OnDelete;
import io.linkbase.record.sql.PhysicalNames;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What record-service knows about a tenant's tables, from its own catalog (kept by the schema
 * events in the same transactions as the DDL). Every lookup is by tenant, so another tenant's
 * ids are simply not there.
 */
public final class Catalog {
    private Catalog() {
    }

    public record Column(String id, String physical, ColumnType type, boolean primaryKey, boolean unique) {
    }

    public record Link(String tableId, String columnId, String targetTableId, String targetColumnId,
                       OnDelete onDelete, long linkVersion) {
        public String constraintName() {
            return "fk_" + PhysicalNames.column(columnId).substring(2);
        }
    }

    /** A table with its columns (in catalog order, primary key first) and its outgoing links. */
    public record Table(String tenantId, String id, String displayColumnId, Map<String, Column> columns,
                        Map<String, Link> links) {
        public String qualified() {
            return PhysicalNames.qualified(tenantId, id);
        }

        public Column primaryKey() {
            return columns.values().stream().filter(Column::primaryKey).findFirst()
                .orElseThrow(() -> new IllegalStateException("table " + id + " has no primary key"));
        }

        public Optional<Column> column(String columnId) {
            return Optional.ofNullable(columns.get(columnId));
        }
    }

    public static Optional<Table> table(Connection c, String tenantId, String tableId) throws SQLException {
        String display;
        try (PreparedStatement s = c.prepareStatement(
            "SELECT display_column_id FROM physical_tables WHERE tenant_id = ? AND table_id = ?")) {
            s.setString(1, tenantId);
            s.setString(2, tableId);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                display = rs.getString(1);
            }
        }
        Map<String, Column> columns = new LinkedHashMap<>();
        try (PreparedStatement s = c.prepareStatement(
            "SELECT column_id, column_name, column_type, primary_key, is_unique FROM physical_columns "
                + "WHERE tenant_id = ? AND table_id = ? ORDER BY primary_key DESC, column_name")) {
            s.setString(1, tenantId);
            s.setString(2, tableId);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    columns.put(rs.getString(1), new Column(rs.getString(1), rs.getString(2),
                        ColumnType.valueOf(rs.getString(3)), rs.getBoolean(4), rs.getBoolean(5)));
                }
            }
        }
        Map<String, Link> links = new LinkedHashMap<>();
        for (Link l : links(c, tenantId, "table_id = ?", tableId)) {
            links.put(l.columnId(), l);
        }
        return Optional.of(new Table(tenantId, tableId, display, columns, links));
    }

    public static Table require(Connection c, String tenantId, String tableId) throws SQLException {
        return table(c, tenantId, tableId).orElseThrow(() ->
            new IllegalStateException("table " + tenantId + "/" + tableId + " is not in the catalog"));
    }

    /**
     * Links whose target is {@code tableId} (the tables a delete there may reach). A link whose
     * reconciliation is still clearing (column not converted, no foreign key yet) is not a link
     * for anyone yet, here or in {@link Table#links()}.
     */
    public static List<Link> incoming(Connection c, String tenantId, String tableId) throws SQLException {
        return links(c, tenantId, "target_table_id = ?", tableId);
    }

    private static List<Link> links(Connection c, String tenantId, String where, String id) throws SQLException {
        List<Link> links = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement(
            "SELECT table_id, column_id, target_table_id, target_column_id, on_delete, link_version "
                + "FROM physical_links WHERE tenant_id = ? AND " + where + " AND phase <> 'CLEARING' ORDER BY table_id, column_id")) {
            s.setString(1, tenantId);
            s.setString(2, id);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    links.add(new Link(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                        OnDelete.valueOf(rs.getString(5)), rs.getLong(6)));
                }
            }
        }
        return links;
    }
}
