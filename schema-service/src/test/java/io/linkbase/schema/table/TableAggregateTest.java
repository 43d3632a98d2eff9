package io.linkbase.schema.table;

import io.linkbase.kit.grpc.ApiException;
import io.linkbase.proto.events.v1.ColumnLinkUndone;
import io.linkbase.proto.events.v1.ColumnLinked;
import io.linkbase.proto.events.v1.ColumnUnlinked;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.v1.Column;
import io.linkbase.proto.v1.ColumnType;
import io.linkbase.proto.v1.Link;
import io.linkbase.proto.v1.LinkState;
import io.linkbase.proto.v1.OnDelete;
import io.linkbase.proto.v1.Table;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Given events / when command / then events (or a refusal), with no framework and no database. */
class TableAggregateTest {
    private final AtomicInteger counter = new AtomicInteger();
    private final TableCommand.IdSource ids = () -> "col-" + counter.incrementAndGet();

    @Test
    void createTableAddsAnIntegerPrimaryKeyNamedIdAndDisplaysTheFirstTextColumn() {
        Table t = when(null, new TableCommand.CreateTable("t1", " Track ", List.of(
            new TableCommand.NewColumnSpec("Length", ColumnType.DURATION, false),
            new TableCommand.NewColumnSpec("Title", null, false)), ids));

        assertThat(t.getName()).isEqualTo("Track");
        assertThat(t.getVersion()).isEqualTo(1);
        Column pk = t.getColumns(0);
        assertThat(pk.getName()).isEqualTo("id");
        assertThat(pk.getType()).isEqualTo(ColumnType.INTEGER);
        assertThat(pk.getPrimaryKey()).isTrue();
        assertThat(t.getPrimaryKeyColumnId()).isEqualTo(pk.getId());
        assertThat(t.getColumns(2).getType()).isEqualTo(ColumnType.TEXT);
        assertThat(t.getDisplayColumnId()).isEqualTo(t.getColumns(2).getId());
    }

    @Test
    void aTableWithoutTextColumnsDisplaysItsPrimaryKey() {
        Table t = when(null, new TableCommand.CreateTable("t1", "Numbers", List.of(
            new TableCommand.NewColumnSpec("n", ColumnType.INTEGER, false)), ids));
        assertThat(t.getDisplayColumnId()).isEqualTo(t.getPrimaryKeyColumnId());
    }

    @Test
    void namesMustBeOneToOneHundredTwentyCharacters() {
        assertRefused(() -> decide(null, new TableCommand.CreateTable("t1", "  ", List.of(), ids)), "validation_failed");
        assertRefused(() -> decide(null, new TableCommand.CreateTable("t1", "x".repeat(121), List.of(), ids)), "validation_failed");
        assertThat(when(null, new TableCommand.CreateTable("t1", "é".repeat(120), List.of(), ids)).getName())
            .hasSize(120);
    }

    @Test
    void columnNamesAreUniqueCaseInsensitivelyIncludingThePrimaryKey() {
        assertRefused(() -> decide(null, new TableCommand.CreateTable("t1", "T", List.of(
            new TableCommand.NewColumnSpec("ID", ColumnType.TEXT, false)), ids)), "conflict");
        Table t = when(null, new TableCommand.CreateTable("t1", "T", List.of(
            new TableCommand.NewColumnSpec("Name", ColumnType.TEXT, false)), ids));
        assertRefused(() -> decide(t, new TableCommand.AddColumn(
            new TableCommand.NewColumnSpec("nAME", null, false), ids)), "conflict");
    }

    @Test
    void aNewColumnWithoutFieldsIsATextColumnNamedWithTheFirstFreeNumber() {
        Table t = when(null, new TableCommand.CreateTable("t1", "T", List.of(
            new TableCommand.NewColumnSpec("column 1", ColumnType.INTEGER, false),
            new TableCommand.NewColumnSpec("Column 3", ColumnType.INTEGER, false)), ids));
        Table after = when(t, new TableCommand.AddColumn(new TableCommand.NewColumnSpec(null, null, false), ids));
        Column added = after.getColumns(after.getColumnsCount() - 1);
        assertThat(added.getName()).isEqualTo("Column 2");
        assertThat(added.getType()).isEqualTo(ColumnType.TEXT);
        assertThat(after.getVersion()).isEqualTo(2);
    }

