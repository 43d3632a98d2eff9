package io.linkbase.schema.table;

import io.linkbase.proto.events.v1.ColumnAdded;
import io.linkbase.proto.events.v1.ColumnDef;
import io.linkbase.proto.events.v1.ColumnDropped;
import io.linkbase.proto.events.v1.ColumnLinkUndone;
import io.linkbase.proto.events.v1.ColumnLinked;
import io.linkbase.proto.events.v1.ColumnRenamed;
import io.linkbase.proto.events.v1.ColumnTypeChanged;
import io.linkbase.proto.events.v1.ColumnUniqueChanged;
import io.linkbase.proto.events.v1.ColumnUnlinked;
import io.linkbase.proto.events.v1.DisplayColumnChanged;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.events.v1.LinkReconciled;
import io.linkbase.proto.events.v1.TableCreated;
import io.linkbase.proto.events.v1.TableDeleted;
import io.linkbase.proto.events.v1.TableRenamed;
import io.linkbase.proto.events.v1.TenantProvisioned;
import io.linkbase.proto.v1.ColumnType;
import io.linkbase.proto.v1.OnDelete;
import io.linkbase.schema.table.TableRefusal.Kind;
import io.linkbase.schema.table.TableState.Column;
import io.linkbase.schema.table.TableState.ColumnLink;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static io.linkbase.proto.v1.ColumnType.DURATION;
import static io.linkbase.proto.v1.ColumnType.INTEGER;
import static io.linkbase.proto.v1.ColumnType.TEXT;
import static io.linkbase.proto.v1.ColumnType.UUID;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Given events / when a command / then events (or a refusal): the table's history is a list of
 * events, the command is decided against the state they leave, and what is checked is what was
 * decided. {@code apply} is checked the same way: given events, then the state they leave.
 * No framework, no database.
 */
class TableAggregateTest {

    // Track (t1): id (col-1, primary key), Length (col-2, duration), Title (col-3, text, displayed).
    static final String PK = "col-1";
    static final String LENGTH = "col-2";
    static final String TITLE = "col-3";
    static final EventEnvelope.Builder TRACK_CREATED = tableCreated("Track", PK, TITLE,
        pk(PK), def(LENGTH, "Length", DURATION, false), def(TITLE, "Title", TEXT, false));

    // Artist: id (artist-col-1), Name (artist-col-2, text, not unique), Code (artist-col-3, uuid, unique).
    static final TableState ARTIST = replay("artist", tableCreated("Artist", "artist-col-1", "artist-col-2",
        pk("artist-col-1"), def("artist-col-2", "Name", TEXT, false), def("artist-col-3", "Code", UUID, true)));
    static final TableState ARTIST_NAME_UNIQUE = replay("artist", tableCreated("Artist", "artist-col-1", "artist-col-2",
        pk("artist-col-1"), def("artist-col-2", "Name", TEXT, true), def("artist-col-3", "Code", UUID, true)));

    private final AtomicInteger counter = new AtomicInteger();
    /** New column ids: new-1, new-2, … */
    private final TableCommand.IdSource ids = () -> "new-" + counter.incrementAndGet();

    // --- create, rename, add ------------------------------------------------------------------

    @Test
    void createTableAddsAnIntegerPrimaryKeyNamedIdAndDisplaysTheFirstTextColumn() {
        given()
            .when(new TableCommand.CreateTable("t1", " Track ", List.of(
                new TableCommand.NewColumnSpec("Length", DURATION, false),
                new TableCommand.NewColumnSpec("Title", null, false)), ids))
            .thenEvents(tableCreated("Track", "new-1", "new-3",
                pk("new-1"), def("new-2", "Length", DURATION, false), def("new-3", "Title", TEXT, false)));
    }

    @Test
    void aTableWithoutTextColumnsDisplaysItsPrimaryKey() {
        given()
            .when(new TableCommand.CreateTable("t1", "Numbers", List.of(
                new TableCommand.NewColumnSpec("n", INTEGER, false)), ids))
            .thenEvents(tableCreated("Numbers", "new-1", "new-1", pk("new-1"), def("new-2", "n", INTEGER, false)));
    }

    @Test
    void namesMustBeOneToOneHundredTwentyCharacters() {
        given().when(new TableCommand.CreateTable("t1", "  ", List.of(), ids))
            .thenRefused(Kind.INVALID, "validation_failed", "name");
        given().when(new TableCommand.CreateTable("t1", "x".repeat(121), List.of(), ids))
            .thenRefused(Kind.INVALID, "validation_failed", "name");
        given().when(new TableCommand.CreateTable("t1", "T", List.of(
                new TableCommand.NewColumnSpec("", TEXT, false)), ids))
            .thenRefused(Kind.INVALID, "validation_failed", "columns[0].name");
        given().when(new TableCommand.CreateTable("t1", "é".repeat(120), List.of(), ids))
            .thenEvents(tableCreated("é".repeat(120), "new-1", "new-1", pk("new-1")));
    }

