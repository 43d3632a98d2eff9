package io.linkbase.schema.table;

import io.linkbase.kit.grpc.ApiException;
import io.linkbase.proto.events.v1.ColumnAdded;
import io.linkbase.proto.events.v1.ColumnDef;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.events.v1.TableCreated;
import io.linkbase.proto.events.v1.TableRenamed;
import io.linkbase.proto.v1.Column;
import io.linkbase.proto.v1.ColumnType;
import io.linkbase.proto.v1.Table;

import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The Table aggregate as plain code: {@link #decide} turns a command into events (or refuses
 * it), {@link #apply} turns an event into the next state. No framework, no database.
 */
public final class TableAggregate {
    public static final String PRIMARY_KEY_NAME = "id";
    public static final int MAX_NAME_LENGTH = 120;

    private TableAggregate() {
    }

    /** @param state the table as of now, or {@code null} when it does not exist yet */
    public static List<EventEnvelope.Builder> decide(Table state, TableCommand command) {
        if (command instanceof TableCommand.CreateTable create) {
            return decideCreate(state, create);
        }
        if (state == null) {
            throw ApiException.notFound("table");
        }
        if (command instanceof TableCommand.RenameTable rename) {
            String name = validName("name", rename.name());
            return name.equals(state.getName()) ? List.of()
                : List.of(EventEnvelope.newBuilder().setTableRenamed(TableRenamed.newBuilder().setName(name)));
        }
        if (command instanceof TableCommand.AddColumn add) {
            return decideAddColumn(state, add);
        }
        throw new IllegalArgumentException("unknown command " + command);
    }

    private static List<EventEnvelope.Builder> decideCreate(Table state, TableCommand.CreateTable c) {
        if (state != null) {
            throw ApiException.conflict("conflict", "table " + c.tableId() + " exists");
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

    private static List<EventEnvelope.Builder> decideAddColumn(Table state, TableCommand.AddColumn c) {
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
