package io.linkbase.schema.table;

import io.linkbase.kit.grpc.ApiException;
import io.linkbase.proto.internal.v1.FieldViolation;
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
import io.linkbase.proto.v1.Column;
import io.linkbase.proto.v1.ColumnType;
import io.linkbase.proto.v1.Link;
import io.linkbase.proto.v1.LinkProgress;
import io.linkbase.proto.v1.LinkState;
import io.linkbase.proto.v1.OnDelete;
import io.linkbase.proto.v1.Table;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.UnaryOperator;

/**
 * The Table aggregate as plain code: {@link #decide} turns a command into events (or refuses
 * it), {@link #apply} turns an event into the next state. No framework, no database.
 */
public final class TableAggregate {
    public static final String PRIMARY_KEY_NAME = "id";
    public static final int MAX_NAME_LENGTH = 120;
    /** Live columns of a table, the primary key {@code id} included (docs/limits.md). */
    public static final int MAX_COLUMNS = 1_000;
    /**
     * Physical column slots a table may ever use. PostgreSQL allows 1,600 columns per table and
     * keeps counting a dropped column; record-service uses one slot for {@code _version}, one
     * per column created or added, and none for a type change or a link (ALTER COLUMN TYPE).
     */
    public static final int MAX_COLUMN_SLOTS = 1_500;

    private TableAggregate() {
    }

    /**
     * Like {@link #decide(Table, int, TableCommand)} for a table whose columns were never
     * dropped: its slots are its live columns plus {@code _version}.
     */
    public static List<EventEnvelope.Builder> decide(Table state, TableCommand command) {
        return decide(state, state == null ? 0 : state.getColumnsCount() + 1, command);
    }

    /**
     * @param state     the table as of now, or {@code null} when it does not exist (yet or any more)
     * @param slotsUsed the physical column slots the table's history has used ({@link #slotsUsed})
     */
    public static List<EventEnvelope.Builder> decide(Table state, int slotsUsed, TableCommand command) {
        if (command instanceof TableCommand.CreateTable create) {
            return decideCreate(state, create);
        }
        if (state == null) {
            throw ApiException.notFound("table");
        }
        if (command instanceof TableCommand.Batch batch) {
            return decideBatch(state, slotsUsed, batch);
        }
        if (command instanceof TableCommand.RenameTable rename) {
            String name = validName("name", rename.name());
            return name.equals(state.getName()) ? List.of()
                : List.of(EventEnvelope.newBuilder().setTableRenamed(TableRenamed.newBuilder().setName(name)));
        }
        if (command instanceof TableCommand.SetDisplayColumn display) {
            if (display.columnId() == null || findColumn(state, display.columnId()) == null) {
                throw ApiException.invalid("displayColumnId", "must be a column of the table");
            }
            return display.columnId().equals(state.getDisplayColumnId()) ? List.of()
                : List.of(displayColumnChanged(display.columnId()));
        }
        if (command instanceof TableCommand.DeleteTable delete) {
            // A link of the table to itself goes away with it; links from other tables hold it.
            for (TableCommand.IncomingLink l : delete.incoming()) {
                if (!l.tableId().equals(state.getId())) {
                    throw ApiException.conflict("link_target_in_use",
                        "column " + l.columnId() + " of table " + l.tableId() + " links to this table");
                }
            }
            return List.of(EventEnvelope.newBuilder().setTableDeleted(TableDeleted.getDefaultInstance()));
        }
        if (command instanceof TableCommand.AddColumn add) {
            return decideAddColumn(state, slotsUsed, add);
        }
        if (command instanceof TableCommand.RenameColumn rename) {
            return decideRenameColumn(state, rename);
        }
        if (command instanceof TableCommand.RetypeColumn retype) {
            return decideRetype(state, retype);
        }
        if (command instanceof TableCommand.SetUnique unique) {
            return decideSetUnique(state, unique);
        }
        if (command instanceof TableCommand.DropColumn drop) {
            return decideDrop(state, drop);
        }
        if (command instanceof TableCommand.LinkColumn link) {
            return decideLink(state, link);
        }
        if (command instanceof TableCommand.UnlinkColumn unlink) {
            return decideUnlink(state, unlink);
        }
        if (command instanceof TableCommand.UndoLink undo) {
            return decideUndoLink(state, undo);
        }
        throw new IllegalArgumentException("unknown command " + command);
    }

