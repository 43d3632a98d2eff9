package io.linkbase.record.reconcile;

import io.linkbase.kit.db.Db;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.v1.ColumnType;
import io.linkbase.proto.v1.LinkPreview;
import io.linkbase.record.catalog.Catalog;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * What this package offers the rest of record-service: the column changes that change data, each
 * set-based in the caller's transaction (a link in steps of its own). Values are converted by the
 * exact canonical-text rule, so a kept value keeps its canonical text; every value that is cleared
 * bumps its record's version and is published as a RecordUpserted ({@link ValueClearing}). Each
 * job is a class of this package: {@link LinkReconciliation}, {@link Retyping},
 * {@link Uniqueness}, {@link PhysicalLinks}, {@link LinkPreviews}; {@link LinkUndo} for undo.
 */
public final class ColumnChanges {
    /**
     * Rows per step of the clearing a link does outside any table lock, unless
     * {@code linkbase.reconcile.step-rows} says otherwise.
     */
    public static final int STEP_ROWS = LinkReconciliation.STEP_ROWS;

    private ColumnChanges() {
    }

    /** ColumnLinked, in steps of {@link #STEP_ROWS} rows: see {@link LinkReconciliation#link}. */
    public static void link(Db db, Connection c, EventEnvelope e) throws SQLException {
        LinkReconciliation.link(db, c, e, STEP_ROWS);
    }

    /** ColumnLinked, in steps of {@code stepRows} rows. */
    public static void link(Db db, Connection c, EventEnvelope e, int stepRows) throws SQLException {
        LinkReconciliation.link(db, c, e, stepRows);
    }

    /** ColumnUnlinked: the foreign key goes; type and values stay. */
    public static void unlink(Connection c, String tenant, String tableId, String columnId) throws SQLException {
        PhysicalLinks.unlink(c, tenant, tableId, columnId);
    }

    /** ColumnTypeChanged: converts what converts by the exact canonical-text rule, nulls the rest. */
    public static void retype(Connection c, EventEnvelope e, String columnId, ColumnType to) throws SQLException {
        Retyping.retype(c, e, columnId, to);
    }

    /** ColumnUniqueChanged: see {@link Uniqueness#setUnique}. */
    public static void setUnique(Connection c, EventEnvelope e, String columnId, boolean unique) throws SQLException {
        Uniqueness.setUnique(c, e, columnId, unique);
    }

    /** Link preview: the counts and up to 20 samples reconciliation would clear; changes nothing. */
    public static LinkPreview preview(Connection c, Catalog.Table table, Catalog.Column column, Catalog.Table target,
                                      Catalog.Column targetColumn) throws SQLException {
        return LinkPreviews.preview(c, table, column, target, targetColumn);
    }
}