    @Test
    void columnNamesAreUniqueCaseInsensitivelyIncludingThePrimaryKey() {
        given().when(new TableCommand.CreateTable("t1", "T", List.of(
                new TableCommand.NewColumnSpec("ID", TEXT, false)), ids))
            .thenRefused(Kind.ALREADY_EXISTS, "conflict");
        given(TRACK_CREATED)
            .when(new TableCommand.AddColumn(new TableCommand.NewColumnSpec("tITLE", null, false), ids))
            .thenRefused(Kind.ALREADY_EXISTS, "conflict");
    }

    @Test
    void aNewColumnWithoutFieldsIsATextColumnNamedWithTheFirstFreeNumber() {
        given(tableCreated("T", PK, PK, pk(PK), def("c1", "column 1", INTEGER, false), def("c3", "Column 3", INTEGER, false)))
            .when(new TableCommand.AddColumn(new TableCommand.NewColumnSpec(null, null, false), ids))
            .thenEvents(columnAdded("new-1", "Column 2", TEXT, false));
    }

    @Test
    void aNewColumnKeepsItsTypeAndUniqueness() {
        given(TRACK_CREATED)
            .when(new TableCommand.AddColumn(new TableCommand.NewColumnSpec(" Code ", UUID, true), ids))
            .thenEvents(columnAdded("new-1", "Code", UUID, true));
    }

    @Test
    void renamingToTheSameNameEmitsNothing() {
        given(TRACK_CREATED).when(new TableCommand.RenameTable("Track")).thenNothing();
        given(TRACK_CREATED).when(new TableCommand.RenameTable(" Tracks ")).thenEvents(tableRenamed("Tracks"));
    }

    @Test
    void creatingAnExistingTableIsAConflict() {
        given(TRACK_CREATED).when(new TableCommand.CreateTable("t1", "Track", List.of(), ids))
            .thenRefused(Kind.CONFLICT, "conflict");
    }

    // --- display column, delete table ---------------------------------------------------------

    @Test
    void theDisplayColumnMustBeAColumnOfTheTable() {
        given(TRACK_CREATED).when(new TableCommand.SetDisplayColumn(LENGTH)).thenEvents(displayColumnChanged(LENGTH));
        given(TRACK_CREATED, displayColumnChanged(LENGTH)).when(new TableCommand.SetDisplayColumn(LENGTH)).thenNothing();
        given(TRACK_CREATED).when(new TableCommand.SetDisplayColumn("no-such-column"))
            .thenRefused(Kind.INVALID, "validation_failed", "displayColumnId");
    }

    @Test
    void aDeletedTableAcceptsNoFurtherCommands() {
        given(TRACK_CREATED).when(new TableCommand.DeleteTable(List.of())).thenEvents(tableDeleted());
        given(TRACK_CREATED, tableDeleted()).when(new TableCommand.RenameTable("x")).thenRefused(Kind.NOT_FOUND, "not_found");
        given(TRACK_CREATED, tableDeleted()).when(new TableCommand.Batch(List.of(new TableCommand.RenameTable("x"))))
            .thenRefused(Kind.NOT_FOUND, "not_found");
        given().when(new TableCommand.DropColumn(TITLE, List.of())).thenRefused(Kind.NOT_FOUND, "not_found");
    }

    @Test
    void aTableThatAnotherTableLinksToCannotBeDeleted() {
        given(TRACK_CREATED)
            .when(new TableCommand.DeleteTable(List.of(new TableCommand.IncomingLink("album", "a1", PK))))
            .thenRefused(Kind.CONFLICT, "link_target_in_use");
    }

    @Test
    void aTableThatLinksOnlyToItselfCanBeDeleted() {
        given(TRACK_CREATED, columnLinked(TITLE, "t1", PK, INTEGER, OnDelete.SET_NULL, TEXT))
            .when(new TableCommand.DeleteTable(List.of(new TableCommand.IncomingLink("t1", TITLE, PK))))
            .thenEvents(tableDeleted());
    }

    // --- rename, retype, unique, drop ---------------------------------------------------------

    @Test
    void renamingAColumnKeepsNamesUniqueCaseInsensitively() {
        given(TRACK_CREATED).when(new TableCommand.RenameColumn(TITLE, " Name ")).thenEvents(columnRenamed(TITLE, "Name"));
        given(TRACK_CREATED).when(new TableCommand.RenameColumn(TITLE, "TITLE")).thenEvents(columnRenamed(TITLE, "TITLE"));
        given(TRACK_CREATED).when(new TableCommand.RenameColumn(TITLE, "Title")).thenNothing();
        given(TRACK_CREATED).when(new TableCommand.RenameColumn(TITLE, "length")).thenRefused(Kind.ALREADY_EXISTS, "conflict");
        given(TRACK_CREATED).when(new TableCommand.RenameColumn(TITLE, "")).thenRefused(Kind.INVALID, "validation_failed", "name");
        given(TRACK_CREATED).when(new TableCommand.RenameColumn("nope", "x")).thenRefused(Kind.NOT_FOUND, "not_found");
    }