    @Test
    void renamingToTheSameNameEmitsNothing() {
        Table t = when(null, new TableCommand.CreateTable("t1", "Artist", List.of(), ids));
        assertThat(decide(t, new TableCommand.RenameTable("Artist"))).isEmpty();
        assertThat(when(t, new TableCommand.RenameTable("Artists")).getName()).isEqualTo("Artists");
    }

    @Test
    void creatingAnExistingTableIsAConflict() {
        Table t = when(null, new TableCommand.CreateTable("t1", "Artist", List.of(), ids));
        assertRefused(() -> decide(t, new TableCommand.CreateTable("t1", "Artist", List.of(), ids)), "conflict");
    }

    // --- display column, delete table -------------------------------------------------------

    @Test
    void theDisplayColumnMustBeAColumnOfTheTable() {
        Table t = track();
        Table after = when(t, new TableCommand.SetDisplayColumn(col(t, "Length").getId()));
        assertThat(after.getDisplayColumnId()).isEqualTo(col(t, "Length").getId());
        assertThat(decide(after, new TableCommand.SetDisplayColumn(col(t, "Length").getId()))).isEmpty();
        assertRefused(() -> decide(t, new TableCommand.SetDisplayColumn("no-such-column")), "validation_failed");
    }

    @Test
    void aDeletedTableAcceptsNoFurtherCommands() {
        Table t = track();
        assertThat(types(decide(t, new TableCommand.DeleteTable(List.of())))).containsExactly("TABLE_DELETED");
        assertThat(when(t, new TableCommand.DeleteTable(List.of()))).isNull();
        assertRefused(() -> decide(null, new TableCommand.RenameTable("x")), "not_found");
    }

    @Test
    void aTableThatAnotherTableLinksToCannotBeDeleted() {
        Table t = track();
        assertRefused(() -> decide(t, new TableCommand.DeleteTable(List.of(
            new TableCommand.IncomingLink("album", "a1", t.getPrimaryKeyColumnId())))), "link_target_in_use");
    }

    @Test
    void aTableThatLinksOnlyToItselfCanBeDeleted() {
        Table t = when(track(), link(track(), "Title", track(), null, null));
        Table self = when(t, new TableCommand.SetUnique(col(t, "Title").getId(), true, List.of()));
        assertThat(types(decide(self, new TableCommand.DeleteTable(List.of(
            new TableCommand.IncomingLink("t1", col(t, "Title").getId(), t.getPrimaryKeyColumnId()))))))
            .containsExactly("TABLE_DELETED");
    }

    // --- rename, retype, unique, drop -------------------------------------------------------

    @Test
    void renamingAColumnKeepsNamesUniqueCaseInsensitively() {
        Table t = track();
        Column title = col(t, "Title");
        assertThat(col(when(t, new TableCommand.RenameColumn(title.getId(), " Name ")), "Name").getId())
            .isEqualTo(title.getId());
        assertThat(when(t, new TableCommand.RenameColumn(title.getId(), "TITLE")).getColumns(2).getName())
            .isEqualTo("TITLE");
        assertRefused(() -> decide(t, new TableCommand.RenameColumn(title.getId(), "length")), "conflict");
        assertRefused(() -> decide(t, new TableCommand.RenameColumn(title.getId(), "")), "validation_failed");
        assertRefused(() -> decide(t, new TableCommand.RenameColumn("nope", "x")), "not_found");
    }

    @Test
    void retypingRecordsTheOldAndNewType() {
        Table t = track();
        Column length = col(t, "Length");
        List<EventEnvelope.Builder> events = decide(t, new TableCommand.RetypeColumn(length.getId(), ColumnType.TEXT, List.of()));
        assertThat(events).hasSize(1);
        assertThat(events.get(0).getColumnTypeChanged().getFromType()).isEqualTo(ColumnType.DURATION);
        assertThat(events.get(0).getColumnTypeChanged().getToType()).isEqualTo(ColumnType.TEXT);
        assertThat(col(when(t, new TableCommand.RetypeColumn(length.getId(), ColumnType.TEXT, List.of())), "Length")
            .getType()).isEqualTo(ColumnType.TEXT);
        assertThat(decide(t, new TableCommand.RetypeColumn(length.getId(), ColumnType.DURATION, List.of()))).isEmpty();
    }

