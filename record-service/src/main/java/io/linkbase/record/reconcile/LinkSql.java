package io.linkbase.record.reconcile;

import io.linkbase.proto.v1.OnDelete;
import io.linkbase.record.catalog.Catalog;
import io.linkbase.record.catalog.Rows;
import io.linkbase.record.sql.Canonical;
import io.linkbase.record.sql.PhysicalNames;

import static io.linkbase.record.sql.PhysicalNames.quote;

/**
 * The statements of a link, in order: {@link LinkReconciliation} runs them with its bookkeeping,
 * {@code ReconcileBenchmarkIT} runs the same ones bare ({@code bareClear}: the clearing without
 * keeping values for undo or publishing them).
 */
record LinkSql(String clear, String bareClear, String retype, String addForeignKey, String validate) {
    static LinkSql of(Catalog.Table table, Catalog.Column column, Catalog.Table target, Catalog.Column targetColumn,
                      OnDelete onDelete, String constraint) {
        String c = quote(column.physical());
        String match = Matching.matches("a." + c, column.type(), target, targetColumn);
        // The cleared values are kept for undo by the same statement that clears them.
        String clear = ValueClearing.statement(table, column, "a." + c + " IS NOT NULL AND NOT " + match,
            LinkUndo.keepCleared(table, column), false);
        String bareClear = "UPDATE " + table.qualified() + " a SET " + c + " = NULL, " + Rows.VERSION + " = a."
            + Rows.VERSION + " + 1 WHERE a." + c + " IS NOT NULL AND NOT " + match;
        String retype = column.type() == targetColumn.type() ? null
            : "ALTER TABLE " + table.qualified() + " ALTER COLUMN " + c + " TYPE "
                + PhysicalNames.sqlType(targetColumn.type()) + " USING " + Canonical.convert(column.type(), targetColumn.type(), c);
        String action = switch (onDelete) {
            case RESTRICT -> "RESTRICT";
            case CASCADE -> "CASCADE";
            default -> "SET NULL";
        };
        String fk = "ALTER TABLE " + table.qualified() + " ADD CONSTRAINT " + quote(constraint) + " FOREIGN KEY (" + c
            + ") REFERENCES " + target.qualified() + " (" + quote(targetColumn.physical()) + ") ON DELETE " + action
            + " NOT VALID";
        String validate = "ALTER TABLE " + table.qualified() + " VALIDATE CONSTRAINT " + quote(constraint);
        return new LinkSql(clear, bareClear, retype, fk, validate);
    }
}
