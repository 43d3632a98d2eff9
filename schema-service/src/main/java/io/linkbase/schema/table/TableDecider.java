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
import io.linkbase.proto.events.v1.TableCreated;
import io.linkbase.proto.events.v1.TableDeleted;
import io.linkbase.proto.events.v1.TableRenamed;
import io.linkbase.proto.v1.ColumnType;
import io.linkbase.proto.v1.OnDelete;
import io.linkbase.schema.table.TableState.Column;
import io.linkbase.schema.table.TableState.ColumnLink;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import static io.linkbase.schema.table.TableAggregate.MAX_COLUMNS;
import static io.linkbase.schema.table.TableAggregate.MAX_COLUMN_SLOTS;
import static io.linkbase.schema.table.TableAggregate.MAX_NAME_LENGTH;
import static io.linkbase.schema.table.TableAggregate.PRIMARY_KEY_NAME;

/**
 * The decide half of the Table aggregate ({@link TableAggregate#decide}): one command against one
 * state, matched exhaustively over the commands, gives the events that follow or a
 * {@link TableRefusal}.
 */
final class TableDecider implements TableCommand.Visitor<List<EventEnvelope.Builder>> {
    private final TableState state;
    private final int slotsUsed;

    TableDecider(TableState state, int slotsUsed) {
        this.state = state;
        this.slotsUsed = slotsUsed;
    }

    /** Every command but create needs the table. */
    private TableState table() {
        if (state == null) {
            throw TableRefusal.notFound("table");
        }
        return state;
    }

    @Override
    public List<EventEnvelope.Builder> createTable(TableCommand.CreateTable c) {
        return decideCreate(state, c);
    }

    /** Decides each change against the state its predecessors leave behind. */
    @Override
    public List<EventEnvelope.Builder> batch(TableCommand.Batch batch) {
        List<EventEnvelope.Builder> all = new ArrayList<>();
        TableState scratch = table();
        int slots = slotsUsed;
        for (TableCommand.Change c : batch.commands()) {
            if (scratch == null) {
                throw TableRefusal.notFound("table");
            }
            for (EventEnvelope.Builder b : TableAggregate.decide(scratch, slots, c)) {
                all.add(b);
                slots += TableAggregate.slots(b.getPayloadCase(), b.getTableCreated().getColumnsCount());
                scratch = TableAggregate.apply(scratch, b.clone().setAggregateId(scratch.id())
                    .setAggregateVersion(scratch.version() + 1).build());
            }
        }
        return all;
    }

    @Override
    public List<EventEnvelope.Builder> renameTable(TableCommand.RenameTable c) {
        TableState t = table();
        String name = validName("name", c.name());
        return name.equals(t.name()) ? List.of()
            : List.of(EventEnvelope.newBuilder().setTableRenamed(TableRenamed.newBuilder().setName(name)));
    }

    @Override
    public List<EventEnvelope.Builder> setDisplayColumn(TableCommand.SetDisplayColumn c) {
        TableState t = table();
        if (c.columnId() == null || t.column(c.columnId()).isEmpty()) {
            throw TableRefusal.invalid("displayColumnId", "must be a column of the table");
        }
        return c.columnId().equals(t.displayColumnId()) ? List.of() : List.of(displayColumnChanged(c.columnId()));
    }

    @Override
    public List<EventEnvelope.Builder> deleteTable(TableCommand.DeleteTable c) {
        TableState t = table();
        // A link of the table to itself goes away with it; links from other tables hold it.
        for (TableCommand.IncomingLink l : c.incoming()) {
            if (!l.tableId().equals(t.id())) {
                throw TableRefusal.conflict("link_target_in_use",
                    "column " + l.columnId() + " of table " + l.tableId() + " links to this table");
            }
        }
        return List.of(EventEnvelope.newBuilder().setTableDeleted(TableDeleted.getDefaultInstance()));
    }

    @Override
    public List<EventEnvelope.Builder> addColumn(TableCommand.AddColumn c) {
        return decideAddColumn(table(), slotsUsed, c);
    }