    @Test
    void retypingRecordsTheOldAndNewType() {
        given(TRACK_CREATED).when(new TableCommand.RetypeColumn(LENGTH, TEXT, List.of()))
            .thenEvents(columnTypeChanged(LENGTH, DURATION, TEXT));
        given(TRACK_CREATED).when(new TableCommand.RetypeColumn(LENGTH, DURATION, List.of())).thenNothing();
        given(TRACK_CREATED, columnTypeChanged(LENGTH, DURATION, TEXT)).when(new TableCommand.RetypeColumn(LENGTH, TEXT, List.of()))
            .thenNothing();
    }

    @Test
    void anUnknownTypeIsRefused() {
        given(TRACK_CREATED).when(new TableCommand.RetypeColumn(TITLE, ColumnType.COLUMN_TYPE_UNSPECIFIED, List.of()))
            .thenRefused(Kind.INVALID, "validation_failed", "type");
        given(TRACK_CREATED).when(new TableCommand.AddColumn(new TableCommand.NewColumnSpec("x", ColumnType.UNRECOGNIZED, false), ids))
            .thenRefused(Kind.INVALID, "validation_failed", "type");
        given().when(new TableCommand.CreateTable("t1", "T", List.of(
                new TableCommand.NewColumnSpec("x", ColumnType.COLUMN_TYPE_UNSPECIFIED, false)), ids))
            .thenRefused(Kind.INVALID, "validation_failed", "columns[0].type");
    }

    @Test
    void thePrimaryKeyCannotBeRetypedDroppedOrMadeNonUnique() {
        given(TRACK_CREATED).when(new TableCommand.RetypeColumn(PK, TEXT, List.of())).thenRefused(Kind.INVALID, "validation_failed", "type");
        given(TRACK_CREATED).when(new TableCommand.DropColumn(PK, List.of())).thenRefused(Kind.INVALID, "validation_failed", "columnId");
        given(TRACK_CREATED).when(new TableCommand.SetUnique(PK, false, List.of())).thenRefused(Kind.INVALID, "validation_failed", "unique");
        given(TRACK_CREATED).when(new TableCommand.SetUnique(PK, true, List.of())).thenNothing();
    }

    @Test
    void settingUniqueEmitsColumnUniqueChangedOnlyOnChange() {
        given(TRACK_CREATED).when(new TableCommand.SetUnique(TITLE, true, List.of())).thenEvents(columnUniqueChanged(TITLE, true));
        given(TRACK_CREATED).when(new TableCommand.SetUnique(TITLE, false, List.of())).thenNothing();
        given(TRACK_CREATED, columnUniqueChanged(TITLE, true)).when(new TableCommand.SetUnique(TITLE, true, List.of())).thenNothing();
        given(TRACK_CREATED, columnUniqueChanged(TITLE, true)).when(new TableCommand.SetUnique(TITLE, false, List.of()))
            .thenEvents(columnUniqueChanged(TITLE, false));
    }

    @Test
    void droppingAColumnRemovesItAndMovesTheDisplayColumnAway() {
        // Title is displayed; no other text column is left, so the primary key is.
        given(TRACK_CREATED).when(new TableCommand.DropColumn(TITLE, List.of()))
            .thenEvents(columnDropped(TITLE), displayColumnChanged(PK));
        given(TRACK_CREATED, columnAdded("col-4", "Notes", TEXT, false)).when(new TableCommand.DropColumn(TITLE, List.of()))
            .thenEvents(columnDropped(TITLE), displayColumnChanged("col-4"));
        given(TRACK_CREATED).when(new TableCommand.DropColumn(LENGTH, List.of())).thenEvents(columnDropped(LENGTH));
        given(TRACK_CREATED, columnDropped(TITLE), displayColumnChanged(PK)).when(new TableCommand.DropColumn(TITLE, List.of()))
            .thenRefused(Kind.NOT_FOUND, "not_found");
    }

    @Test
    void aColumnThatALinkTargetsCannotBeDroppedRetypedOrMadeNonUnique() {
        List<TableCommand.IncomingLink> incoming = List.of(new TableCommand.IncomingLink("album", "a1", TITLE));
        Given titleUnique = given(TRACK_CREATED, columnUniqueChanged(TITLE, true));
        titleUnique.when(new TableCommand.DropColumn(TITLE, incoming)).thenRefused(Kind.CONFLICT, "link_target_in_use");
        titleUnique.when(new TableCommand.RetypeColumn(TITLE, INTEGER, incoming)).thenRefused(Kind.CONFLICT, "link_target_in_use");
        titleUnique.when(new TableCommand.SetUnique(TITLE, false, incoming)).thenRefused(Kind.CONFLICT, "link_target_in_use");
        // A link to another column of the table does not hold this one.
        titleUnique.when(new TableCommand.DropColumn(LENGTH, incoming)).thenEvents(columnDropped(LENGTH));
    }

