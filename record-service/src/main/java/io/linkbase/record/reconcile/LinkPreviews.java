package io.linkbase.record.reconcile;

import io.linkbase.proto.v1.ClearedSample;
import io.linkbase.proto.v1.LinkPreview;
import io.linkbase.record.catalog.Catalog;
import io.linkbase.record.catalog.Rows;
import io.linkbase.record.sql.Canonical;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

import static io.linkbase.record.sql.PhysicalNames.quote;

/** What a link would keep and clear, read without changing anything (the same match as reconciliation). */
final class LinkPreviews {
    private LinkPreviews() {
    }

    /** Link preview: the counts and up to 20 samples reconciliation would clear; changes nothing. */
    static LinkPreview preview(Connection c, Catalog.Table table, Catalog.Column column, Catalog.Table target,
                               Catalog.Column targetColumn) throws SQLException {
        String col = "a." + quote(column.physical());
        String match = Matching.matches(col, column.type(), target, targetColumn);
        LinkPreview.Builder preview = LinkPreview.newBuilder();
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FILTER (WHERE " + match + "), count(*) FROM "
                 + table.qualified() + " a WHERE " + col + " IS NOT NULL")) {
            rs.next();
            preview.setKeptCount(rs.getLong(1)).setClearedCount(rs.getLong(2) - rs.getLong(1));
        }
        String pk = "a." + quote(table.primaryKey().physical());
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT " + pk + ", " + Canonical.text(column.type(), col) + " FROM "
                 + table.qualified() + " a WHERE " + col + " IS NOT NULL AND NOT " + match + " ORDER BY " + pk + " LIMIT 20")) {
            while (rs.next()) {
                preview.addClearedSamples(ClearedSample.newBuilder().setRecordId(rs.getLong(1))
                    .setValue(Rows.value(column.type(), rs.getString(2))));
            }
        }
        return preview.build();
    }
}
