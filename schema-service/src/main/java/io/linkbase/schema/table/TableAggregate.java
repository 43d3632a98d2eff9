package io.linkbase.schema.table;

import io.linkbase.proto.events.v1.ColumnAdded;
import io.linkbase.proto.events.v1.ColumnDef;
import io.linkbase.proto.events.v1.ColumnLinkUndone;
import io.linkbase.proto.events.v1.ColumnLinked;
import io.linkbase.proto.events.v1.ColumnRenamed;
import io.linkbase.proto.events.v1.ColumnTypeChanged;
import io.linkbase.proto.events.v1.ColumnUniqueChanged;
import io.linkbase.proto.events.v1.ColumnUnlinked;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.events.v1.TableCreated;
import io.linkbase.proto.events.v1.TableDeleted;
import io.linkbase.schema.table.TableState.Column;
import io.linkbase.schema.table.TableState.ColumnLink;

import java.util.List;

/**
 * The Table aggregate as plain code: {@link #decide} (the work is {@link TableDecider}'s) turns a
 * command into events or refuses it with a {@link TableRefusal}; {@link #apply} turns an event into the next {@link TableState} and
 * fails on an event it does not know. No framework, no database, no transport: the events are
 * the stored event messages, the state and the refusals are the aggregate's own.
 */
public final class TableAggregate {
    static final String PRIMARY_KEY_NAME = "id";
    static final int MAX_NAME_LENGTH = 120;
    /** Live columns of a table, the primary key {@code id} included (docs/limits.md). */
    static final int MAX_COLUMNS = 1_000;
    /**
     * Physical column slots a table may ever use. PostgreSQL allows 1,600 columns per table and
     * keeps counting a dropped column; record-service uses one slot for {@code _version}, one
     * per column created or added, and none for a type change or a link (ALTER COLUMN TYPE).
     */
    static final int MAX_COLUMN_SLOTS = 1_500;

    private TableAggregate() {
    }

    /**
     * Like {@link #decide(TableState, int, TableCommand)} for a table whose columns were never
     * dropped: its slots are its live columns plus {@code _version}.
     */
    public static List<EventEnvelope.Builder> decide(TableState state, TableCommand command) {
        return decide(state, state == null ? 0 : state.columns().size() + 1, command);
    }

    /**
     * The events that follow {@code command}, in order (none when it changes nothing).
     *
     * @param state     the table as of now, or {@code null} when it does not exist (yet or any more)
     * @param slotsUsed the physical column slots the table's history has used ({@link #slotsUsed})
     * @throws TableRefusal when the command is refused
     */
    public static List<EventEnvelope.Builder> decide(TableState state, int slotsUsed, TableCommand command) {
        return command.accept(new TableDecider(state, slotsUsed));
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

    /** The slots one event uses (see {@link #slotsUsed}). */
    static int slots(EventEnvelope.PayloadCase event, int createdColumns) {
        return switch (event) {
            case TABLE_CREATED -> createdColumns + 1;
            case COLUMN_ADDED -> 1;
            default -> 0;
        };
    }

    /**
     * The next state after {@code event}; {@code state} is null before the first event and after
     * {@code TableDeleted}.
     *
     * @throws IllegalStateException for an event that is not a table event, or one that needs a
     *                               table where there is none: the stream is not this aggregate's
     */
    public static TableState apply(TableState state, EventEnvelope event) {
        long v = event.getAggregateVersion();
        if (event.getPayloadCase() == EventEnvelope.PayloadCase.TABLE_CREATED) {
            if (state != null) {
                throw new IllegalStateException("table " + state.id() + " created twice (version " + v + ")");
            }
            TableCreated e = event.getTableCreated();
            return new TableState(event.getAggregateId(), e.getName(), v, e.getPrimaryKeyColumnId(),
                e.getDisplayColumnId(), e.getColumnsList().stream().map(TableAggregate::column).toList());
        }
        if (state == null) {
            throw new IllegalStateException("event " + event.getPayloadCase() + " (version " + v + ") of "
                + event.getAggregateId() + " comes before its table exists");
        }
        return switch (event.getPayloadCase()) {
            case TABLE_RENAMED -> state.withName(event.getTableRenamed().getName(), v);
            case COLUMN_ADDED -> state.withColumnAdded(column(event.getColumnAdded().getColumn()), v);
            // A deleted table is gone: no command applies to it any more.
            case TABLE_DELETED -> null;
            case DISPLAY_COLUMN_CHANGED -> state.withDisplayColumn(event.getDisplayColumnChanged().getDisplayColumnId(), v);
            case COLUMN_RENAMED -> {
                ColumnRenamed e = event.getColumnRenamed();
                yield state.withColumnChanged(e.getColumnId(), c -> c.withName(e.getName()), v);
            }
            case COLUMN_TYPE_CHANGED -> {
                ColumnTypeChanged e = event.getColumnTypeChanged();
                yield state.withColumnChanged(e.getColumnId(), c -> c.withType(e.getToType()), v);
            }
            case COLUMN_UNIQUE_CHANGED -> {
                ColumnUniqueChanged e = event.getColumnUniqueChanged();
                yield state.withColumnChanged(e.getColumnId(), c -> c.withUnique(e.getUnique()), v);
            }
            case COLUMN_DROPPED -> state.withColumnRemoved(event.getColumnDropped().getColumnId(), v);
            case COLUMN_LINKED -> {
                ColumnLinked e = event.getColumnLinked();
                ColumnLink link = new ColumnLink(e.getTargetTableId(), e.getTargetColumnId(), e.getOnDelete(), v,
                    e.getPreviousType());
                yield state.withColumnChanged(e.getColumnId(), c -> c.withLink(e.getTargetColumnType(), link), v);
            }
            case COLUMN_LINK_UNDONE -> {
                ColumnLinkUndone e = event.getColumnLinkUndone();
                yield state.withColumnChanged(e.getColumnId(), c -> c.withLink(e.getRestoredType(), null), v);
            }
            case COLUMN_UNLINKED -> {
                ColumnUnlinked e = event.getColumnUnlinked();
                yield state.withColumnChanged(e.getColumnId(), c -> c.withLink(e.getRestoredType(), null), v);
            }
            default -> throw new IllegalStateException("table " + state.id() + " cannot apply "
                + event.getPayloadCase() + " (version " + v + "): not an event of the table aggregate");
        };
    }

    /** The state the events leave (null for none, or for a deleted table). */
    public static TableState replay(List<EventEnvelope> events) {
        TableState state = null;
        for (EventEnvelope e : events) {
            state = apply(state, e);
        }
        return state;
    }

    private static Column column(ColumnDef d) {
        return new Column(d.getColumnId(), d.getName(), d.getType(), d.getPrimaryKey(),
            d.getUnique() || d.getPrimaryKey(), null);
    }
}