    @Test
    void aColumnThatALinkTargetsCannotBeLinkedToAColumnOfAnotherType() {
        List<TableCommand.IncomingLink> incoming = List.of(new TableCommand.IncomingLink("album", "a1", TITLE));
        Given titleUnique = given(TRACK_CREATED, columnUniqueChanged(TITLE, true));
        // Linking to the integer primary key would retype the text column album.a1 points at.
        titleUnique.when(new TableCommand.LinkColumn(TITLE, ARTIST_NAME_UNIQUE, null, null, incoming))
            .thenRefused(Kind.CONFLICT, "link_target_in_use");
        // Linking to a column of the same type keeps the type, and the link that points here holds.
        titleUnique.when(new TableCommand.LinkColumn(TITLE, ARTIST_NAME_UNIQUE, "artist-col-2", null, incoming))
            .thenEvents(columnLinked(TITLE, "artist", "artist-col-2", TEXT, OnDelete.SET_NULL, TEXT));
    }

    @Test
    void aColumnThatALinkOfItsOwnTableTargetsCannotBeDropped() {
        Given parentLinked = given(TRACK_CREATED, columnAdded("col-4", "Parent", INTEGER, false),
            columnLinked("col-4", "t1", PK, INTEGER, OnDelete.SET_NULL, INTEGER));
        parentLinked.when(new TableCommand.DropColumn(PK, List.of())).thenRefused(Kind.INVALID, "validation_failed", "columnId");
        given(TRACK_CREATED, columnUniqueChanged(TITLE, true), columnAdded("col-5", "Ref", TEXT, false),
            columnLinked("col-5", "t1", TITLE, TEXT, OnDelete.SET_NULL, TEXT))
            .when(new TableCommand.DropColumn(TITLE, List.of()))
            .thenRefused(Kind.CONFLICT, "link_target_in_use");
    }

    @Test
    void aBatchIsDecidedAgainstTheStateItsEarlierCommandsLeave() {
        given(TRACK_CREATED)
            .when(new TableCommand.Batch(List.of(
                new TableCommand.RenameColumn(TITLE, "Name"),
                new TableCommand.RetypeColumn(TITLE, INTEGER, List.of()),
                new TableCommand.SetUnique(TITLE, true, List.of()))))
            .thenEvents(columnRenamed(TITLE, "Name"), columnTypeChanged(TITLE, TEXT, INTEGER), columnUniqueChanged(TITLE, true));
        // The second rename takes the name the first one freed.
        given(TRACK_CREATED)
            .when(new TableCommand.Batch(List.of(
                new TableCommand.RenameColumn(TITLE, "Name"),
                new TableCommand.RenameColumn(LENGTH, "Title"))))
            .thenEvents(columnRenamed(TITLE, "Name"), columnRenamed(LENGTH, "Title"));
        // All or nothing: a refused part refuses the whole batch.
        given(TRACK_CREATED)
            .when(new TableCommand.Batch(List.of(
                new TableCommand.RenameColumn(TITLE, "Name"),
                new TableCommand.RetypeColumn(PK, TEXT, List.of()))))
            .thenRefused(Kind.INVALID, "validation_failed", "type");
        given(TRACK_CREATED).when(new TableCommand.Batch(List.of())).thenNothing();
    }

    // --- links --------------------------------------------------------------------------------

    @Test
    void linkingDefaultsToTheTargetsPrimaryKeyAndSetNull() {
        given(TRACK_CREATED).when(new TableCommand.LinkColumn(TITLE, ARTIST, null, null))
            .thenEvents(columnLinked(TITLE, "artist", "artist-col-1", INTEGER, OnDelete.SET_NULL, TEXT));
        given(TRACK_CREATED).when(new TableCommand.LinkColumn(TITLE, ARTIST, "", OnDelete.ON_DELETE_UNSPECIFIED))
            .thenEvents(columnLinked(TITLE, "artist", "artist-col-1", INTEGER, OnDelete.SET_NULL, TEXT));
    }

    @Test
    void theLinkTargetMustBeThePrimaryKeyOrAUniqueColumn() {
        given(TRACK_CREATED).when(new TableCommand.LinkColumn(TITLE, ARTIST, "artist-col-2", null))
            .thenRefused(Kind.INVALID, "link_target_not_unique");
        given(TRACK_CREATED).when(new TableCommand.LinkColumn(TITLE, ARTIST, "artist-col-3", OnDelete.CASCADE))
            .thenEvents(columnLinked(TITLE, "artist", "artist-col-3", UUID, OnDelete.CASCADE, TEXT));
    }

    @Test
    void linkingToAMissingTableOrColumnIsNotFound() {
        given(TRACK_CREATED).when(new TableCommand.LinkColumn(TITLE, null, null, null)).thenRefused(Kind.NOT_FOUND, "not_found");
        given(TRACK_CREATED).when(new TableCommand.LinkColumn(TITLE, ARTIST, "no-such-column", null))
            .thenRefused(Kind.NOT_FOUND, "not_found");
        given(TRACK_CREATED).when(new TableCommand.LinkColumn("no-such-column", ARTIST, null, null))
            .thenRefused(Kind.NOT_FOUND, "not_found");
    }

    @Test
    void linkingAnAlreadyLinkedColumnIsAConflict() {
        given(TRACK_CREATED, columnLinked(TITLE, "artist", "artist-col-1", INTEGER, OnDelete.SET_NULL, TEXT))
            .when(new TableCommand.LinkColumn(TITLE, ARTIST, null, null))
            .thenRefused(Kind.CONFLICT, "conflict");
    }

