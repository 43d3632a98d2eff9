package io.linkbase.schema.table;

import io.linkbase.kit.grpc.ApiException;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.v1.Column;
import io.linkbase.proto.v1.ColumnType;
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