    @Test
    void anUnknownTypeIsRefused() {
        Table t = track();
        assertRefused(() -> decide(t, new TableCommand.RetypeColumn(col(t, "Title").getId(),
            ColumnType.COLUMN_TYPE_UNSPECIFIED, List.of())), "validation_failed");
        assertRefused(() -> decide(t, new TableCommand.AddColumn(
            new TableCommand.NewColumnSpec("x", ColumnType.UNRECOGNIZED, false), ids)), "validation_failed");
    }

    @Test
    void thePrimaryKeyCannotBeRetypedDroppedOrMadeNonUnique() {
        Table t = track();
        String pk = t.getPrimaryKeyColumnId();
        assertRefused(() -> decide(t, new TableCommand.RetypeColumn(pk, ColumnType.TEXT, List.of())), "validation_failed");
        assertRefused(() -> decide(t, new TableCommand.DropColumn(pk, List.of())), "validation_failed");
        assertRefused(() -> decide(t, new TableCommand.SetUnique(pk, false, List.of())), "validation_failed");
        assertThat(decide(t, new TableCommand.SetUnique(pk, true, List.of()))).isEmpty();
    }

    @Test
    void settingUniqueEmitsColumnUniqueChangedOnlyOnChange() {
        Table t = track();
        String title = col(t, "Title").getId();
        List<EventEnvelope.Builder> events = decide(t, new TableCommand.SetUnique(title, true, List.of()));
        assertThat(events.get(0).getColumnUniqueChanged().getUnique()).isTrue();
        Table unique = when(t, new TableCommand.SetUnique(title, true, List.of()));
        assertThat(col(unique, "Title").getUnique()).isTrue();
        assertThat(decide(unique, new TableCommand.SetUnique(title, true, List.of()))).isEmpty();
        assertThat(col(when(unique, new TableCommand.SetUnique(title, false, List.of())), "Title").getUnique()).isFalse();
    }

    @Test
    void droppingAColumnRemovesItAndMovesTheDisplayColumnAway() {
        Table t = track();
        Column title = col(t, "Title");
        assertThat(t.getDisplayColumnId()).isEqualTo(title.getId());
        assertThat(types(decide(t, new TableCommand.DropColumn(title.getId(), List.of()))))
            .containsExactly("COLUMN_DROPPED", "DISPLAY_COLUMN_CHANGED");
        Table after = when(t, new TableCommand.DropColumn(title.getId(), List.of()));
        assertThat(after.getColumnsList()).extracting(Column::getName).containsExactly("id", "Length");
        assertThat(after.getDisplayColumnId()).isEqualTo(t.getPrimaryKeyColumnId());
        assertThat(types(decide(t, new TableCommand.DropColumn(col(t, "Length").getId(), List.of()))))
            .containsExactly("COLUMN_DROPPED");
        assertRefused(() -> decide(after, new TableCommand.DropColumn(title.getId(), List.of())), "not_found");
    }

    @Test
    void aColumnThatALinkTargetsCannotBeDroppedRetypedOrMadeNonUnique() {
        Table t = when(track(), new TableCommand.SetUnique(col(track(), "Title").getId(), true, List.of()));
        String title = col(t, "Title").getId();
        List<TableCommand.IncomingLink> incoming = List.of(new TableCommand.IncomingLink("album", "a1", title));
        assertRefused(() -> decide(t, new TableCommand.DropColumn(title, incoming)), "link_target_in_use");
        assertRefused(() -> decide(t, new TableCommand.RetypeColumn(title, ColumnType.INTEGER, incoming)),
            "link_target_in_use");
        assertRefused(() -> decide(t, new TableCommand.SetUnique(title, false, incoming)), "link_target_in_use");
        // A link to another column of the table does not hold this one.
        assertThat(decide(t, new TableCommand.DropColumn(col(t, "Length").getId(), incoming))).isNotEmpty();
    }

    @Test
    void aColumnThatALinkTargetsCannotBeLinkedToAColumnOfAnotherType() {
        Table t = when(track(), new TableCommand.SetUnique(col(track(), "Title").getId(), true, List.of()));
        String title = col(t, "Title").getId();
        List<TableCommand.IncomingLink> incoming = List.of(new TableCommand.IncomingLink("album", "a1", title));
        Table artist = when(artist(), new TableCommand.SetUnique(col(artist(), "Name").getId(), true, List.of()));
        // Linking to the integer primary key would retype the text column album.a1 points at.
        assertRefused(() -> decide(t, new TableCommand.LinkColumn(title, artist, null, null, incoming)),
            "link_target_in_use");
        // Linking to a column of the same type keeps the type, and the link that points here holds.
        assertThat(decide(t, new TableCommand.LinkColumn(title, artist, col(artist, "Name").getId(), null, incoming)))
            .isNotEmpty();
    }

