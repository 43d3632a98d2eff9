package io.linkbase.record.reconcile;

import io.linkbase.proto.v1.OnDelete;
import io.linkbase.record.catalog.Catalog;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;

import static io.linkbase.record.sql.PhysicalNames.quote;

/** What makes a link physical: its foreign key and its row in {@code physical_links}; and how it goes. */
final class PhysicalLinks {
    private PhysicalLinks() {
    }

    /** ColumnUnlinked: the foreign key goes; type and values stay. */
    static void unlink(Connection c, String tenant, String tableId, String columnId) throws SQLException {
        dropForeignKey(c, Catalog.require(c, tenant, tableId), columnId);
        forgetLink(c, tenant, tableId, columnId);
    }

    static void dropForeignKey(Connection c, Catalog.Table table, String columnId) throws SQLException {
        Catalog.Link link = table.links().get(columnId);
        String constraint = link != null ? link.constraintName()
            : new Catalog.Link(table.id(), columnId, "", "", OnDelete.SET_NULL, 0).constraintName();
        try (Statement s = c.createStatement()) {
            s.execute("ALTER TABLE " + table.qualified() + " DROP CONSTRAINT IF EXISTS " + quote(constraint));
        }
    }

    /** The link leaves the catalog, and with it what was kept to undo it. */
    static void forgetLink(Connection c, String tenant, String tableId, String columnId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
            "DELETE FROM physical_links WHERE tenant_id = ? AND table_id = ? AND column_id = ?")) {
            s.setString(1, tenant);
            s.setString(2, tableId);
            s.setString(3, columnId);
            s.executeUpdate();
        }
    }
}
