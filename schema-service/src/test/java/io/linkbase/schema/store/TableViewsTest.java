package io.linkbase.schema.store;

import io.linkbase.proto.v1.Column;
import io.linkbase.proto.v1.ColumnType;
import io.linkbase.proto.v1.Link;
import io.linkbase.proto.v1.LinkProgress;
import io.linkbase.proto.v1.LinkState;
import io.linkbase.proto.v1.OnDelete;
import io.linkbase.proto.v1.Table;
import io.linkbase.schema.table.TableState;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class TableViewsTest {
    static final TableState TRACK = new TableState("t1", "Track", 4, "c1", "c3", List.of(
        new TableState.Column("c1", "id", ColumnType.INTEGER, true, true, null),
        new TableState.Column("c2", "Artist", ColumnType.UUID, false, false,
            new TableState.ColumnLink("artist", "a3", OnDelete.CASCADE, 3, ColumnType.TEXT)),
        new TableState.Column("c3", "Title", ColumnType.TEXT, false, true, null)));

    @Test
    void theViewShowsEveryFieldAndANewLinkReconcilingWithNothingReportedYet() {
        Table view = TableViews.toProto(TRACK);
        assertThat(view).isEqualTo(Table.newBuilder().setId("t1").setName("Track").setVersion(4)
            .setPrimaryKeyColumnId("c1").setDisplayColumnId("c3")
            .addColumns(Column.newBuilder().setId("c1").setName("id").setType(ColumnType.INTEGER).setPrimaryKey(true).setUnique(true))
            .addColumns(Column.newBuilder().setId("c2").setName("Artist").setType(ColumnType.UUID)
                .setLink(Link.newBuilder().setColumnId("c2").setTargetTableId("artist").setTargetColumnId("a3")
                    .setOnDelete(OnDelete.CASCADE).setState(LinkState.RECONCILING)
                    .setProgress(LinkProgress.newBuilder().setPhase(LinkState.RECONCILING))
                    .setLinkVersion(3).setPreviousType(ColumnType.TEXT)))
            .addColumns(Column.newBuilder().setId("c3").setName("Title").setType(ColumnType.TEXT).setUnique(true))
            .build());
    }

    @Test
    void aViewReadBackIsTheSameStateWhateverTheLinkReported() {
        assertThat(TableViews.fromProto(TableViews.toProto(TRACK))).isEqualTo(TRACK);
        Table.Builder active = TableViews.toProto(TRACK).toBuilder();
        active.setColumns(1, active.getColumns(1).toBuilder().setLink(active.getColumns(1).getLink().toBuilder()
            .setState(LinkState.ACTIVE).clearProgress().setKeptCount(10).setClearedCount(2)));
        assertThat(TableViews.fromProto(active.build())).isEqualTo(TRACK);
    }
}