    @Test
    void aColumnThatALinkOfItsOwnTableTargetsCannotBeDropped() {
        Table t = when(track(), new TableCommand.AddColumn(new TableCommand.NewColumnSpec("Parent", ColumnType.INTEGER, false), ids));
        Table linked = when(t, link(t, "Parent", t, null, null));
        assertRefused(() -> decide(linked, new TableCommand.DropColumn(t.getPrimaryKeyColumnId(), List.of())),
            "validation_failed");
        Table withUnique = when(linked, new TableCommand.SetUnique(col(linked, "Title").getId(), true, List.of()));
        Table alsoLinked = when(withUnique, new TableCommand.AddColumn(
            new TableCommand.NewColumnSpec("Ref", ColumnType.TEXT, false), ids));
        Table refToTitle = when(alsoLinked, link(alsoLinked, "Ref", alsoLinked, col(alsoLinked, "Title").getId(), null));
        assertRefused(() -> decide(refToTitle, new TableCommand.DropColumn(col(refToTitle, "Title").getId(), List.of())),
            "link_target_in_use");
    }

    @Test
    void aBatchIsDecidedAgainstTheStateItsEarlierCommandsLeave() {
        Table t = track();
        String title = col(t, "Title").getId();
        Table after = when(t, new TableCommand.Batch(List.of(
            new TableCommand.RenameColumn(title, "Name"),
            new TableCommand.RetypeColumn(title, ColumnType.INTEGER, List.of()),
            new TableCommand.SetUnique(title, true, List.of()))));
        assertThat(after.getVersion()).isEqualTo(t.getVersion() + 3);
        Column c = col(after, "Name");
        assertThat(c.getType()).isEqualTo(ColumnType.INTEGER);
        assertThat(c.getUnique()).isTrue();
        // All or nothing: a refused part refuses the whole batch.
        assertRefused(() -> decide(t, new TableCommand.Batch(List.of(
            new TableCommand.RenameColumn(title, "Name"),
            new TableCommand.RetypeColumn(t.getPrimaryKeyColumnId(), ColumnType.TEXT, List.of())))), "validation_failed");
    }

    // --- links ------------------------------------------------------------------------------

    @Test
    void linkingDefaultsToTheTargetsPrimaryKeyAndSetNull() {
        Table artist = artist();
        Table t = track();
        List<EventEnvelope.Builder> events = decide(t, link(t, "Title", artist, null, null));
        assertThat(events).hasSize(1);
        ColumnLinked e = events.get(0).getColumnLinked();
        assertThat(e.getColumnId()).isEqualTo(col(t, "Title").getId());
        assertThat(e.getTargetTableId()).isEqualTo("artist");
        assertThat(e.getTargetColumnId()).isEqualTo(artist.getPrimaryKeyColumnId());
        assertThat(e.getTargetColumnType()).isEqualTo(ColumnType.INTEGER);
        assertThat(e.getPreviousType()).isEqualTo(ColumnType.TEXT);
        assertThat(e.getOnDelete()).isEqualTo(OnDelete.SET_NULL);
    }

    @Test
    void afterLinkingTheColumnHasTheTargetTypeAndAReconcilingLink() {
        Table artist = artist();
        Table t = track();
        Table linked = when(t, link(t, "Title", artist, col(artist, "Code").getId(), OnDelete.CASCADE));
        Column c = col(linked, "Title");
        assertThat(c.getType()).isEqualTo(ColumnType.UUID);
        Link link = c.getLink();
        assertThat(link.getColumnId()).isEqualTo(c.getId());
        assertThat(link.getTargetTableId()).isEqualTo("artist");
        assertThat(link.getTargetColumnId()).isEqualTo(col(artist, "Code").getId());
        assertThat(link.getOnDelete()).isEqualTo(OnDelete.CASCADE);
        assertThat(link.getState()).isEqualTo(LinkState.RECONCILING);
    }