    @Override
    public List<EventEnvelope.Builder> renameColumn(TableCommand.RenameColumn c) {
        TableState t = table();
        Column column = requireColumn(t, c.columnId());
        String name = validName("name", c.name());
        for (Column other : t.columns()) {
            if (!other.id().equals(column.id()) && fold(other.name()).equals(fold(name))) {
                throw TableRefusal.nameTaken("a column named '" + name + "' exists");
            }
        }
        return name.equals(column.name()) ? List.of()
            : List.of(EventEnvelope.newBuilder().setColumnRenamed(
                ColumnRenamed.newBuilder().setColumnId(column.id()).setName(name)));
    }

    @Override
    public List<EventEnvelope.Builder> retypeColumn(TableCommand.RetypeColumn c) {
        TableState t = table();
        Column column = requireColumn(t, c.columnId());
        ColumnType type = c.type();
        if (type == null || type == ColumnType.COLUMN_TYPE_UNSPECIFIED || type == ColumnType.UNRECOGNIZED) {
            throw TableRefusal.invalid("type", "unknown column type");
        }
        if (column.primaryKey()) {
            throw TableRefusal.invalid("type", "the primary key cannot be retyped");
        }
        if (type == column.type()) {
            return List.of();
        }
        if (column.linked()) {
            throw TableRefusal.conflict("conflict", "a linked column keeps its target's type; unlink it first");
        }
        requireNotLinkTarget(t, column, c.incoming());
        return List.of(EventEnvelope.newBuilder().setColumnTypeChanged(ColumnTypeChanged.newBuilder()
            .setColumnId(column.id()).setFromType(column.type()).setToType(type)));
    }

    @Override
    public List<EventEnvelope.Builder> setUnique(TableCommand.SetUnique c) {
        TableState t = table();
        Column column = requireColumn(t, c.columnId());
        if (column.primaryKey()) {
            if (!c.unique()) {
                throw TableRefusal.invalid("unique", "the primary key is always unique");
            }
            return List.of();
        }
        if (c.unique() == column.unique()) {
            return List.of();
        }
        if (!c.unique()) {
            requireNotLinkTarget(t, column, c.incoming());
        }
        return List.of(EventEnvelope.newBuilder().setColumnUniqueChanged(
            ColumnUniqueChanged.newBuilder().setColumnId(column.id()).setUnique(c.unique())));
    }

    @Override
    public List<EventEnvelope.Builder> dropColumn(TableCommand.DropColumn c) {
        TableState t = table();
        Column column = requireColumn(t, c.columnId());
        if (column.primaryKey()) {
            throw TableRefusal.invalid("columnId", "the primary key cannot be dropped");
        }
        requireNotLinkTarget(t, column, c.incoming());
        List<EventEnvelope.Builder> events = new ArrayList<>();
        events.add(EventEnvelope.newBuilder().setColumnDropped(ColumnDropped.newBuilder().setColumnId(column.id())));
        if (column.id().equals(t.displayColumnId())) {
            // The table keeps a display column: the first remaining text column, else the primary key.
            String display = t.columns().stream()
                .filter(col -> !col.id().equals(column.id()) && col.type() == ColumnType.TEXT)
                .map(Column::id).findFirst().orElse(t.primaryKeyColumnId());
            events.add(displayColumnChanged(display));
        }
        return events;
    }

    @Override
    public List<EventEnvelope.Builder> linkColumn(TableCommand.LinkColumn c) {
        return decideLink(table(), c);
    }

    @Override
    public List<EventEnvelope.Builder> unlinkColumn(TableCommand.UnlinkColumn c) {
        Column column = requireColumn(table(), c.columnId());
        if (!column.linked()) {
            throw TableRefusal.notFound("link of column " + column.id());
        }
        // While linked the column has its target's type (a link target cannot be retyped).
        return List.of(EventEnvelope.newBuilder().setColumnUnlinked(ColumnUnlinked.newBuilder()
            .setColumnId(column.id())
            .setTargetTableId(column.link().targetTableId())
            .setTargetColumnId(column.link().targetColumnId())
            .setRestoredType(column.type())));
    }