    @Test
    void aTableMayLinkToItself() {
        // The command may carry an older copy of the table (without Parent); the aggregate uses its own state.
        TableState stale = replay("t1", TRACK_CREATED);
        given(TRACK_CREATED, columnAdded("col-4", "Parent", TEXT, false))
            .when(new TableCommand.LinkColumn("col-4", stale, null, null))
            .thenEvents(columnLinked("col-4", "t1", PK, INTEGER, OnDelete.SET_NULL, TEXT));
    }

    @Test
    void aColumnCannotLinkToItselfAndThePrimaryKeyCannotBeLinked() {
        Given titleUnique = given(TRACK_CREATED, columnUniqueChanged(TITLE, true));
        titleUnique.when(new TableCommand.LinkColumn(TITLE, replay("t1", TRACK_CREATED), TITLE, null))
            .thenRefused(Kind.INVALID, "validation_failed", "targetColumnId");
        titleUnique.when(new TableCommand.LinkColumn(PK, ARTIST, null, null))
            .thenRefused(Kind.INVALID, "validation_failed", "columnId");
    }

    @Test
    void anInvalidOnDeleteIsRefused() {
        given(TRACK_CREATED).when(new TableCommand.LinkColumn(TITLE, ARTIST, null, OnDelete.UNRECOGNIZED))
            .thenRefused(Kind.INVALID, "validation_failed", "onDelete");
    }

    @Test
    void aLinkedColumnCannotBeRetypedUntilUnlinked() {
        given(TRACK_CREATED, columnLinked(TITLE, "artist", "artist-col-1", INTEGER, OnDelete.SET_NULL, TEXT))
            .when(new TableCommand.RetypeColumn(TITLE, TEXT, List.of()))
            .thenRefused(Kind.CONFLICT, "conflict");
    }

    @Test
    void unlinkingRestoresTheTargetColumnsTypeAndClearsTheLink() {
        given(TRACK_CREATED, columnLinked(LENGTH, "artist", "artist-col-3", UUID, OnDelete.SET_NULL, DURATION))
            .when(new TableCommand.UnlinkColumn(LENGTH))
            .thenEvents(columnUnlinked(LENGTH, "artist", "artist-col-3", UUID));
    }

    @Test
    void unlinkingAColumnThatIsNotLinkedIsNotFound() {
        given(TRACK_CREATED).when(new TableCommand.UnlinkColumn(TITLE)).thenRefused(Kind.NOT_FOUND, "not_found");
    }

    @Test
    void undoingALinkRestoresTheFormerTypeAsOneEventNamingTheLinkItUndoes() {
        given(TRACK_CREATED, columnLinked(TITLE, "artist", "artist-col-1", INTEGER, OnDelete.SET_NULL, TEXT))
            .when(new TableCommand.UndoLink(TITLE, List.of()))
            .thenEvents(columnLinkUndone(TITLE, "artist", "artist-col-1", TEXT, 2));
    }

    @Test
    void undoIsNotFoundWithoutALinkAndRefusedWhenTheColumnIsNowALinkTargetOfAnotherType() {
        given(TRACK_CREATED).when(new TableCommand.UndoLink(TITLE, List.of())).thenRefused(Kind.NOT_FOUND, "not_found");
        given(TRACK_CREATED, columnLinked(TITLE, "artist", "artist-col-1", INTEGER, OnDelete.SET_NULL, TEXT),
            columnUniqueChanged(TITLE, true))
            .when(new TableCommand.UndoLink(TITLE, List.of(new TableCommand.IncomingLink("other", "c", TITLE))))
            .thenRefused(Kind.CONFLICT, "link_target_in_use");
        // Same type before and after: the link pointing here does not hold the undo.
        given(TRACK_CREATED, columnLinked(TITLE, "artist", "artist-col-2", TEXT, OnDelete.SET_NULL, TEXT),
            columnUniqueChanged(TITLE, true))
            .when(new TableCommand.UndoLink(TITLE, List.of(new TableCommand.IncomingLink("other", "c", TITLE))))
            .thenEvents(columnLinkUndone(TITLE, "artist", "artist-col-2", TEXT, 2));
    }

    @Test
    void aLinkRecordedWithoutItsFormerTypeCannotBeUndone() {
        given(TRACK_CREATED, EventEnvelope.newBuilder().setColumnLinked(ColumnLinked.newBuilder().setColumnId(TITLE)
                .setTargetTableId("artist").setTargetColumnId("artist-col-1").setTargetColumnType(INTEGER)))
            .when(new TableCommand.UndoLink(TITLE, List.of()))
            .thenRefused(Kind.CONFLICT, "conflict");
    }

    // --- apply: given events, then the state ----------------------------------------------------

    @Test
    void aCreatedTableHasItsColumnsThePrimaryKeyUniqueAndTheVersionOfItsLastEvent() {
        assertThat(given(TRACK_CREATED).state()).isEqualTo(new TableState("t1", "Track", 1, PK, TITLE, List.of(
            new Column(PK, "id", INTEGER, true, true, null),
            new Column(LENGTH, "Length", DURATION, false, false, null),
            new Column(TITLE, "Title", TEXT, false, false, null))));
    }

