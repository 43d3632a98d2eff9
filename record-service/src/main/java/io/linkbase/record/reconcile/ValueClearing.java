package io.linkbase.record.reconcile;

import io.linkbase.kit.events.Cause;
import io.linkbase.proto.v1.Value;
import io.linkbase.record.catalog.Catalog;
import io.linkbase.record.catalog.Rows;
import io.linkbase.record.publish.RecordEvents;
import io.linkbase.record.sql.Canonical;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import static io.linkbase.record.sql.PhysicalNames.quote;

/**
 * Clearing a column's values, set-based, in the caller's transaction: one statement finds the
 * values, nulls them, bumps their records' versions and returns each former value with the row
 * after; each changed record is published as a RecordUpserted. Link reconciliation, retyping,
 * uniqueness and undo all clear (or restore) values this way.
 */
final class ValueClearing {
    private ValueClearing() {
    }

    /** A value that was cleared, with its canonical text before. */
    record Cleared(long recordId, Value former) {
    }

    /**
     * One statement that clears {@code column} where {@code condition} holds (over alias a),
     * bumps the versions and returns each former value with the whole row after.
     */
    static String statement(Catalog.Table table, Catalog.Column column, String condition) {
        return statement(table, column, condition, null, false);
    }

    /**
     * Like {@link #statement(Catalog.Table, Catalog.Column, String)}; {@code alsoCte}, when not null,
     * is one more data-modifying CTE over x ({@code x.p} the record id, {@code x.native} the value's
     * PostgreSQL text) run by the same statement.
     */
    static String statement(Catalog.Table table, Catalog.Column column, String condition, String alsoCte,
                            boolean lockRows) {
        String col = quote(column.physical());
        String pk = quote(table.primaryKey().physical());
        // One scan finds the rows; the update reaches them again by ctid (a TID scan), not by a second
        // scan of the whole table: the ctid is stable because the caller holds a lock that keeps
        // writers out. Without that lock (lockRows) the scan locks the rows it found (re-checked once
        // locked) and the update reaches them by primary key: a row a writer changed while the scan
        // waited for it has a new ctid, and the scan reports the old one.
        return "WITH x AS MATERIALIZED (SELECT a.ctid AS t, a." + pk + " AS p, "
            + Canonical.text(column.type(), "a." + col) + " AS former"
            + (alsoCte == null ? "" : ", a." + col + "::text AS native") + " FROM " + table.qualified() + " a WHERE " + condition
            + (lockRows ? " FOR UPDATE OF a" : "") + ")" + (alsoCte == null ? "" : ", " + alsoCte) + ", u AS (UPDATE " + table.qualified() + " a SET " + col + " = NULL, " + Rows.VERSION + " = a." + Rows.VERSION
            + " + 1 WHERE " + (lockRows ? "a." + pk + " = ANY (ARRAY(SELECT x.p FROM x))" : "a.ctid = ANY (ARRAY(SELECT x.t FROM x))")
            + " RETURNING " + Rows.selectList(table, "a")
            + ", a." + pk + " AS lb_p) SELECT x.former, u.* FROM u JOIN x ON x.p = u.lb_p";
    }

    /** Keeps writers out of the table for the rest of the transaction (the lock a foreign key takes anyway). */
    static void lockWriters(Connection c, Catalog.Table table) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("LOCK TABLE " + table.qualified() + " IN SHARE ROW EXCLUSIVE MODE");
        }
    }

    /** Runs a {@link #statement}; each row: the former value, then the row after, as texts. */
    private static List<String[]> clear(Connection c, Catalog.Table table, String sql) throws SQLException {
        List<String[]> rows = new ArrayList<>();
        int width = 1 + Rows.width(table);
        try (Statement s = c.createStatement()) {
            s.setFetchSize(10_000);
            try (ResultSet rs = s.executeQuery(sql)) {
                while (rs.next()) {
                    String[] row = new String[width];
                    for (int i = 0; i < width; i++) {
                        row[i] = rs.getString(i + 1);
                    }
                    rows.add(row);
                }
            }
        }
        return rows;
    }

    /** The cleared values and their RecordUpserted events, ready for the outbox. */
    private record Prepared(List<Cleared> cleared, RecordEvents.Encoded events) {
    }

    private static Prepared prepare(Catalog.Table table, Catalog.Column column, List<String[]> raw, long firstVersion,
                                    Cause cause) {
        List<Cleared> cleared = new ArrayList<>(raw.size());
        List<Rows.Row> rows = new ArrayList<>(raw.size());
        for (String[] texts : raw) {
            Rows.Row row = Rows.fromTexts(table, texts, 1);
            cleared.add(new Cleared(row.id(), Rows.value(column.type(), texts[0])));
            rows.add(row);
        }
        RecordEvents.Encoded encoded = raw.isEmpty() ? null
            : RecordEvents.encodeUpserts(table.tenantId(), table.id(), rows, firstVersion, cause);
        return new Prepared(cleared, encoded);
    }

    /**
     * Runs a {@link #statement} (or one that returns rows in its shape) and puts a RecordUpserted
     * of each changed record into the outbox; returns the values it cleared.
     */
    static List<Cleared> clearAndPublish(Connection c, String tenant, Catalog.Table table, Catalog.Column column,
                                         String sql, Cause cause) throws SQLException {
        List<String[]> raw = clear(c, table, sql);
        if (raw.isEmpty()) {
            return List.of();
        }
        Prepared prepared = prepare(table, column, raw, RecordEvents.reserve(c, tenant, table.id(), raw.size()), cause);
        RecordEvents.copy(c, prepared.events());
        return prepared.cleared();
    }
}
