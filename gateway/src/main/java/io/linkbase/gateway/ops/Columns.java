package io.linkbase.gateway.ops;

import io.linkbase.proto.v1.Column;
import io.linkbase.proto.v1.Table;

import java.util.Optional;

/** A table's column by id. */
final class Columns {
    private Columns() {
    }

    static Optional<Column> find(Table table, String columnId) {
        for (Column c : table.getColumnsList()) {
            if (c.getId().equals(columnId)) {
                return Optional.of(c);
            }
        }
        return Optional.empty();
    }
}
