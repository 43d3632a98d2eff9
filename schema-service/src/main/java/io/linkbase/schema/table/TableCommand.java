package io.linkbase.schema.table;

import io.linkbase.proto.v1.ColumnType;
import io.linkbase.proto.v1.OnDelete;
import io.linkbase.proto.v1.Table;

import java.util.List;

/**
 * What a user asks of a table; the aggregate decides which events follow. Rules that span
 * tables get the other tables' state inside the command (read by the store in the same
 * transaction), so the aggregate stays free of database code.
 */
public sealed interface TableCommand {

    record NewColumnSpec(String name, ColumnType type, boolean unique) {
    }

    /** A link of another table's column ({@code tableId}/{@code columnId}) to a column of this table. */
    record IncomingLink(String tableId, String columnId, String targetColumnId) {
    }

    /** Create a table with a generated primary key column {@code id} and the given columns. */
    record CreateTable(String tableId, String name, List<NewColumnSpec> columns, IdSource ids) implements TableCommand {
    }

    /** Rename the table (names are unique per tenant, checked by the read model). */
    record RenameTable(String name) implements TableCommand {
    }

    /** Show {@code columnId}'s value when a record of this table is summarised. */
    record SetDisplayColumn(String columnId) implements TableCommand {
    }

    /** Delete the table; refused while a column of another table links to it. */
    record DeleteTable(List<IncomingLink> incoming) implements TableCommand {
    }

    /** Add a column; with no name it is "Column N" (first free N), with no type it is text. */
    record AddColumn(NewColumnSpec column, IdSource ids) implements TableCommand {
    }

    record RenameColumn(String columnId, String name) implements TableCommand {
    }

    /** Change a column's type; refused for the primary key, a linked column and a link target. */
    record RetypeColumn(String columnId, ColumnType type, List<IncomingLink> incoming) implements TableCommand {
    }

    /** Add or drop the unique constraint; a link target must stay unique, the primary key always is. */
    record SetUnique(String columnId, boolean unique, List<IncomingLink> incoming) implements TableCommand {
    }

    /** Drop a column; refused for the primary key and a link target. */
    record DropColumn(String columnId, List<IncomingLink> incoming) implements TableCommand {
    }

    /**
     * Link {@code columnId} to {@code targetColumnId} (null: the primary key) of {@code target}
     * (null when that table does not exist for the tenant); {@code onDelete} null means SET_NULL.
     * {@code incoming}: links of other tables to this table, since linking changes the column's
     * type and a column that a link targets must keep its type.
     */
    record LinkColumn(String columnId, Table target, String targetColumnId, OnDelete onDelete,
                      List<IncomingLink> incoming) implements TableCommand {
        public LinkColumn(String columnId, Table target, String targetColumnId, OnDelete onDelete) {
            this(columnId, target, targetColumnId, onDelete, List.of());
        }
    }

    record UnlinkColumn(String columnId) implements TableCommand {
    }

    /**
     * Undo the column's link: remove it and give the column back the type it had before.
     * {@code incoming}: links of other tables to this table, since a column a link targets
     * must keep its type.
     */
    record UndoLink(String columnId, List<IncomingLink> incoming) implements TableCommand {
    }

    /** Several commands decided together: all their events, or none. */
    record Batch(List<TableCommand> commands) implements TableCommand {
    }

    /** Where new column ids come from (random in production, fixed in tests). */
    interface IdSource {
        String next();
    }
}