    @Test
    void theLinkTargetMustBeThePrimaryKeyOrAUniqueColumn() {
        Table artist = artist();
        Table t = track();
        assertRefused(() -> decide(t, link(t, "Title", artist, col(artist, "Name").getId(), null)),
            "link_target_not_unique");
        assertThat(decide(t, link(t, "Title", artist, col(artist, "Code").getId(), null))).hasSize(1);
    }

    @Test
    void linkingToAMissingTableOrColumnIsNotFound() {
        Table t = track();
        assertRefused(() -> decide(t, link(t, "Title", null, null, null)), "not_found");
        assertRefused(() -> decide(t, link(t, "Title", artist(), "no-such-column", null)), "not_found");
        assertRefused(() -> decide(t, new TableCommand.LinkColumn("no-such-column", artist(), null, null)), "not_found");
    }

    @Test
    void linkingAnAlreadyLinkedColumnIsAConflict() {
        Table t = track();
        Table linked = when(t, link(t, "Title", artist(), null, null));
        assertRefused(() -> decide(linked, link(linked, "Title", artist(), null, null)), "conflict");
    }

    @Test
    void aTableMayLinkToItself() {
        Table t = when(track(), new TableCommand.AddColumn(new TableCommand.NewColumnSpec("Parent", null, false), ids));
        // The command may carry an older copy of the table; the aggregate uses its own state.
        Table linked = when(t, link(t, "Parent", track(), null, null));
        Column parent = col(linked, "Parent");
        assertThat(parent.getLink().getTargetTableId()).isEqualTo("t1");
        assertThat(parent.getLink().getTargetColumnId()).isEqualTo(t.getPrimaryKeyColumnId());
        assertThat(parent.getType()).isEqualTo(ColumnType.INTEGER);
    }

    @Test
    void aColumnCannotLinkToItselfAndThePrimaryKeyCannotBeLinked() {
        Table t = when(track(), new TableCommand.SetUnique(col(track(), "Title").getId(), true, List.of()));
        assertRefused(() -> decide(t, link(t, "Title", t, col(t, "Title").getId(), null)), "validation_failed");
        assertRefused(() -> decide(t, new TableCommand.LinkColumn(t.getPrimaryKeyColumnId(), artist(), null, null)),
            "validation_failed");
    }

    @Test
    void aLinkedColumnCannotBeRetypedUntilUnlinked() {
        Table t = track();
        Table linked = when(t, link(t, "Title", artist(), null, null));
        assertRefused(() -> decide(linked, new TableCommand.RetypeColumn(col(t, "Title").getId(), ColumnType.TEXT,
            List.of())), "conflict");
    }

    @Test
    void unlinkingRestoresTheTargetColumnsTypeAndClearsTheLink() {
        Table artist = artist();
        Table t = track();
        Table linked = when(t, link(t, "Length", artist, col(artist, "Code").getId(), null));
        String length = col(t, "Length").getId();
        List<EventEnvelope.Builder> events = decide(linked, new TableCommand.UnlinkColumn(length));
        ColumnUnlinked e = events.get(0).getColumnUnlinked();
        assertThat(e.getColumnId()).isEqualTo(length);
        assertThat(e.getTargetTableId()).isEqualTo("artist");
        assertThat(e.getTargetColumnId()).isEqualTo(col(artist, "Code").getId());
        assertThat(e.getRestoredType()).isEqualTo(ColumnType.UUID);
        Column after = col(when(linked, new TableCommand.UnlinkColumn(length)), "Length");
        assertThat(after.hasLink()).isFalse();
        assertThat(after.getType()).isEqualTo(ColumnType.UUID);
    }

    @Test
    void undoingALinkRestoresTheFormerTypeAsOneEventNamingTheLinkItUndoes() {
        Table t = track();
        Table linked = when(t, link(t, "Title", artist(), null, null));
        String title = col(t, "Title").getId();
        assertThat(col(linked, "Title").getLink().getLinkVersion()).isEqualTo(linked.getVersion());
        assertThat(col(linked, "Title").getLink().getPreviousType()).isEqualTo(ColumnType.TEXT);

        List<EventEnvelope.Builder> events = decide(linked, new TableCommand.UndoLink(title, List.of()));

        assertThat(types(events)).containsExactly("COLUMN_LINK_UNDONE");
        ColumnLinkUndone e = events.get(0).getColumnLinkUndone();
        assertThat(e.getColumnId()).isEqualTo(title);
        assertThat(e.getTargetTableId()).isEqualTo("artist");
        assertThat(e.getRestoredType()).isEqualTo(ColumnType.TEXT);
        assertThat(e.getLinkVersion()).isEqualTo(linked.getVersion());
        Column after = col(when(linked, new TableCommand.UndoLink(title, List.of())), "Title");
        assertThat(after.hasLink()).isFalse();
        assertThat(after.getType()).isEqualTo(ColumnType.TEXT);
    }