    @Test
    void eachEventChangesWhatItNamesAndMovesTheVersion() {
        TableState s = given(TRACK_CREATED, tableRenamed("Tracks"), columnAdded("col-4", "Artist", TEXT, false),
            columnRenamed(LENGTH, "Duration"), columnTypeChanged(LENGTH, DURATION, INTEGER),
            columnUniqueChanged(LENGTH, true), displayColumnChanged("col-4"), columnDropped(TITLE),
            columnUniqueChanged(PK, false)).state();
        assertThat(s).isEqualTo(new TableState("t1", "Tracks", 9, PK, "col-4", List.of(
            new Column(PK, "id", INTEGER, true, true, null), // the primary key stays unique
            new Column(LENGTH, "Duration", INTEGER, false, true, null),
            new Column("col-4", "Artist", TEXT, false, false, null))));
    }

    @Test
    void aLinkedColumnHasItsTargetsTypeAndTheLinkRemembersItsVersionAndFormerType() {
        Given linked = given(TRACK_CREATED, columnLinked(TITLE, "artist", "artist-col-3", UUID, OnDelete.CASCADE, TEXT));
        assertThat(linked.state().column(TITLE)).contains(new Column(TITLE, "Title", UUID, false, false,
            new ColumnLink("artist", "artist-col-3", OnDelete.CASCADE, 2, TEXT)));
        Given undone = given(TRACK_CREATED, columnLinked(TITLE, "artist", "artist-col-3", UUID, OnDelete.CASCADE, TEXT),
            columnLinkUndone(TITLE, "artist", "artist-col-3", TEXT, 2));
        assertThat(undone.state().column(TITLE)).contains(new Column(TITLE, "Title", TEXT, false, false, null));
        Given unlinked = given(TRACK_CREATED, columnLinked(TITLE, "artist", "artist-col-3", UUID, OnDelete.CASCADE, TEXT),
            columnUnlinked(TITLE, "artist", "artist-col-3", UUID));
        assertThat(unlinked.state().column(TITLE)).contains(new Column(TITLE, "Title", UUID, false, false, null));
        assertThat(unlinked.state().version()).isEqualTo(3);
    }

    @Test
    void aDeletedTableHasNoState() {
        assertThat(given(TRACK_CREATED, tableDeleted()).state()).isNull();
        assertThat(given().state()).isNull();
    }

