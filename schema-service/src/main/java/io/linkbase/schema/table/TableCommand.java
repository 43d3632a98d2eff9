package io.linkbase.schema.table;

import io.linkbase.proto.v1.ColumnType;

import java.util.List;

/** What a user asks of a table; the aggregate decides which events follow. */
public sealed interface TableCommand {

    record NewColumnSpec(String name, ColumnType type, boolean unique) {
    }

    /** Create a table with a generated primary key column {@code id} and the given columns. */
    record CreateTable(String tableId, String name, List<NewColumnSpec> columns, IdSource ids) implements TableCommand {
    }

    /** Rename the table (names are unique per tenant, checked by the read model). */
    record RenameTable(String name) implements TableCommand {
    }

    /** Add a column; with no name it is "Column N" (first free N), with no type it is text. */
    record AddColumn(NewColumnSpec column, IdSource ids) implements TableCommand {
    }

    /** Where new column ids come from (random in production, fixed in tests). */
    interface IdSource {
        String next();
    }
}