    @Test
    void undoIsNotFoundWithoutALinkAndRefusedWhenTheColumnIsNowALinkTargetOfAnotherType() {
        Table t = track();
        String title = col(t, "Title").getId();
        assertRefused(() -> decide(t, new TableCommand.UndoLink(title, List.of())), "not_found");
        Table linked = when(t, link(t, "Title", artist(), null, null));
        Table unique = when(linked, new TableCommand.SetUnique(title, true, List.of()));
        List<TableCommand.IncomingLink> incoming = List.of(new TableCommand.IncomingLink("other", "c", title));
        assertRefused(() -> decide(unique, new TableCommand.UndoLink(title, incoming)), "link_target_in_use");
    }

    @Test
    void aLinkRecordedWithoutItsFormerTypeCannotBeUndone() {
        Table t = track();
        String title = col(t, "Title").getId();
        EventEnvelope old = EventEnvelope.newBuilder().setAggregateId("t1").setAggregateVersion(t.getVersion() + 1)
            .setColumnLinked(ColumnLinked.newBuilder().setColumnId(title).setTargetTableId("artist")
                .setTargetColumnId("artist-col-0").setTargetColumnType(ColumnType.INTEGER)).build();
        Table linked = TableAggregate.apply(t, old);
        assertRefused(() -> decide(linked, new TableCommand.UndoLink(title, List.of())), "conflict");
    }

    @Test
    void unlinkingAColumnThatIsNotLinkedIsNotFound() {
        Table t = track();
        assertRefused(() -> decide(t, new TableCommand.UnlinkColumn(col(t, "Title").getId())), "not_found");
    }

    @Test
    void anInvalidOnDeleteIsRefused() {
        Table t = track();
        assertRefused(() -> decide(t, link(t, "Title", artist(), null, OnDelete.UNRECOGNIZED)), "validation_failed");
    }

    @Test
    void replayingTheEventsRebuildsTheState() {
        List<EventEnvelope> events = new ArrayList<>();
        Table state = null;
        Table artist = artist();
        for (TableCommand c : List.of(
            new TableCommand.CreateTable("t1", "Track", List.of(new TableCommand.NewColumnSpec("Title", null, false)), ids),
            new TableCommand.AddColumn(new TableCommand.NewColumnSpec("Artist", ColumnType.TEXT, false), ids),
            new TableCommand.RenameTable("Tracks"))) {
            state = record(state, c, events);
        }
        state = record(state, link(state, "Artist", artist, null, OnDelete.RESTRICT), events);
        state = record(state, new TableCommand.UnlinkColumn(col(state, "Artist").getId()), events);
        state = record(state, new TableCommand.DropColumn(col(state, "Title").getId(), List.of()), events);
        assertThat(TableAggregate.replay(events)).isEqualTo(state);
    }

    // --- helpers ----------------------------------------------------------------------------

    // --- limits (docs/limits.md) -----------------------------------------------------------

    @Test
    void aTableIsCreatedWithAtMostOneThousandColumnsThePrimaryKeyIncluded() {
        Table full = when(null, new TableCommand.CreateTable("t1", "Wide", specs(TableAggregate.MAX_COLUMNS - 1), ids));
        assertThat(full.getColumnsCount()).isEqualTo(TableAggregate.MAX_COLUMNS);
        assertLimit(() -> decide(null, new TableCommand.CreateTable("t1", "Wider", specs(TableAggregate.MAX_COLUMNS), ids)),
            "columns", "at most 1000 columns", "asks for 1001");
        assertLimit(() -> decide(null, new TableCommand.CreateTable("t1", "Postgres", specs(1600), ids)),
            "columns", "at most 1000 columns", "asks for 1601");
    }