    @Override
    public List<EventEnvelope.Builder> undoLink(TableCommand.UndoLink c) {
        TableState t = table();
        Column column = requireColumn(t, c.columnId());
        if (!column.linked()) {
            throw TableRefusal.notFound("link of column " + column.id());
        }
        ColumnLink link = column.link();
        ColumnType restored = link.previousType();
        if (restored == null || restored == ColumnType.COLUMN_TYPE_UNSPECIFIED || restored == ColumnType.UNRECOGNIZED
            || link.linkVersion() == 0) {
            throw TableRefusal.conflict("conflict", "this link was made before undo existed: "
                + "the column's former type was not recorded; unlink it instead");
        }
        if (restored != column.type()) {
            // Undo retypes the column; a column other links point at must keep its type.
            requireNotLinkTarget(t, column, c.incoming());
        }
        return List.of(EventEnvelope.newBuilder().setColumnLinkUndone(ColumnLinkUndone.newBuilder()
            .setColumnId(column.id())
            .setTargetTableId(link.targetTableId())
            .setTargetColumnId(link.targetColumnId())
            .setRestoredType(restored)
            .setLinkVersion(link.linkVersion())));
    }

    private static List<EventEnvelope.Builder> decideLink(TableState state, TableCommand.LinkColumn c) {
        Column column = requireColumn(state, c.columnId());
        if (column.primaryKey()) {
            throw TableRefusal.invalid("columnId", "the primary key cannot be linked");
        }
        if (column.linked()) {
            throw TableRefusal.conflict("conflict", "column " + column.id() + " is already linked");
        }
        // A table may link to itself; then this state is the freshest view of the target.
        TableState target = c.target() != null && c.target().id().equals(state.id()) ? state : c.target();
        if (target == null) {
            throw TableRefusal.notFound("target table");
        }
        String targetColumnId = c.targetColumnId() == null || c.targetColumnId().isEmpty()
            ? target.primaryKeyColumnId() : c.targetColumnId();
        Column targetColumn = target.column(targetColumnId)
            .orElseThrow(() -> TableRefusal.notFound("target column " + targetColumnId));
        if (target == state && targetColumn.id().equals(column.id())) {
            throw TableRefusal.invalid("targetColumnId", "a column cannot link to itself");
        }
        if (!targetColumn.primaryKey() && !targetColumn.unique()) {
            throw TableRefusal.invalidAs("link_target_not_unique",
                "the target column must be the primary key or a unique column");
        }
        if (targetColumn.type() != column.type()) {
            // Linking retypes the column; a column other links point at must keep its type.
            requireNotLinkTarget(state, column, c.incoming());
        }
        OnDelete onDelete = c.onDelete() == null || c.onDelete() == OnDelete.ON_DELETE_UNSPECIFIED
            ? OnDelete.SET_NULL : c.onDelete();
        if (onDelete == OnDelete.UNRECOGNIZED) {
            throw TableRefusal.invalid("onDelete", "must be SET_NULL, RESTRICT or CASCADE");
        }
        return List.of(EventEnvelope.newBuilder().setColumnLinked(ColumnLinked.newBuilder()
            .setColumnId(column.id())
            .setTargetTableId(target.id())
            .setTargetColumnId(targetColumn.id())
            .setTargetColumnType(targetColumn.type())
            .setOnDelete(onDelete)
            .setPreviousType(column.type())));
    }

    /** Links of other tables come in the command; links of this table to itself are in its state. */
    private static void requireNotLinkTarget(TableState state, Column column, List<TableCommand.IncomingLink> incoming) {
        for (TableCommand.IncomingLink l : incoming) {
            if (l.targetColumnId().equals(column.id()) && !l.tableId().equals(state.id())) {
                throw TableRefusal.conflict("link_target_in_use",
                    "column " + l.columnId() + " of table " + l.tableId() + " links to this column");
            }
        }
        for (Column own : state.columns()) {
            if (own.linked() && own.link().targetTableId().equals(state.id())
                && own.link().targetColumnId().equals(column.id())) {
                throw TableRefusal.conflict("link_target_in_use",
                    "column " + own.id() + " of this table links to this column");
            }
        }
    }

    private static EventEnvelope.Builder displayColumnChanged(String columnId) {
        return EventEnvelope.newBuilder().setDisplayColumnChanged(
            DisplayColumnChanged.newBuilder().setDisplayColumnId(columnId));
    }

    private static Column requireColumn(TableState state, String columnId) {
        return (columnId == null ? java.util.Optional.<Column>empty() : state.column(columnId))
            .orElseThrow(() -> TableRefusal.notFound("column " + columnId));
    }