    /** Decides each command against the state its predecessors leave behind. */
    private static List<EventEnvelope.Builder> decideBatch(Table state, int slotsUsed, TableCommand.Batch batch) {
        List<EventEnvelope.Builder> all = new ArrayList<>();
        Table scratch = state;
        int slots = slotsUsed;
        for (TableCommand c : batch.commands()) {
            if (c instanceof TableCommand.CreateTable || c instanceof TableCommand.Batch) {
                throw new IllegalArgumentException("not allowed in a batch: " + c);
            }
            if (scratch == null) {
                throw ApiException.notFound("table");
            }
            for (EventEnvelope.Builder b : decide(scratch, slots, c)) {
                all.add(b);
                slots += slots(b.getPayloadCase(), b.getTableCreated().getColumnsCount());
                scratch = apply(scratch, b.clone().setAggregateId(scratch.getId())
                    .setAggregateVersion(scratch.getVersion() + 1).build());
            }
        }
        return all;
    }

    private static List<EventEnvelope.Builder> decideRenameColumn(Table state, TableCommand.RenameColumn c) {
        Column column = requireColumn(state, c.columnId());
        String name = validName("name", c.name());
        for (Column other : state.getColumnsList()) {
            if (!other.getId().equals(column.getId()) && fold(other.getName()).equals(fold(name))) {
                throw new ApiException(io.grpc.Status.Code.ALREADY_EXISTS, "conflict",
                    "a column named '" + name + "' exists", List.of());
            }
        }
        return name.equals(column.getName()) ? List.of()
            : List.of(EventEnvelope.newBuilder().setColumnRenamed(
                ColumnRenamed.newBuilder().setColumnId(column.getId()).setName(name)));
    }

    private static List<EventEnvelope.Builder> decideRetype(Table state, TableCommand.RetypeColumn c) {
        Column column = requireColumn(state, c.columnId());
        ColumnType type = c.type();
        if (type == null || type == ColumnType.COLUMN_TYPE_UNSPECIFIED || type == ColumnType.UNRECOGNIZED) {
            throw ApiException.invalid("type", "unknown column type");
        }
        if (column.getPrimaryKey()) {
            throw ApiException.invalid("type", "the primary key cannot be retyped");
        }
        if (type == column.getType()) {
            return List.of();
        }
        if (column.hasLink()) {
            throw ApiException.conflict("conflict", "a linked column keeps its target's type; unlink it first");
        }
        requireNotLinkTarget(state, column, c.incoming());
        return List.of(EventEnvelope.newBuilder().setColumnTypeChanged(ColumnTypeChanged.newBuilder()
            .setColumnId(column.getId()).setFromType(column.getType()).setToType(type)));
    }

    private static List<EventEnvelope.Builder> decideSetUnique(Table state, TableCommand.SetUnique c) {
        Column column = requireColumn(state, c.columnId());
        if (column.getPrimaryKey()) {
            if (!c.unique()) {
                throw ApiException.invalid("unique", "the primary key is always unique");
            }
            return List.of();
        }
        if (c.unique() == column.getUnique()) {
            return List.of();
        }
        if (!c.unique()) {
            requireNotLinkTarget(state, column, c.incoming());
        }
        return List.of(EventEnvelope.newBuilder().setColumnUniqueChanged(
            ColumnUniqueChanged.newBuilder().setColumnId(column.getId()).setUnique(c.unique())));
    }

    private static List<EventEnvelope.Builder> decideDrop(Table state, TableCommand.DropColumn c) {
        Column column = requireColumn(state, c.columnId());
        if (column.getPrimaryKey()) {
            throw ApiException.invalid("columnId", "the primary key cannot be dropped");
        }
        requireNotLinkTarget(state, column, c.incoming());
        List<EventEnvelope.Builder> events = new ArrayList<>();
        events.add(EventEnvelope.newBuilder().setColumnDropped(ColumnDropped.newBuilder().setColumnId(column.getId())));
        if (column.getId().equals(state.getDisplayColumnId())) {
            // The table keeps a display column: the first remaining text column, else the primary key.
            String display = state.getColumnsList().stream()
                .filter(col -> !col.getId().equals(column.getId()) && col.getType() == ColumnType.TEXT)
                .map(Column::getId).findFirst().orElse(state.getPrimaryKeyColumnId());
            events.add(displayColumnChanged(display));
        }
        return events;
    }

