package io.linkbase.schema.table;

import io.linkbase.proto.v1.ColumnType;
import io.linkbase.proto.v1.OnDelete;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.UnaryOperator;

/**
 * A table as the aggregate knows it: what its events made of it, nothing of how it is shown or
 * sent (the public {@code Table} message is built from it by the store). Immutable; column
 * types and on-delete actions are the enums the events carry.
 *
 * @param version the version of the last event applied
 */
public record TableState(String id, String name, long version, String primaryKeyColumnId, String displayColumnId,
                         List<Column> columns) {

    public TableState {
        columns = List.copyOf(columns);
    }

    /**
     * @param link null while the column is not linked
     */
    public record Column(String id, String name, ColumnType type, boolean primaryKey, boolean unique,
                         ColumnLink link) {
        public boolean linked() {
            return link != null;
        }

        Column withName(String newName) {
            return new Column(id, newName, type, primaryKey, unique, link);
        }

        Column withType(ColumnType newType) {
            return new Column(id, name, newType, primaryKey, unique, link);
        }

        Column withUnique(boolean newUnique) {
            return new Column(id, name, type, primaryKey, newUnique || primaryKey, link);
        }

        Column withLink(ColumnType newType, ColumnLink newLink) {
            return new Column(id, name, newType, primaryKey, unique, newLink);
        }
    }

    /**
     * A column's link to a column of a table (maybe this one).
     *
     * @param linkVersion  the version of the {@code ColumnLinked} event that made it
     * @param previousType the column's type before it (what undo restores); unspecified for links
     *                     made before undo existed
     */
    public record ColumnLink(String targetTableId, String targetColumnId, OnDelete onDelete, long linkVersion,
                             ColumnType previousType) {
    }

    /** The column with id {@code columnId}, if the table has it. */
    public Optional<Column> column(String columnId) {
        return columns.stream().filter(c -> c.id().equals(columnId)).findFirst();
    }

    TableState withName(String newName, long newVersion) {
        return new TableState(id, newName, newVersion, primaryKeyColumnId, displayColumnId, columns);
    }

    TableState withDisplayColumn(String columnId, long newVersion) {
        return new TableState(id, name, newVersion, primaryKeyColumnId, columnId, columns);
    }

    TableState withColumns(List<Column> newColumns, long newVersion) {
        return new TableState(id, name, newVersion, primaryKeyColumnId, displayColumnId, newColumns);
    }

    public TableState withVersion(long newVersion) {
        return new TableState(id, name, newVersion, primaryKeyColumnId, displayColumnId, columns);
    }

    TableState withColumnAdded(Column column, long newVersion) {
        List<Column> next = new ArrayList<>(columns);
        next.add(column);
        return withColumns(next, newVersion);
    }

    TableState withColumnChanged(String columnId, UnaryOperator<Column> change, long newVersion) {
        return withColumns(columns.stream().map(c -> c.id().equals(columnId) ? change.apply(c) : c).toList(), newVersion);
    }

    TableState withColumnRemoved(String columnId, long newVersion) {
        return withColumns(columns.stream().filter(c -> !c.id().equals(columnId)).toList(), newVersion);
    }
}
