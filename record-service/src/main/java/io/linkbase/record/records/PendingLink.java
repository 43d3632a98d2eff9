package io.linkbase.record.records;

import io.linkbase.kit.grpc.ApiException;
import io.linkbase.kit.grpc.Consistency;
import io.linkbase.proto.v1.ColumnType;
import io.linkbase.proto.v1.LinkedValue;
import io.linkbase.proto.v1.Record;
import io.linkbase.proto.v1.Value;
import io.linkbase.record.catalog.Catalog;
import io.linkbase.record.catalog.Rows;
import io.linkbase.record.sql.Canonical;
import io.linkbase.record.sql.PhysicalNames;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import static io.linkbase.record.sql.PhysicalNames.quote;

/**
 * A single-record write at a link's table version while the link's reconciliation still clears
 * the column (phase {@code CLEARING}: column not converted, no foreign key yet), so that such a
 * write need not wait for the reconciliation's clearing (issue 14 point 3, docs/decisions.md
 * "Writers during a link"). The write is checked as the link will check it — the column's value
 * in the target's type, and a target record that has it, locked {@code FOR KEY SHARE} until the
 * write commits — and stored in the unconverted column as its canonical text, which the
 * conversion step turns into exactly that value (a value that later matches nothing, because its
 * target was deleted before the foreign key existed, is cleared by the reconciliation like any
 * other). The answer shows the record as of the link's version: the column in the target's type
 * with its linked record, empty where the value will be cleared.
 *
 * <p>Only for a text column linked to an integer key (the common link of imported ids) and for a
 * link that keeps its column's type; any other pending link makes the write wait, as reads do.
 */
final class PendingLink {
    private final Catalog.Table table;
    private final Catalog.Column column;
    private final Catalog.Table target;
    private final Catalog.Column targetColumn;

    private PendingLink(Catalog.Table table, Catalog.Column column, Catalog.Table target, Catalog.Column targetColumn) {
        this.table = table;
        this.column = column;
        this.target = target;
        this.targetColumn = targetColumn;
    }

    /** The link the caller's version of {@code table} names, if it is still clearing and a write can go on at it. */
    static Optional<PendingLink> of(Connection c, Catalog.Table table) throws SQLException {
        Long version = Consistency.required().get(table.id());
        return version == null ? Optional.empty() : at(c, table, version);
    }

    /** The link of version {@code version} of {@code table}, if it is still clearing and a write can go on at it. */
    static Optional<PendingLink> at(Connection c, Catalog.Table table, long version) throws SQLException {
        String columnId;
        String targetTableId;
        String targetColumnId;
        ColumnType previous;
        try (PreparedStatement s = c.prepareStatement("SELECT column_id, target_table_id, target_column_id, previous_type "
            + "FROM physical_links WHERE tenant_id = ? AND table_id = ? AND link_version = ? AND phase = 'CLEARING'")) {
            s.setString(1, table.tenantId());
            s.setString(2, table.id());
            s.setLong(3, version);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                columnId = rs.getString(1);
                targetTableId = rs.getString(2);
                targetColumnId = rs.getString(3);
                previous = ColumnType.valueOf(rs.getString(4));
            }
        }
        Catalog.Column column = table.column(columnId).orElse(null);
        Catalog.Table target = targetTableId.equals(table.id()) ? table : Catalog.table(c, table.tenantId(), targetTableId).orElse(null);
        Catalog.Column targetColumn = target == null ? null : target.column(targetColumnId).orElse(null);
        if (column == null || targetColumn == null || column.type() != previous) {
            return Optional.empty();
        }
        boolean textToInteger = previous == ColumnType.TEXT && targetColumn.type() == ColumnType.INTEGER;
        if (!textToInteger && previous != targetColumn.type()) {
            return Optional.empty();
        }
        return Optional.of(new PendingLink(table, column, target, targetColumn));
    }

    /**
     * The incoming values checked as at the link's version (the linked column in the target's
     * type), keyed by the table's columns as they are now; the linked column's text is its
     * canonical text, which the conversion parses back to the same value.
     */
    Map<Catalog.Column, String> check(Map<String, Value> values) {
        Map<String, Catalog.Column> columns = new LinkedHashMap<>(table.columns());
        columns.put(column.id(), new Catalog.Column(column.id(), column.physical(), targetColumn.type(), false, column.unique()));
        Catalog.Table asLinked = new Catalog.Table(table.tenantId(), table.id(), table.displayColumnId(), columns, table.links());
        Map<Catalog.Column, String> out = new LinkedHashMap<>();
        for (Map.Entry<Catalog.Column, String> e : IncomingValues.check(asLinked, values).entrySet()) {
            out.put(table.column(e.getKey().id()).orElseThrow(), e.getValue());
        }
        return out;
    }

    /**
     * The record as of the link's version: the linked column's value in the target's type with
     * its linked record, or empty when no target has it (the reconciliation clears it). When this
     * write set the column ({@code written}), a value no target has is refused, as the foreign key
     * will refuse it, and the target record is locked against deletes until the write commits.
     */
    Record asLinked(Connection c, Record record, boolean written) throws SQLException {
        Value stored = record.getValuesMap().get(column.id());
        Record.Builder out = record.toBuilder();
        if (stored == null || stored.getKindCase() == Value.KindCase.NULL_VALUE) {
            return out.build();
        }
        Catalog.Column display = target.column(target.displayColumnId() == null ? "" : target.displayColumnId())
            .orElse(target.primaryKey());
        String key = column.type() == targetColumn.type()
            ? "?::" + PhysicalNames.sqlType(targetColumn.type()) : Canonical.parse(targetColumn.type(), "?");
        try (PreparedStatement s = c.prepareStatement("SELECT l." + quote(target.primaryKey().physical()) + ", "
            + Canonical.text(display.type(), "l." + quote(display.physical())) + ", "
            + Canonical.text(targetColumn.type(), "l." + quote(targetColumn.physical())) + " FROM " + target.qualified()
            + " l WHERE l." + quote(targetColumn.physical()) + " = " + key + (written ? " FOR KEY SHARE" : ""))) {
            s.setString(1, IncomingValues.text(column.id(), column.type(), stored));
            try (ResultSet rs = s.executeQuery()) {
                if (rs.next()) {
                    String summary = rs.getString(2);
                    return out.putValues(column.id(), Rows.value(targetColumn.type(), rs.getString(3)))
                        .putLinks(column.id(), LinkedValue.newBuilder().setRecordId(rs.getLong(1))
                            .setSummary(summary == null ? "" : summary).build()).build();
                }
            }
        }
        if (written) {
            throw ApiException.invalid("values." + column.id(), SqlErrors.NO_SUCH_TARGET);
        }
        return out.putValues(column.id(), Rows.value(targetColumn.type(), null)).build();
    }

    String columnId() {
        return column.id();
    }
}