    private static List<EventEnvelope.Builder> decideLink(Table state, TableCommand.LinkColumn c) {
        Column column = requireColumn(state, c.columnId());
        if (column.getPrimaryKey()) {
            throw ApiException.invalid("columnId", "the primary key cannot be linked");
        }
        if (column.hasLink()) {
            throw ApiException.conflict("conflict", "column " + column.getId() + " is already linked");
        }
        // A table may link to itself; then this state is the freshest view of the target.
        Table target = c.target() != null && c.target().getId().equals(state.getId()) ? state : c.target();
        if (target == null) {
            throw ApiException.notFound("target table");
        }
        String targetColumnId = c.targetColumnId() == null || c.targetColumnId().isEmpty()
            ? target.getPrimaryKeyColumnId() : c.targetColumnId();
        Column targetColumn = findColumn(target, targetColumnId);
        if (targetColumn == null) {
            throw ApiException.notFound("target column " + targetColumnId);
        }
        if (target == state && targetColumn.getId().equals(column.getId())) {
            throw ApiException.invalid("targetColumnId", "a column cannot link to itself");
        }
        if (!targetColumn.getPrimaryKey() && !targetColumn.getUnique()) {
            throw new ApiException(io.grpc.Status.Code.INVALID_ARGUMENT, "link_target_not_unique",
                "the target column must be the primary key or a unique column", List.of());
        }
        if (targetColumn.getType() != column.getType()) {
            // Linking retypes the column; a column other links point at must keep its type.
            requireNotLinkTarget(state, column, c.incoming());
        }
        OnDelete onDelete = c.onDelete() == null || c.onDelete() == OnDelete.ON_DELETE_UNSPECIFIED
            ? OnDelete.SET_NULL : c.onDelete();
        if (onDelete == OnDelete.UNRECOGNIZED) {
            throw ApiException.invalid("onDelete", "must be SET_NULL, RESTRICT or CASCADE");
        }
        return List.of(EventEnvelope.newBuilder().setColumnLinked(ColumnLinked.newBuilder()
            .setColumnId(column.getId())
            .setTargetTableId(target.getId())
            .setTargetColumnId(targetColumn.getId())
            .setTargetColumnType(targetColumn.getType())
            .setOnDelete(onDelete)
            .setPreviousType(column.getType())));
    }

    private static List<EventEnvelope.Builder> decideUnlink(Table state, TableCommand.UnlinkColumn c) {
        Column column = requireColumn(state, c.columnId());
        if (!column.hasLink()) {
            throw ApiException.notFound("link of column " + column.getId());
        }
        // While linked the column has its target's type (a link target cannot be retyped).
        return List.of(EventEnvelope.newBuilder().setColumnUnlinked(ColumnUnlinked.newBuilder()
            .setColumnId(column.getId())
            .setTargetTableId(column.getLink().getTargetTableId())
            .setTargetColumnId(column.getLink().getTargetColumnId())
            .setRestoredType(column.getType())));
    }

    private static List<EventEnvelope.Builder> decideUndoLink(Table state, TableCommand.UndoLink c) {
        Column column = requireColumn(state, c.columnId());
        if (!column.hasLink()) {
            throw ApiException.notFound("link of column " + column.getId());
        }
        Link link = column.getLink();
        ColumnType restored = link.getPreviousType();
        if (restored == ColumnType.COLUMN_TYPE_UNSPECIFIED || restored == ColumnType.UNRECOGNIZED || link.getLinkVersion() == 0) {
            throw ApiException.conflict("conflict", "this link was made before undo existed: "
                + "the column's former type was not recorded; unlink it instead");
        }
        if (restored != column.getType()) {
            // Undo retypes the column; a column other links point at must keep its type.
            requireNotLinkTarget(state, column, c.incoming());
        }
        return List.of(EventEnvelope.newBuilder().setColumnLinkUndone(ColumnLinkUndone.newBuilder()
            .setColumnId(column.getId())
            .setTargetTableId(link.getTargetTableId())
            .setTargetColumnId(link.getTargetColumnId())
            .setRestoredType(restored)
            .setLinkVersion(link.getLinkVersion())));
    }

    /** Links of other tables come in the command; links of this table to itself are in its state. */
    private static void requireNotLinkTarget(Table state, Column column, List<TableCommand.IncomingLink> incoming) {
        for (TableCommand.IncomingLink l : incoming) {
            if (l.targetColumnId().equals(column.getId()) && !l.tableId().equals(state.getId())) {
                throw ApiException.conflict("link_target_in_use",
                    "column " + l.columnId() + " of table " + l.tableId() + " links to this column");
            }
        }
        for (Column own : state.getColumnsList()) {
            if (own.hasLink() && own.getLink().getTargetTableId().equals(state.getId())
                && own.getLink().getTargetColumnId().equals(column.getId())) {
                throw ApiException.conflict("link_target_in_use",
                    "column " + own.getId() + " of this table links to this column");
            }
        }
    }

    private static EventEnvelope.Builder displayColumnChanged(String columnId) {
        return EventEnvelope.newBuilder().setDisplayColumnChanged(
            DisplayColumnChanged.newBuilder().setDisplayColumnId(columnId));
    }