    @Test
    void addingAColumnToAFullTableIsRefusedAndDroppingOneMakesRoom() {
        List<EventEnvelope> log = new ArrayList<>();
        Table t = record(null, new TableCommand.CreateTable("t1", "Wide", specs(TableAggregate.MAX_COLUMNS - 2), ids), log);
        t = record(t, TableAggregate.slotsUsed(log), new TableCommand.AddColumn(new TableCommand.NewColumnSpec(null, null, false), ids), log);
        assertThat(t.getColumnsCount()).isEqualTo(TableAggregate.MAX_COLUMNS);
        Table full = t;
        assertLimit(() -> TableAggregate.decide(full, TableAggregate.slotsUsed(log),
            new TableCommand.AddColumn(new TableCommand.NewColumnSpec(null, null, false), ids)), "columns", "this table has 1000");
        t = record(t, TableAggregate.slotsUsed(log), new TableCommand.DropColumn(t.getColumns(5).getId(), List.of()), log);
        t = record(t, TableAggregate.slotsUsed(log), new TableCommand.AddColumn(new TableCommand.NewColumnSpec(null, null, false), ids), log);
        assertThat(t.getColumnsCount()).isEqualTo(TableAggregate.MAX_COLUMNS);
    }

    @Test
    void droppedColumnsKeepTheirSlotUntilTheTableCanTakeNoMoreColumns() {
        List<EventEnvelope> log = new ArrayList<>();
        Table t = record(null, new TableCommand.CreateTable("t1", "Churn", specs(9), ids), log);
        assertThat(TableAggregate.slotsUsed(log)).isEqualTo(11); // id, 9 columns, _version
        // add and drop, over and over: live columns stay at 10, slots grow by one each time
        while (TableAggregate.slotsUsed(log) < TableAggregate.MAX_COLUMN_SLOTS) {
            t = record(t, TableAggregate.slotsUsed(log), new TableCommand.AddColumn(new TableCommand.NewColumnSpec("x", null, false), ids), log);
            t = record(t, TableAggregate.slotsUsed(log), new TableCommand.DropColumn(col(t, "x").getId(), List.of()), log);
        }
        assertThat(t.getColumnsCount()).isEqualTo(10);
        Table worn = t;
        assertLimit(() -> TableAggregate.decide(worn, TableAggregate.slotsUsed(log),
                new TableCommand.AddColumn(new TableCommand.NewColumnSpec("y", null, false), ids)),
            "columns", "all 1500 column slots", "create a new table and copy the records into it");
        // what uses no new slot still works: rename, retype, drop
        Column c = worn.getColumns(1);
        assertThat(types(TableAggregate.decide(worn, TableAggregate.slotsUsed(log),
            new TableCommand.RetypeColumn(c.getId(), ColumnType.INTEGER, List.of())))).containsExactly("COLUMN_TYPE_CHANGED");
        assertThat(types(TableAggregate.decide(worn, TableAggregate.slotsUsed(log),
            new TableCommand.RenameColumn(c.getId(), "renamed")))).containsExactly("COLUMN_RENAMED");
    }

    @Test
    void typeChangesAndLinksUseNoNewSlot() {
        List<EventEnvelope> log = new ArrayList<>();
        Table t = record(null, new TableCommand.CreateTable("t1", "T", specs(2), ids), log);
        int before = TableAggregate.slotsUsed(log);
        t = record(t, before, new TableCommand.RetypeColumn(t.getColumns(1).getId(), ColumnType.INTEGER, List.of()), log);
        t = record(t, TableAggregate.slotsUsed(log), new TableCommand.LinkColumn(t.getColumns(2).getId(), artist(), null, null), log);
        t = record(t, TableAggregate.slotsUsed(log), new TableCommand.UnlinkColumn(t.getColumns(2).getId()), log);
        assertThat(TableAggregate.slotsUsed(log)).isEqualTo(before);
    }

    @Test
    void aBatchCountsTheSlotsItsOwnCommandsUse() {
        List<EventEnvelope> log = new ArrayList<>();
        Table t = record(null, new TableCommand.CreateTable("t1", "T", specs(TableAggregate.MAX_COLUMNS - 2), ids), log);
        Table almost = t;
        assertLimit(() -> TableAggregate.decide(almost, TableAggregate.slotsUsed(log), new TableCommand.Batch(List.of(
            new TableCommand.AddColumn(new TableCommand.NewColumnSpec(null, null, false), ids),
            new TableCommand.AddColumn(new TableCommand.NewColumnSpec(null, null, false), ids)))), "columns", "at most 1000");
    }

