package io.linkbase.record.records;

import io.grpc.Status;
import io.linkbase.kit.db.Db;
import io.linkbase.kit.grpc.ApiException;
import io.linkbase.proto.v1.LinkPreview;
import io.linkbase.record.catalog.Catalog;
import io.linkbase.record.reconcile.ColumnChanges;
import io.linkbase.record.reconcile.LinkUndo;
import jakarta.inject.Singleton;

import java.util.List;

/** The checks before a link or its undo: what linking a column would keep and clear, whether an undo is faithful. */
@Singleton
class LinkChecks {
    private final Db db;
    private final SqlErrors errors;

    LinkChecks(Db db, SqlErrors errors) {
        this.db = db;
        this.errors = errors;
    }

    LinkPreview preview(String tenant, String tableId, String columnId, String targetTableId, String targetColumnId) {
        return errors.mapped(() -> db.read(c -> {
            Catalog.Table t = Records.table(c, tenant, tableId);
            Catalog.Column column = t.column(columnId).orElseThrow(() -> ApiException.notFound("column " + columnId));
            Catalog.Table target = Catalog.table(c, tenant, targetTableId)
                .orElseThrow(() -> ApiException.notFound("target table " + targetTableId));
            Catalog.Column targetColumn = targetColumnId == null || targetColumnId.isEmpty() ? target.primaryKey()
                : target.column(targetColumnId).orElseThrow(() -> ApiException.notFound("target column " + targetColumnId));
            if (!targetColumn.primaryKey() && !targetColumn.unique()) {
                throw new ApiException(Status.Code.INVALID_ARGUMENT, "link_target_not_unique",
                    "the target column must be the primary key or a unique column", List.of());
            }
            if (column.primaryKey()) {
                throw ApiException.invalid("columnId", "the primary key cannot be linked");
            }
            return ColumnChanges.preview(c, t, column, target, targetColumn);
        }), tenant, tableId);
    }

    /** Whether the column's link can be undone faithfully (409 {@code conflict} saying why when not). */
    void checkLinkUndo(String tenant, String tableId, String columnId) {
        errors.mapped(() -> db.read(c -> {
            LinkUndo.check(c, Records.table(c, tenant, tableId), columnId);
            return null;
        }), tenant, tableId);
    }
}