    private static Column requireColumn(Table state, String columnId) {
        Column column = columnId == null ? null : findColumn(state, columnId);
        if (column == null) {
            throw ApiException.notFound("column " + columnId);
        }
        return column;
    }

    public static Column findColumn(Table table, String columnId) {
        for (Column c : table.getColumnsList()) {
            if (c.getId().equals(columnId)) {
                return c;
            }
        }
        return null;
    }

    private static List<EventEnvelope.Builder> decideCreate(Table state, TableCommand.CreateTable c) {
        if (state != null) {
            throw ApiException.conflict("conflict", "table " + c.tableId() + " exists");
        }
        if (c.columns().size() + 1 > MAX_COLUMNS) {
            throw limitExceeded("columns", "a table has at most " + MAX_COLUMNS
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
                throw new ApiException(io.grpc.Status.Code.ALREADY_EXISTS, "conflict",
                    "column name '" + columnName + "' is used twice", List.of());
            }
            ColumnType type = spec.type() == null ? ColumnType.TEXT : spec.type();
            if (type == ColumnType.COLUMN_TYPE_UNSPECIFIED || type == ColumnType.UNRECOGNIZED) {
                throw ApiException.invalid(field + ".type", "unknown column type");
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

    private static List<EventEnvelope.Builder> decideAddColumn(Table state, int slotsUsed, TableCommand.AddColumn c) {
        if (state.getColumnsCount() >= MAX_COLUMNS) {
            throw limitExceeded("columns", "a table has at most " + MAX_COLUMNS
                + " columns, the primary key id included; this table has " + state.getColumnsCount()
                + ": drop a column first");
        }
        if (slotsUsed >= MAX_COLUMN_SLOTS) {
            throw limitExceeded("columns", "this table has used all " + MAX_COLUMN_SLOTS
                + " column slots (" + slotsUsed + " used): the database keeps counting dropped columns, "
                + "so no column can be added to it any more; create a new table and copy the records into it");
        }
        Set<String> names = new HashSet<>();
        state.getColumnsList().forEach(col -> names.add(fold(col.getName())));
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
                throw new ApiException(io.grpc.Status.Code.ALREADY_EXISTS, "conflict",
                    "a column named '" + name + "' exists", List.of());
            }
        }
        ColumnType type = c.column().type() == null ? ColumnType.TEXT : c.column().type();
        if (type == ColumnType.COLUMN_TYPE_UNSPECIFIED || type == ColumnType.UNRECOGNIZED) {
            throw ApiException.invalid("type", "unknown column type");
        }
        return List.of(EventEnvelope.newBuilder().setColumnAdded(ColumnAdded.newBuilder().setColumn(
            ColumnDef.newBuilder().setColumnId(c.ids().next()).setName(name).setType(type)
                .setUnique(c.column().unique()))));
    }

    /**
     * The physical column slots a table's history has used: {@code _version}, every column of
     * {@code TableCreated} (the primary key included) and every {@code ColumnAdded}. Dropped
     * columns keep their slot; type changes and links rewrite a column in place.
     */
    public static int slotsUsed(List<EventEnvelope> history) {
        int slots = 0;
        for (EventEnvelope e : history) {
            slots += slots(e.getPayloadCase(), e.getTableCreated().getColumnsCount());
        }
        return slots;
    }

    private static int slots(EventEnvelope.PayloadCase event, int createdColumns) {
        return switch (event) {
            case TABLE_CREATED -> createdColumns + 1;
            case COLUMN_ADDED -> 1;
            default -> 0;
        };
    }

    /** A count limit of docs/limits.md: 409 {@code limit_exceeded} naming the field. */
    public static ApiException limitExceeded(String field, String message) {
        return new ApiException(io.grpc.Status.Code.FAILED_PRECONDITION, "limit_exceeded", message,
            List.of(FieldViolation.newBuilder().setField(field).setMessage(message).build()));
    }

    /** The next state after {@code event}; {@code state} is null before the first event. */
    public static Table apply(Table state, EventEnvelope event) {
        switch (event.getPayloadCase()) {
            case TABLE_CREATED -> {
                TableCreated e = event.getTableCreated();
                Table.Builder t = Table.newBuilder()
                    .setId(event.getAggregateId())
                    .setName(e.getName())
                    .setPrimaryKeyColumnId(e.getPrimaryKeyColumnId())
                    .setDisplayColumnId(e.getDisplayColumnId());
                for (ColumnDef d : e.getColumnsList()) {
                    t.addColumns(column(d));
                }
                return t.setVersion(event.getAggregateVersion()).build();
            }
            case TABLE_RENAMED -> {
                return state.toBuilder().setName(event.getTableRenamed().getName())
                    .setVersion(event.getAggregateVersion()).build();
            }
            case COLUMN_ADDED -> {
                return state.toBuilder().addColumns(column(event.getColumnAdded().getColumn()))
                    .setVersion(event.getAggregateVersion()).build();
            }
            case TABLE_DELETED -> {
                // A deleted table is gone: no command applies to it any more.
                return null;
            }
            case DISPLAY_COLUMN_CHANGED -> {
                return state.toBuilder().setDisplayColumnId(event.getDisplayColumnChanged().getDisplayColumnId())
                    .setVersion(event.getAggregateVersion()).build();
            }
            case COLUMN_RENAMED -> {
                ColumnRenamed e = event.getColumnRenamed();
                return withColumn(state, event, e.getColumnId(), c -> c.setName(e.getName()));
            }
            case COLUMN_TYPE_CHANGED -> {
                ColumnTypeChanged e = event.getColumnTypeChanged();
                return withColumn(state, event, e.getColumnId(), c -> c.setType(e.getToType()));
            }
            case COLUMN_UNIQUE_CHANGED -> {
                ColumnUniqueChanged e = event.getColumnUniqueChanged();
                return withColumn(state, event, e.getColumnId(), c -> c.setUnique(e.getUnique() || c.getPrimaryKey()));
            }
            case COLUMN_DROPPED -> {
                String id = event.getColumnDropped().getColumnId();
                Table.Builder t = state.toBuilder().clearColumns();
                state.getColumnsList().stream().filter(c -> !c.getId().equals(id)).forEach(t::addColumns);
                return t.setVersion(event.getAggregateVersion()).build();
            }
            case COLUMN_LINKED -> {
                ColumnLinked e = event.getColumnLinked();
                return withColumn(state, event, e.getColumnId(), c -> c.setType(e.getTargetColumnType())
                    .setLink(Link.newBuilder().setColumnId(e.getColumnId()).setTargetTableId(e.getTargetTableId())
                        .setTargetColumnId(e.getTargetColumnId()).setOnDelete(e.getOnDelete())
                        .setState(LinkState.RECONCILING)
                        .setProgress(LinkProgress.newBuilder().setPhase(LinkState.RECONCILING)) // nothing reported yet
                        .setLinkVersion(event.getAggregateVersion()).setPreviousType(e.getPreviousType())));
            }
            case COLUMN_LINK_UNDONE -> {
                ColumnLinkUndone e = event.getColumnLinkUndone();
                return withColumn(state, event, e.getColumnId(), c -> c.setType(e.getRestoredType()).clearLink());
            }
            case COLUMN_UNLINKED -> {
                ColumnUnlinked e = event.getColumnUnlinked();
                return withColumn(state, event, e.getColumnId(), c -> c.setType(e.getRestoredType()).clearLink());
            }
            default -> {
                // Events this version does not model leave the state as it was, but move the version.
                return state.toBuilder().setVersion(event.getAggregateVersion()).build();
            }
        }
    }

    public static Table replay(List<EventEnvelope> events) {
        Table state = null;
        for (EventEnvelope e : events) {
            state = apply(state, e);
        }
        return state;
    }

    private static Table withColumn(Table state, EventEnvelope event, String columnId,
                                    UnaryOperator<Column.Builder> change) {
        Table.Builder t = state.toBuilder();
        for (int i = 0; i < t.getColumnsCount(); i++) {
            if (t.getColumns(i).getId().equals(columnId)) {
                t.setColumns(i, change.apply(t.getColumns(i).toBuilder()).build());
            }
        }
        return t.setVersion(event.getAggregateVersion()).build();
    }

    static Column column(ColumnDef d) {
        return Column.newBuilder().setId(d.getColumnId()).setName(d.getName()).setType(d.getType())
            .setPrimaryKey(d.getPrimaryKey()).setUnique(d.getUnique() || d.getPrimaryKey()).build();
    }

    /** Names are 1–120 characters after trimming; compared case-insensitively. */
    public static String validName(String field, String raw) {
        String name = raw == null ? "" : raw.strip();
        if (name.isEmpty()) {
            throw ApiException.invalid(field, "must not be empty");
        }
        if (name.codePointCount(0, name.length()) > MAX_NAME_LENGTH) {
            throw ApiException.invalid(field, "must be at most " + MAX_NAME_LENGTH + " characters");
        }
        return name;
    }

    public static String fold(String name) {
        return name.toLowerCase(Locale.ROOT);
    }

}