    @Test
    void anEventTheAggregateDoesNotKnowFailsLoudly() {
        TableState track = given(TRACK_CREATED).state();
        for (EventEnvelope.Builder foreign : List.of(
            EventEnvelope.newBuilder().setTenantProvisioned(TenantProvisioned.getDefaultInstance()),
            EventEnvelope.newBuilder().setLinkReconciled(LinkReconciled.getDefaultInstance()),
            EventEnvelope.newBuilder())) {
            EventEnvelope e = foreign.setAggregateId("t1").setAggregateVersion(2).build();
            assertThatThrownBy(() -> TableAggregate.apply(track, e))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("cannot apply");
        }
        // Nor may a table event come before the table or a second TableCreated after it.
        assertThatThrownBy(() -> TableAggregate.apply(null, columnRenamed(TITLE, "x").setAggregateId("t1").build()))
            .isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> TableAggregate.apply(track, TRACK_CREATED.clone().setAggregateId("t1").build()))
            .isInstanceOf(IllegalStateException.class);
    }

    // --- limits (docs/limits.md) ----------------------------------------------------------------

    @Test
    void aTableIsCreatedWithAtMostOneThousandColumnsThePrimaryKeyIncluded() {
        List<EventEnvelope.Builder> created = given()
            .when(new TableCommand.CreateTable("t1", "Wide", specs(TableAggregate.MAX_COLUMNS - 1), ids)).events();
        assertThat(created).hasSize(1);
        assertThat(created.get(0).getTableCreated().getColumnsCount()).isEqualTo(TableAggregate.MAX_COLUMNS);
        assertLimit(given().when(new TableCommand.CreateTable("t1", "Wider", specs(TableAggregate.MAX_COLUMNS), ids)),
            "at most 1000 columns", "asks for 1001");
        assertLimit(given().when(new TableCommand.CreateTable("t1", "Postgres", specs(1600), ids)),
            "at most 1000 columns", "asks for 1601");
    }

    @Test
    void addingAColumnToAFullTableIsRefusedAndDroppingOneMakesRoom() {
        EventEnvelope.Builder full = wide(TableAggregate.MAX_COLUMNS - 1);
        assertLimit(given(full).when(new TableCommand.AddColumn(new TableCommand.NewColumnSpec(null, null, false), ids)),
            "this table has 1000");
        given(full, columnDropped("c5")).when(new TableCommand.AddColumn(new TableCommand.NewColumnSpec(null, null, false), ids))
            .thenEvents(columnAdded("new-1", "Column 1", TEXT, false));
    }

    @Test
    void droppedColumnsKeepTheirSlotUntilTheTableCanTakeNoMoreColumns() {
        List<EventEnvelope.Builder> history = new ArrayList<>(List.of(wide(9)));
        assertThat(TableAggregate.slotsUsed(numbered(history))).isEqualTo(11); // id, 9 columns, _version
        // add and drop, over and over: live columns stay at 10, slots grow by one each time
        for (int i = 0, slots = 11; slots < TableAggregate.MAX_COLUMN_SLOTS; i++, slots++) {
            history.add(columnAdded("x" + i, "x", TEXT, false));
            history.add(columnDropped("x" + i));
        }
        Given worn = given(history.toArray(EventEnvelope.Builder[]::new));
        assertThat(TableAggregate.slotsUsed(worn.history)).isEqualTo(TableAggregate.MAX_COLUMN_SLOTS);
        assertThat(worn.state().columns()).hasSize(10);
        assertLimit(worn.when(new TableCommand.AddColumn(new TableCommand.NewColumnSpec("y", null, false), ids)),
            "all 1500 column slots", "create a new table and copy the records into it");
        // what uses no new slot still works: retype, rename
        worn.when(new TableCommand.RetypeColumn("c1", INTEGER, List.of())).thenEvents(columnTypeChanged("c1", TEXT, INTEGER));
        worn.when(new TableCommand.RenameColumn("c1", "renamed")).thenEvents(columnRenamed("c1", "renamed"));
    }

    @Test
    void typeChangesAndLinksUseNoNewSlot() {
        int created = TableAggregate.slotsUsed(numbered(List.of(wide(2))));
        assertThat(created).isEqualTo(4);
        assertThat(TableAggregate.slotsUsed(numbered(List.of(wide(2), columnTypeChanged("c1", TEXT, INTEGER),
            columnLinked("c2", "artist", "artist-col-1", INTEGER, OnDelete.SET_NULL, TEXT),
            columnUnlinked("c2", "artist", "artist-col-1", INTEGER), columnDropped("c1"))))).isEqualTo(created);
        assertThat(TableAggregate.slotsUsed(numbered(List.of(wide(2), columnAdded("c3", "c3", TEXT, false)))))
            .isEqualTo(created + 1);
    }

    @Test
    void aBatchCountsTheSlotsItsOwnCommandsUse() {
        given(wide(TableAggregate.MAX_COLUMNS - 2))
            .when(new TableCommand.AddColumn(new TableCommand.NewColumnSpec(null, null, false), ids))
            .thenEvents(columnAdded("new-1", "Column 1", TEXT, false));
        assertLimit(given(wide(TableAggregate.MAX_COLUMNS - 2)).when(new TableCommand.Batch(List.of(
                new TableCommand.AddColumn(new TableCommand.NewColumnSpec(null, null, false), ids),
                new TableCommand.AddColumn(new TableCommand.NewColumnSpec(null, null, false), ids)))),
            "at most 1000");
    }

    // --- given / when / then ----------------------------------------------------------------------

    /** A table's history: the events, numbered 1, 2, … on aggregate t1 as the store numbers them. */
    private Given given(EventEnvelope.Builder... events) {
        counter.set(0); // each scenario's new ids are new-1, new-2, …
        return new Given(numbered(Arrays.asList(events)));
    }

    final class Given {
        private final List<EventEnvelope> history;

        Given(List<EventEnvelope> history) {
            this.history = history;
        }

        TableState state() {
            return TableAggregate.replay(history);
        }

        /** Decides {@code command} against the state the history leaves, with the slots it used. */
        Then when(TableCommand command) {
            try {
                return new Then(TableAggregate.decide(state(), TableAggregate.slotsUsed(history), command), null);
            } catch (TableRefusal r) {
                return new Then(null, r);
            }
        }
    }

    static final class Then {
        private final List<EventEnvelope.Builder> events;
        private final TableRefusal refusal;

        Then(List<EventEnvelope.Builder> events, TableRefusal refusal) {
            this.events = events;
            this.refusal = refusal;
        }

        List<EventEnvelope.Builder> events() {
            assertThat(refusal).as("refusal").isNull();
            return events;
        }

        void thenEvents(EventEnvelope.Builder... expected) {
            assertThat(events().stream().map(EventEnvelope.Builder::build).toList())
                .containsExactlyElementsOf(Arrays.stream(expected).map(EventEnvelope.Builder::build).toList());
        }

        void thenNothing() {
            assertThat(events()).isEmpty();
        }

        TableRefusal thenRefused(Kind kind, String code) {
            assertThat(refusal).as("refusal (events decided: %s)", events).isNotNull();
            assertThat(refusal.kind()).isEqualTo(kind);
            assertThat(refusal.code()).isEqualTo(code);
            return refusal;
        }

        void thenRefused(Kind kind, String code, String field) {
            assertThat(thenRefused(kind, code).field()).isEqualTo(field);
        }
    }

    private static void assertLimit(Then then, String... detail) {
        TableRefusal r = then.thenRefused(Kind.LIMIT_EXCEEDED, "limit_exceeded");
        assertThat(r.field()).isEqualTo("columns");
        assertThat(r.getMessage()).contains(detail);
    }

    private static List<EventEnvelope> numbered(List<EventEnvelope.Builder> events) {
        List<EventEnvelope> history = new ArrayList<>();
        for (EventEnvelope.Builder b : events) {
            history.add(b.clone().setAggregateId("t1").setAggregateVersion(history.size() + 1).build());
        }
        return history;
    }

    private static TableState replay(String tableId, EventEnvelope.Builder... events) {
        List<EventEnvelope> history = new ArrayList<>();
        for (EventEnvelope.Builder b : events) {
            history.add(b.clone().setAggregateId(tableId).setAggregateVersion(history.size() + 1).build());
        }
        return TableAggregate.replay(history);
    }

    // --- events ---------------------------------------------------------------------------------

    /** Table "T" with the primary key {@code id} and text columns c1 … cN (none displayed but the key). */
    private static EventEnvelope.Builder wide(int columns) {
        ColumnDef[] defs = new ColumnDef[columns + 1];
        defs[0] = pk(PK);
        for (int i = 1; i <= columns; i++) {
            defs[i] = def("c" + i, "c" + i, TEXT, false);
        }
        return tableCreated("T", PK, "c1", defs);
    }

    private static List<TableCommand.NewColumnSpec> specs(int n) {
        List<TableCommand.NewColumnSpec> specs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            specs.add(new TableCommand.NewColumnSpec("c" + i, TEXT, false));
        }
        return specs;
    }

    static ColumnDef pk(String id) {
        return ColumnDef.newBuilder().setColumnId(id).setName("id").setType(INTEGER).setPrimaryKey(true).setUnique(true).build();
    }

    static ColumnDef def(String id, String name, ColumnType type, boolean unique) {
        return ColumnDef.newBuilder().setColumnId(id).setName(name).setType(type).setUnique(unique).build();
    }

    static EventEnvelope.Builder tableCreated(String name, String pk, String display, ColumnDef... columns) {
        return EventEnvelope.newBuilder().setTableCreated(TableCreated.newBuilder().setName(name)
            .setPrimaryKeyColumnId(pk).setDisplayColumnId(display).addAllColumns(List.of(columns)));
    }

    static EventEnvelope.Builder tableRenamed(String name) {
        return EventEnvelope.newBuilder().setTableRenamed(TableRenamed.newBuilder().setName(name));
    }

    static EventEnvelope.Builder tableDeleted() {
        return EventEnvelope.newBuilder().setTableDeleted(TableDeleted.getDefaultInstance());
    }

    static EventEnvelope.Builder displayColumnChanged(String columnId) {
        return EventEnvelope.newBuilder().setDisplayColumnChanged(DisplayColumnChanged.newBuilder().setDisplayColumnId(columnId));
    }

    static EventEnvelope.Builder columnAdded(String id, String name, ColumnType type, boolean unique) {
        return EventEnvelope.newBuilder().setColumnAdded(ColumnAdded.newBuilder().setColumn(def(id, name, type, unique)));
    }

    static EventEnvelope.Builder columnRenamed(String id, String name) {
        return EventEnvelope.newBuilder().setColumnRenamed(ColumnRenamed.newBuilder().setColumnId(id).setName(name));
    }

    static EventEnvelope.Builder columnTypeChanged(String id, ColumnType from, ColumnType to) {
        return EventEnvelope.newBuilder().setColumnTypeChanged(ColumnTypeChanged.newBuilder().setColumnId(id)
            .setFromType(from).setToType(to));
    }

    static EventEnvelope.Builder columnUniqueChanged(String id, boolean unique) {
        return EventEnvelope.newBuilder().setColumnUniqueChanged(ColumnUniqueChanged.newBuilder().setColumnId(id).setUnique(unique));
    }

    static EventEnvelope.Builder columnDropped(String id) {
        return EventEnvelope.newBuilder().setColumnDropped(ColumnDropped.newBuilder().setColumnId(id));
    }

    static EventEnvelope.Builder columnLinked(String id, String targetTable, String targetColumn, ColumnType targetType,
                                              OnDelete onDelete, ColumnType previous) {
        return EventEnvelope.newBuilder().setColumnLinked(ColumnLinked.newBuilder().setColumnId(id)
            .setTargetTableId(targetTable).setTargetColumnId(targetColumn).setTargetColumnType(targetType)
            .setOnDelete(onDelete).setPreviousType(previous));
    }

    static EventEnvelope.Builder columnUnlinked(String id, String targetTable, String targetColumn, ColumnType restored) {
        return EventEnvelope.newBuilder().setColumnUnlinked(ColumnUnlinked.newBuilder().setColumnId(id)
            .setTargetTableId(targetTable).setTargetColumnId(targetColumn).setRestoredType(restored));
    }

    static EventEnvelope.Builder columnLinkUndone(String id, String targetTable, String targetColumn, ColumnType restored,
                                                  long linkVersion) {
        return EventEnvelope.newBuilder().setColumnLinkUndone(ColumnLinkUndone.newBuilder().setColumnId(id)
            .setTargetTableId(targetTable).setTargetColumnId(targetColumn).setRestoredType(restored)
            .setLinkVersion(linkVersion));
    }
}
