package io.linkbase.record.reconcile;

import io.linkbase.kit.events.Cause;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.record.catalog.Catalog;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import static io.linkbase.record.sql.PhysicalNames.quote;

/** A column's UNIQUE constraint, turned on (clearing the later repeats) or off. */
final class Uniqueness {
    private Uniqueness() {
    }

    /**
     * ColumnUniqueChanged. Turning uniqueness on where values repeat keeps the first occurrence
     * (lowest id) and clears the later ones, like any other conversion: the event is a decision
     * already taken, and a stuck event would stop every later change of the table.
     */
    static void setUnique(Connection c, EventEnvelope e, String columnId, boolean unique) throws SQLException {
        String tenant = e.getTenantId();
        Catalog.Table table = Catalog.require(c, tenant, e.getAggregateId());
        Catalog.Column column = table.column(columnId).orElseThrow(() ->
            new IllegalStateException("column " + columnId + " is not in the catalog"));
        String col = quote(column.physical());
        String pk = quote(table.primaryKey().physical());
        try (Statement s = c.createStatement()) {
            for (String existing : uniqueConstraints(c, table, column)) {
                s.execute("ALTER TABLE " + table.qualified() + " DROP CONSTRAINT " + quote(existing));
            }
        }
        if (unique) {
            ValueClearing.lockWriters(c, table);
            String later = "a." + pk + " IN (SELECT z.p FROM (SELECT " + pk + " AS p, row_number() OVER (PARTITION BY "
                + col + " ORDER BY " + pk + ") AS n FROM " + table.qualified() + " WHERE " + col
                + " IS NOT NULL) z WHERE z.n > 1)";
            ValueClearing.clearAndPublish(c, tenant, table, column, ValueClearing.statement(table, column, later), Cause.of(e));
            try (Statement s = c.createStatement()) {
                s.execute("ALTER TABLE " + table.qualified() + " ADD CONSTRAINT " + quote(uniqueName(column)) + " UNIQUE (" + col + ")");
            }
        }
        try (PreparedStatement s = c.prepareStatement(
            "UPDATE physical_columns SET is_unique = ? WHERE tenant_id = ? AND table_id = ? AND column_id = ?")) {
            s.setBoolean(1, unique);
            s.setString(2, tenant);
            s.setString(3, table.id());
            s.setString(4, columnId);
            s.executeUpdate();
        }
    }

    private static String uniqueName(Catalog.Column column) {
        return "u_" + column.physical().substring(2);
    }

    private static List<String> uniqueConstraints(Connection c, Catalog.Table table, Catalog.Column column) throws SQLException {
        List<String> names = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement(
            "SELECT con.conname FROM pg_constraint con JOIN pg_attribute att ON att.attrelid = con.conrelid "
                + "AND att.attname = ? WHERE con.conrelid = to_regclass(?) AND con.contype = 'u' "
                + "AND con.conkey = ARRAY[att.attnum]")) {
            s.setString(1, column.physical());
            s.setString(2, table.qualified());
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    names.add(rs.getString(1));
                }
            }
        }
        return names;
    }
}
