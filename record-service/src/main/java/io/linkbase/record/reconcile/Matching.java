package io.linkbase.record.reconcile;

import io.linkbase.proto.v1.ColumnType;
import io.linkbase.record.catalog.Catalog;
import io.linkbase.record.sql.Canonical;

import static io.linkbase.record.sql.PhysicalNames.quote;

/**
 * The exact-match condition of API.md, as one SQL expression shared by reconciliation and
 * preview: a value is kept when its canonical text is that of a value of the target column.
 * The target column is unique, so the anti-join probes its index (or hashes it) once per row.
 */
final class Matching {
    private Matching() {
    }

    /** SQL: {@code source} (of type {@code from}) equals, by canonical text, a value of the target column. */
    static String matches(String source, ColumnType from, Catalog.Table target, Catalog.Column targetColumn) {
        ColumnType to = targetColumn.type();
        String m = "m." + quote(targetColumn.physical());
        if (from == to && Canonical.equalityIsTextual(to)) {
            return "EXISTS (SELECT 1 FROM " + target.qualified() + " m WHERE " + m + " = " + source + ")";
        }
        String text = Canonical.text(from, source);
        String condition = m + " = " + Canonical.parse(to, text);
        if (!Canonical.equalityIsTextual(to)) {
            condition += " AND " + Canonical.text(to, m) + " = " + text;
        }
        return "EXISTS (SELECT 1 FROM " + target.qualified() + " m WHERE " + condition + ")";
    }
}