    private static List<TableCommand.NewColumnSpec> specs(int n) {
        List<TableCommand.NewColumnSpec> specs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            specs.add(new TableCommand.NewColumnSpec("c" + i, ColumnType.TEXT, false));
        }
        return specs;
    }

    private static Table record(Table state, int slotsUsed, TableCommand command, List<EventEnvelope> log) {
        long version = state == null ? 0 : state.getVersion();
        Table next = state;
        for (EventEnvelope.Builder b : TableAggregate.decide(state, slotsUsed, command)) {
            EventEnvelope e = b.setAggregateId("t1").setAggregateVersion(++version).build();
            log.add(e);
            next = TableAggregate.apply(next, e);
        }
        return next;
    }

    private static void assertLimit(Runnable command, String field, String... detail) {
        assertThatThrownBy(command::run).isInstanceOfSatisfying(ApiException.class, e -> {
            assertThat(e.code()).isEqualTo("limit_exceeded");
            assertThat(e.status().getCode()).isEqualTo(io.grpc.Status.Code.FAILED_PRECONDITION);
            assertThat(e.info().getErrors(0).getField()).isEqualTo(field);
            assertThat(e.getMessage()).contains(detail);
        });
    }

    private Table track() {
        counter.set(0);
        return when(null, new TableCommand.CreateTable("t1", "Track", List.of(
            new TableCommand.NewColumnSpec("Length", ColumnType.DURATION, false),
            new TableCommand.NewColumnSpec("Title", null, false)), ids));
    }

    /** Table "artist": primary key, a non-unique text Name, a unique uuid Code. */
    private static Table artist() {
        AtomicInteger n = new AtomicInteger();
        List<EventEnvelope> events = new ArrayList<>();
        for (EventEnvelope.Builder b : TableAggregate.decide(null, new TableCommand.CreateTable("artist", "Artist",
            List.of(new TableCommand.NewColumnSpec("Name", ColumnType.TEXT, false),
                new TableCommand.NewColumnSpec("Code", ColumnType.UUID, true)), () -> "artist-col-" + n.incrementAndGet()))) {
            events.add(b.setAggregateId("artist").setAggregateVersion(1).build());
        }
        return TableAggregate.replay(events);
    }

    private static TableCommand.LinkColumn link(Table t, String column, Table target, String targetColumnId,
                                                OnDelete onDelete) {
        return new TableCommand.LinkColumn(col(t, column).getId(), target, targetColumnId, onDelete);
    }

    private static Column col(Table t, String name) {
        return t.getColumnsList().stream().filter(c -> c.getName().equals(name)).findFirst()
            .orElseThrow(() -> new AssertionError("no column " + name));
    }

    private static List<String> types(List<EventEnvelope.Builder> events) {
        return events.stream().map(b -> b.getPayloadCase().name()).toList();
    }

    private static Table record(Table state, TableCommand command, List<EventEnvelope> log) {
        long version = state == null ? 0 : state.getVersion();
        Table next = state;
        for (EventEnvelope.Builder b : TableAggregate.decide(state, command)) {
            EventEnvelope e = b.setAggregateId("t1").setAggregateVersion(++version).build();
            log.add(e);
            next = TableAggregate.apply(next, e);
        }
        return next;
    }

    private static void assertRefused(Runnable command, String code) {
        assertThatThrownBy(command::run).isInstanceOfSatisfying(ApiException.class,
            e -> assertThat(e.code()).isEqualTo(code));
    }

    private static List<EventEnvelope.Builder> decide(Table state, TableCommand command) {
        return TableAggregate.decide(state, command);
    }

    /** Decides, then applies the events with consecutive versions, as the store does. */
    private static Table when(Table state, TableCommand command) {
        List<EventEnvelope> events = new ArrayList<>();
        long version = state == null ? 0 : state.getVersion();
        for (EventEnvelope.Builder b : decide(state, command)) {
            events.add(b.setAggregateId("t1").setAggregateVersion(++version).build());
        }
        Table next = state;
        for (EventEnvelope e : events) {
            next = TableAggregate.apply(next, e);
        }
        return next;
    }
}
