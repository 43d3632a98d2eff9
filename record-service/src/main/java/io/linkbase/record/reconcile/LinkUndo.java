package io.linkbase.record.reconcile;

import io.linkbase.kit.grpc.ApiException;
import io.linkbase.proto.events.v1.ColumnLinkUndone;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.v1.ColumnType;
import io.linkbase.record.catalog.Catalog;
import io.linkbase.record.sql.Canonical;
import io.linkbase.record.sql.PhysicalNames;
import io.linkbase.record.catalog.Rows;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.regex.Pattern;

import static io.linkbase.record.sql.PhysicalNames.quote;

/**
 * Undo of a link. When reconciling, the link keeps (in {@code link_undo_values}, in the same
 * transaction) every value it clears and, when it changes the type of a column that was not
 * text, every value it converts; {@link #undo} puts them back: the former type, every cleared
 * value whose cell is still empty, every converted value that was not changed since. Values
 * written since the link are kept (converted back to the former type).
 */
public final class LinkUndo {
    private static final Logger LOG = LoggerFactory.getLogger(LinkUndo.class);
    /** Tenant, table and column ids are generated ([a-z0-9_-], UUIDs); checked before they are spliced. */
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9_-]{1,64}");
    private static final String VALUES = "public.link_undo_values";

    private LinkUndo() {
    }

    /** The CTE of the link's clearing statement that keeps each cleared value (see ValueClearing.statement). */
    static String keepCleared(Catalog.Table table, Catalog.Column column) {
        // A record cleared twice by one link (a value written again while it reconciles) keeps the
        // newer cleared value; one it converted keeps the value from before the conversion.
        return "k AS (INSERT INTO " + VALUES + " AS o (tenant_id, table_id, column_id, record_id, former, cleared) SELECT "
            + literal(table.tenantId()) + ", " + literal(table.id()) + ", " + literal(column.id())
            + ", x.p, x.native, true FROM x ON CONFLICT (tenant_id, table_id, column_id, record_id) DO UPDATE SET "
            + "former = CASE WHEN o.cleared THEN EXCLUDED.former ELSE o.former END, cleared = true)";
    }

    /**
     * Before the link converts the column to the target's type: keeps the values it converts,
     * unless the column was text (a kept text value is its canonical text, which converts back
     * exactly, so keeping it would only cost time).
     */
    static void keepConverted(Connection c, Catalog.Table table, Catalog.Column column) throws SQLException {
        if (column.type() == ColumnType.TEXT) {
            return;
        }
        String col = quote(column.physical());
        try (PreparedStatement s = c.prepareStatement("INSERT INTO " + VALUES
            + " (tenant_id, table_id, column_id, record_id, former, cleared) SELECT ?, ?, ?, a."
            + quote(table.primaryKey().physical()) + ", a." + col + "::text, false FROM " + table.qualified()
            + " a WHERE a." + col + " IS NOT NULL")) {
            s.setString(1, table.tenantId());
            s.setString(2, table.id());
            s.setString(3, column.id());
            s.executeUpdate();
        }
    }

    /**
     * Whether the column's current link can be undone faithfully; refuses with 409
     * {@code conflict} saying why when it cannot. Changes nothing.
     */
    public static void check(Connection c, Catalog.Table table, String columnId) throws SQLException {
        Catalog.Column column = table.column(columnId).orElseThrow(() -> ApiException.notFound("column " + columnId));
        Catalog.Link link = table.links().get(columnId);
        if (link == null) {
            throw ApiException.notFound("link of column " + columnId);
        }
        ColumnType former = previousType(c, table, columnId);
        if (former == null) {
            throw ApiException.conflict("conflict", "this link was made before undo existed: the values it cleared "
                + "were not kept, so it cannot be undone faithfully; unlink it instead");
        }
        String col = "a." + quote(column.physical());
        String pk = "a." + quote(table.primaryKey().physical());
        if (former != column.type()) {
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT count(*), min(" + pk + ") FROM " + table.qualified() + " a WHERE "
                     + col + " IS NOT NULL AND " + Canonical.convert(column.type(), former, col) + " IS NULL")) {
                rs.next();
                if (rs.getLong(1) > 0) {
                    throw ApiException.conflict("conflict", rs.getLong(1) + " value(s) written since the link cannot be "
                        + "converted back to the column's former type " + former.name().toLowerCase(java.util.Locale.ROOT)
                        + " (record " + rs.getLong(2) + ", for one); change or clear them first");
                }
            }
        }
        if (column.unique()) {
            try (Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT count(*), min(v.record_id) FROM " + VALUES + " v JOIN "
                     + table.qualified() + " a ON " + pk + " = v.record_id WHERE " + sameLink(table, columnId, "v")
                     + " AND v.cleared AND " + col + " IS NULL AND NOT (" + uniqueRestorable(table, column, former) + ")")) {
                rs.next();
                if (rs.getLong(1) > 0) {
                    throw ApiException.conflict("conflict", rs.getLong(1) + " cleared value(s) cannot be restored: the "
                        + "column is unique and the same value is now in another record (record " + rs.getLong(2)
                        + ", for one); change that record first");
                }
            }
        }
    }

    /**
     * ColumnLinkUndone: drops the foreign key, converts the column back to its former type (a value
     * that does not convert, written in the instant between the gateway's check and this event, is
     * cleared and published like any type change would), restores the kept values and forgets the
     * link. Each restored record gets a new version and a RecordUpserted.
     */
    public static void undo(Connection c, EventEnvelope e) throws SQLException {
        ColumnLinkUndone u = e.getColumnLinkUndone();
        String tenant = e.getTenantId();
        Catalog.Table table = Catalog.require(c, tenant, e.getAggregateId());
        String columnId = u.getColumnId();
        Catalog.Link link = table.links().get(columnId);
        boolean kept = link != null && link.linkVersion() == u.getLinkVersion() && previousType(c, table, columnId) != null;
        long t0 = System.nanoTime();
        ValueClearing.lockWriters(c, table);
        PhysicalLinks.dropForeignKey(c, table, columnId);
        List<ValueClearing.Cleared> lost = Retyping.retype(c, e, columnId, u.getRestoredType());
        long t1 = System.nanoTime();
        int restored = 0;
        if (kept) {
            Catalog.Table now = Catalog.require(c, tenant, table.id());
            Catalog.Column column = now.column(columnId).orElseThrow(() ->
                new IllegalStateException("column " + columnId + " is not in the catalog"));
            restored = ValueClearing.clearAndPublish(c, tenant, now, column, restoring(now, column), io.linkbase.kit.events.Cause.of(e)).size();
        } else {
            LOG.warn("undo of link {}/{}.{} (version {}): nothing was kept for it here; the type is restored, values stay",
                tenant, table.id(), columnId, u.getLinkVersion());
        }
        long t2 = System.nanoTime();
        PhysicalLinks.forgetLink(c, tenant, table.id(), columnId);
        long t3 = System.nanoTime();
        LOG.info("undid link of {}/{}.{}: restored {} value(s), {} value(s) written since did not convert, in {} ms "
                + "(drop foreign key + convert back {} ms, restore + events {} ms, forget kept values {} ms)",
            tenant, table.id(), columnId, restored, lost.size(), (t3 - t0) / 1_000_000, (t1 - t0) / 1_000_000,
            (t2 - t1) / 1_000_000, (t3 - t2) / 1_000_000);
    }

    /**
     * One statement: puts back each kept value where the cell still holds what the link left
     * (empty for a cleared value, the converted value for a converted one), returning each
     * restored row in the shape {@code ValueClearing.clearAndPublish} expects.
     */
    private static String restoring(Catalog.Table table, Catalog.Column column) {
        String col = "a." + quote(column.physical());
        String formerValue = "CAST(v.former AS " + PhysicalNames.sqlType(column.type()) + ")";
        String still = "CASE WHEN v.cleared THEN " + col + " IS NULL ELSE " + col + " IS NOT NULL AND " + col
            + "::text <> v.former AND " + Canonical.text(column.type(), col) + " = "
            + Canonical.text(column.type(), formerValue) + " END";
        String unique = column.unique() ? " AND " + uniqueRestorable(table, column, column.type()) : "";
        return "UPDATE " + table.qualified() + " a SET " + quote(column.physical()) + " = " + formerValue + ", "
            + Rows.VERSION + " = a." + Rows.VERSION + " + 1 FROM " + VALUES + " v WHERE " + sameLink(table, column.id(), "v")
            + " AND a." + quote(table.primaryKey().physical()) + " = v.record_id AND " + still + unique
            + " RETURNING NULL::text, " + Rows.selectList(table, "a");
    }

    /**
     * For a unique column: v's value is in no other record and no other kept cleared value is the
     * same, so restoring it cannot break the constraint (such a value stays cleared).
     */
    private static String uniqueRestorable(Catalog.Table table, Catalog.Column column, ColumnType former) {
        String col = quote(column.physical());
        String pk = quote(table.primaryKey().physical());
        String formerValue = "CAST(v.former AS " + PhysicalNames.sqlType(former) + ")";
        String current = column.type() == former ? "b." + col : Canonical.convert(column.type(), former, "b." + col);
        return "NOT EXISTS (SELECT 1 FROM " + table.qualified() + " b WHERE " + current + " = " + formerValue
            + " AND b." + pk + " <> v.record_id) AND NOT EXISTS (SELECT 1 FROM " + VALUES + " w WHERE "
            + sameLink(table, column.id(), "w") + " AND w.cleared AND w.former = v.former AND w.record_id <> v.record_id)";
    }

    private static String sameLink(Catalog.Table table, String columnId, String alias) {
        return alias + ".tenant_id = " + literal(table.tenantId()) + " AND " + alias + ".table_id = " + literal(table.id())
            + " AND " + alias + ".column_id = " + literal(columnId);
    }

    /** The column's type before its current link; null when the link predates undo. */
    private static ColumnType previousType(Connection c, Catalog.Table table, String columnId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
            "SELECT previous_type FROM physical_links WHERE tenant_id = ? AND table_id = ? AND column_id = ?")) {
            s.setString(1, table.tenantId());
            s.setString(2, table.id());
            s.setString(3, columnId);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() && rs.getString(1) != null ? ColumnType.valueOf(rs.getString(1)) : null;
            }
        }
    }

    private static String literal(String id) {
        if (!ID.matcher(id).matches()) {
            throw new IllegalArgumentException("not a generated id: " + id);
        }
        return "'" + id + "'";
    }
}
