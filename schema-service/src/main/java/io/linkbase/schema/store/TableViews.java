package io.linkbase.schema.store;

import io.linkbase.proto.v1.Column;
import io.linkbase.proto.v1.Link;
import io.linkbase.proto.v1.LinkProgress;
import io.linkbase.proto.v1.LinkState;
import io.linkbase.proto.v1.Table;
import io.linkbase.schema.table.TableState;

/**
 * The aggregate's {@link TableState} as the public {@code Table} message the read model stores
 * and the API returns, and back (for a table a command reads from the read model). A new link
 * shows RECONCILING with nothing reported yet; the read model adds the reported state.
 */
public final class TableViews {
    private TableViews() {
    }

    public static Table toProto(TableState state) {
        Table.Builder t = Table.newBuilder()
            .setId(state.id())
            .setName(state.name())
            .setVersion(state.version())
            .setPrimaryKeyColumnId(state.primaryKeyColumnId())
            .setDisplayColumnId(state.displayColumnId());
        for (TableState.Column c : state.columns()) {
            Column.Builder column = Column.newBuilder().setId(c.id()).setName(c.name()).setType(c.type())
                .setPrimaryKey(c.primaryKey()).setUnique(c.unique());
            if (c.linked()) {
                TableState.ColumnLink l = c.link();
                column.setLink(Link.newBuilder().setColumnId(c.id()).setTargetTableId(l.targetTableId())
                    .setTargetColumnId(l.targetColumnId()).setOnDelete(l.onDelete())
                    .setState(LinkState.RECONCILING)
                    .setProgress(LinkProgress.newBuilder().setPhase(LinkState.RECONCILING)) // nothing reported yet
                    .setLinkVersion(l.linkVersion()).setPreviousType(l.previousType()));
            }
            t.addColumns(column);
        }
        return t.build();
    }

    public static TableState fromProto(Table table) {
        return new TableState(table.getId(), table.getName(), table.getVersion(), table.getPrimaryKeyColumnId(),
            table.getDisplayColumnId(), table.getColumnsList().stream().map(c -> new TableState.Column(
                c.getId(), c.getName(), c.getType(), c.getPrimaryKey(), c.getUnique(),
                !c.hasLink() ? null : new TableState.ColumnLink(c.getLink().getTargetTableId(),
                    c.getLink().getTargetColumnId(), c.getLink().getOnDelete(), c.getLink().getLinkVersion(),
                    c.getLink().getPreviousType()))).toList());
    }
}