    private static List<EventEnvelope.Builder> decideCreate(TableState state, TableCommand.CreateTable c) {
        if (state != null) {
            throw TableRefusal.conflict("conflict", "table " + c.tableId() + " exists");
        }
        if (c.columns().size() + 1 > MAX_COLUMNS) {
            throw TableRefusal.limitExceeded("columns", "a table has at most " + MAX_COLUMNS
                + " columns, the primary key id included; this request asks for " + (c.columns().size() + 1));
        }
        String name = validName("name", c.name());
        String pkId = c.ids().next();
        TableCreated.Builder created = TableCreated.newBuilder()
            .setName(name)
            .setPrimaryKeyColumnId(pkId)
            .addColumns(ColumnDef.newBuilder().setColumnId(pkId).setName(PRIMARY_KEY_NAME)
                .setType(ColumnType.INTEGER).setPrimaryKey(true).setUnique(true));
        Set<String> names = new HashSet<>();
        names.add(fold(PRIMARY_KEY_NAME));
        String display = null;
        for (int i = 0; i < c.columns().size(); i++) {
            TableCommand.NewColumnSpec spec = c.columns().get(i);
            String field = "columns[" + i + "]";
            String columnName = validName(field + ".name", spec.name());
            if (!names.add(fold(columnName))) {
                throw TableRefusal.nameTaken("column name '" + columnName + "' is used twice");
            }
            ColumnType type = spec.type() == null ? ColumnType.TEXT : spec.type();
            if (type == ColumnType.COLUMN_TYPE_UNSPECIFIED || type == ColumnType.UNRECOGNIZED) {
                throw TableRefusal.invalid(field + ".type", "unknown column type");
            }
            String id = c.ids().next();
            created.addColumns(ColumnDef.newBuilder().setColumnId(id).setName(columnName)
                .setType(type).setUnique(spec.unique()));
            if (display == null && type == ColumnType.TEXT) {
                display = id;
            }
        }
        created.setDisplayColumnId(display != null ? display : pkId);
        return List.of(EventEnvelope.newBuilder().setTableCreated(created));
    }

    private static List<EventEnvelope.Builder> decideAddColumn(TableState state, int slotsUsed, TableCommand.AddColumn c) {
        if (state.columns().size() >= MAX_COLUMNS) {
            throw TableRefusal.limitExceeded("columns", "a table has at most " + MAX_COLUMNS
                + " columns, the primary key id included; this table has " + state.columns().size()
                + ": drop a column first");
        }
        if (slotsUsed >= MAX_COLUMN_SLOTS) {
            throw TableRefusal.limitExceeded("columns", "this table has used all " + MAX_COLUMN_SLOTS
                + " column slots (" + slotsUsed + " used): the database keeps counting dropped columns, "
                + "so no column can be added to it any more; create a new table and copy the records into it");
        }
        Set<String> names = new HashSet<>();
        state.columns().forEach(col -> names.add(fold(col.name())));
        String name;
        if (c.column().name() == null) {
            int n = 1;
            while (names.contains(fold("Column " + n))) {
                n++;
            }
            name = "Column " + n;
        } else {
            name = validName("name", c.column().name());
            if (names.contains(fold(name))) {
                throw TableRefusal.nameTaken("a column named '" + name + "' exists");
            }
        }
        ColumnType type = c.column().type() == null ? ColumnType.TEXT : c.column().type();
        if (type == ColumnType.COLUMN_TYPE_UNSPECIFIED || type == ColumnType.UNRECOGNIZED) {
            throw TableRefusal.invalid("type", "unknown column type");
        }
        return List.of(EventEnvelope.newBuilder().setColumnAdded(ColumnAdded.newBuilder().setColumn(
            ColumnDef.newBuilder().setColumnId(c.ids().next()).setName(name).setType(type)
                .setUnique(c.column().unique()))));
    }

    /** Names are 1–120 characters after trimming; compared case-insensitively. */
    static String validName(String field, String raw) {
        String name = raw == null ? "" : raw.strip();
        if (name.isEmpty()) {
            throw TableRefusal.invalid(field, "must not be empty");
        }
        if (name.codePointCount(0, name.length()) > MAX_NAME_LENGTH) {
            throw TableRefusal.invalid(field, "must be at most " + MAX_NAME_LENGTH + " characters");
        }
        return name;
    }

    static String fold(String name) {
        return name.toLowerCase(Locale.ROOT);
    }
}
