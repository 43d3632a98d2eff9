package io.linkbase.schema.table;

import io.linkbase.proto.v1.ColumnType;
import io.linkbase.proto.v1.OnDelete;

import java.util.List;

/**
 * What a user asks of a table; the aggregate decides which events follow. Rules that span
 * tables get the other tables' state inside the command (read by the store in the same
 * transaction), so the aggregate stays free of database code.
 * <p>
 * A sealed hierarchy matched exhaustively through {@link Visitor}: a new command does not compile
 * until every visitor handles it (Java 17 has no pattern matching for switch outside preview;
 * docs/decisions.md "A pure table aggregate"). {@link Change}s are the commands on an existing
 * table, the ones a {@link Batch} may hold.
 */
public sealed interface TableCommand {

    <R> R accept(Visitor<R> visitor);

    /** One method per command: the exhaustive match of the hierarchy. */
    interface Visitor<R> {
        R createTable(CreateTable c);

        R batch(Batch c);

        R renameTable(RenameTable c);

        R setDisplayColumn(SetDisplayColumn c);

        R deleteTable(DeleteTable c);

        R addColumn(AddColumn c);

        R renameColumn(RenameColumn c);

        R retypeColumn(RetypeColumn c);

        R setUnique(SetUnique c);

        R dropColumn(DropColumn c);

        R linkColumn(LinkColumn c);

        R unlinkColumn(UnlinkColumn c);

        R undoLink(UndoLink c);
    }

    /** A command on an existing table (every command but create and batch). */
    sealed interface Change extends TableCommand {
    }

    record NewColumnSpec(String name, ColumnType type, boolean unique) {
    }

    /** A link of another table's column ({@code tableId}/{@code columnId}) to a column of this table. */
    record IncomingLink(String tableId, String columnId, String targetColumnId) {
    }

    /** Create a table with a generated primary key column {@code id} and the given columns. */
    record CreateTable(String tableId, String name, List<NewColumnSpec> columns, IdSource ids) implements TableCommand {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.createTable(this);
        }
    }

    /** Rename the table (names are unique per tenant, checked by the read model). */
    record RenameTable(String name) implements Change {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.renameTable(this);
        }
    }

    /** Show {@code columnId}'s value when a record of this table is summarised. */
    record SetDisplayColumn(String columnId) implements Change {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.setDisplayColumn(this);
        }
    }

    /** Delete the table; refused while a column of another table links to it. */
    record DeleteTable(List<IncomingLink> incoming) implements Change {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.deleteTable(this);
        }
    }

    /** Add a column; with no name it is "Column N" (first free N), with no type it is text. */
    record AddColumn(NewColumnSpec column, IdSource ids) implements Change {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.addColumn(this);
        }
    }

    record RenameColumn(String columnId, String name) implements Change {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.renameColumn(this);
        }
    }

    /** Change a column's type; refused for the primary key, a linked column and a link target. */
    record RetypeColumn(String columnId, ColumnType type, List<IncomingLink> incoming) implements Change {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.retypeColumn(this);
        }
    }

    /** Add or drop the unique constraint; a link target must stay unique, the primary key always is. */
    record SetUnique(String columnId, boolean unique, List<IncomingLink> incoming) implements Change {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.setUnique(this);
        }
    }

    /** Drop a column; refused for the primary key and a link target. */
    record DropColumn(String columnId, List<IncomingLink> incoming) implements Change {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.dropColumn(this);
        }
    }

    /**
     * Link {@code columnId} to {@code targetColumnId} (null: the primary key) of {@code target}
     * (null when that table does not exist for the tenant); {@code onDelete} null means SET_NULL.
     * {@code incoming}: links of other tables to this table, since linking changes the column's
     * type and a column that a link targets must keep its type.
     */
    record LinkColumn(String columnId, TableState target, String targetColumnId, OnDelete onDelete,
                      List<IncomingLink> incoming) implements Change {
        public LinkColumn(String columnId, TableState target, String targetColumnId, OnDelete onDelete) {
            this(columnId, target, targetColumnId, onDelete, List.of());
        }

        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.linkColumn(this);
        }
    }

    record UnlinkColumn(String columnId) implements Change {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.unlinkColumn(this);
        }
    }

    /**
     * Undo the column's link: remove it and give the column back the type it had before.
     * {@code incoming}: links of other tables to this table, since a column a link targets
     * must keep its type.
     */
    record UndoLink(String columnId, List<IncomingLink> incoming) implements Change {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.undoLink(this);
        }
    }

    /** Several changes decided together: all their events, or none. */
    record Batch(List<Change> commands) implements TableCommand {
        @Override
        public <R> R accept(Visitor<R> visitor) {
            return visitor.batch(this);
        }
    }

    /** Where new column ids come from (random in production, fixed in tests). */
    interface IdSource {
        String next();
    }
}
