package io.linkbase.record.reconcile;

import io.linkbase.kit.events.Cause;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.v1.ColumnType;
import io.linkbase.record.catalog.Catalog;
import io.linkbase.record.reconcile.ValueClearing.Cleared;
import io.linkbase.record.sql.Canonical;
import io.linkbase.record.sql.PhysicalNames;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

import static io.linkbase.record.sql.PhysicalNames.quote;

/** A column's type change, and the catalog's record of a column's type. */
final class Retyping {
    private Retyping() {
    }

    /** ColumnTypeChanged: converts what converts by the exact canonical-text rule, nulls the rest. */
    static List<Cleared> retype(Connection c, EventEnvelope e, String columnId, ColumnType to) throws SQLException {
        String tenant = e.getTenantId();
        Catalog.Table table = Catalog.require(c, tenant, e.getAggregateId());
        Catalog.Column column = table.column(columnId).orElseThrow(() ->
            new IllegalStateException("retyped column " + columnId + " is not in the catalog"));
        if (column.type() == to) {
            return List.of();
        }
        String col = quote(column.physical());
        String converted = Canonical.convert(column.type(), to, "a." + col);
        ValueClearing.lockWriters(c, table);
        List<Cleared> cleared = ValueClearing.clearAndPublish(c, tenant, table, column,
            ValueClearing.statement(table, column, "a." + col + " IS NOT NULL AND " + converted + " IS NULL"), Cause.of(e));
        try (Statement s = c.createStatement()) {
            s.execute("ALTER TABLE " + table.qualified() + " ALTER COLUMN " + col + " TYPE " + PhysicalNames.sqlType(to)
                + " USING " + Canonical.convert(column.type(), to, col));
        }
        setType(c, tenant, table.id(), columnId, to);
        return cleared;
    }

    /** The column's type in the catalog ({@code physical_columns}). */
    static void setType(Connection c, String tenant, String tableId, String columnId, ColumnType type)
        throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
            "UPDATE physical_columns SET column_type = ? WHERE tenant_id = ? AND table_id = ? AND column_id = ?")) {
            s.setString(1, type.name());
            s.setString(2, tenant);
            s.setString(3, tableId);
            s.setString(4, columnId);
            s.executeUpdate();
        }
    }
}
