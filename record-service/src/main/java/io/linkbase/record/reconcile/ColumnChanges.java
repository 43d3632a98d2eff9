package io.linkbase.record.reconcile;

import io.linkbase.proto.events.v1.ClearedValue;
import io.linkbase.proto.events.v1.ColumnLinked;
import io.linkbase.kit.events.Cause;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.events.v1.LinkReconciled;
import io.linkbase.proto.v1.ColumnType;
import io.linkbase.proto.v1.LinkPreview;
import io.linkbase.proto.v1.ClearedSample;
import io.linkbase.proto.v1.OnDelete;
import io.linkbase.proto.v1.Value;
import io.linkbase.record.catalog.Catalog;
import io.linkbase.record.sql.Canonical;
import io.linkbase.record.sql.PhysicalNames;
import io.linkbase.record.publish.RecordEvents;
import io.linkbase.record.catalog.Rows;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.linkbase.kit.consumer.NotYetException;
import io.linkbase.kit.db.Db;
import io.linkbase.kit.retry.Retry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import static io.linkbase.record.sql.PhysicalNames.quote;

/**
 * Data-changing column DDL: link reconciliation, retyping and uniqueness, all set-based in the
 * caller's transaction. Values are converted by the exact canonical-text rule, so a kept value
 * keeps its canonical text; every value that is cleared bumps its record's version and is
 * published as a RecordUpserted.
 */
public final class ColumnChanges {
    private static final Logger LOG = LoggerFactory.getLogger(ColumnChanges.class);
    /** Keeps each LinkReconciled well under Kafka's default 1 MB message limit. */
    private static final int MAX_CLEARED_BYTES = 256 * 1024;

    private ColumnChanges() {
    }

    /** A value that was cleared, with its canonical text before. */
    public record Cleared(long recordId, Value former) {
    }

    /** What reconciliation did: the counts of {@code LinkReconciled}. */
    public record Outcome(long kept, List<Cleared> cleared) {
    }

    /** The statements of a link, in order; the benchmark runs the same ones bare. */
    public record LinkSql(String clear, String bareClear, String retype, String addForeignKey, String validate) {
    }

    public static LinkSql linkSql(Catalog.Table table, Catalog.Column column, Catalog.Table target,
                                  Catalog.Column targetColumn, OnDelete onDelete, String constraint) {
        String c = quote(column.physical());
        String match = Matching.matches("a." + c, column.type(), target, targetColumn);
        // The cleared values are kept for undo by the same statement that clears them.
        String clear = clearing(table, column, "a." + c + " IS NOT NULL AND NOT " + match, LinkUndo.keepCleared(table, column),
            false);
        String bareClear = "UPDATE " + table.qualified() + " a SET " + c + " = NULL, " + Rows.VERSION + " = a."
            + Rows.VERSION + " + 1 WHERE a." + c + " IS NOT NULL AND NOT " + match;
        String retype = column.type() == targetColumn.type() ? null
            : "ALTER TABLE " + table.qualified() + " ALTER COLUMN " + c + " TYPE "
                + PhysicalNames.sqlType(targetColumn.type()) + " USING " + Canonical.convert(column.type(), targetColumn.type(), c);
        String action = switch (onDelete) {
            case RESTRICT -> "RESTRICT";
            case CASCADE -> "CASCADE";
            default -> "SET NULL";
        };
        String fk = "ALTER TABLE " + table.qualified() + " ADD CONSTRAINT " + quote(constraint) + " FOREIGN KEY (" + c
            + ") REFERENCES " + target.qualified() + " (" + quote(targetColumn.physical()) + ") ON DELETE " + action
            + " NOT VALID";
        String validate = "ALTER TABLE " + table.qualified() + " VALIDATE CONSTRAINT " + quote(constraint);
        return new LinkSql(clear, bareClear, retype, fk, validate);
    }

    /**
     * ColumnLinked, in steps that each commit, so writers of either table never wait for the
     * whole reconciliation (docs/decisions.md "Writers during a link"):
     * <ol>
     * <li>the link's row in {@code physical_links} ({@code CLEARING}: not a link for anyone yet);</li>
     * <li>when the column changes type: the values that can never match (they do not convert to
     * the target's type) are cleared in steps of {@link #STEP_ROWS} rows, one transaction each,
     * locking only the rows they clear;</li>
     * <li>one short transaction with the linking table locked against writers (the target only
     * for its last milliseconds): clear what was written since that does not convert, convert the
     * column, add the foreign key {@code NOT VALID}
     * ({@code VALIDATING}): from its commit PostgreSQL checks every new write and delete itself,
     * and the link is in the catalog (reads join it, deletes follow its on-delete action);</li>
     * <li>the values that convert but match no target are cleared in steps, like 2;</li>
     * <li>{@code VALIDATE CONSTRAINT} in its own transaction (it does not block writers);</li>
     * <li>in the consumer's transaction, with its applied version: {@code ACTIVE} and
     * LinkReconciled, whose counts and cleared values come from what the steps kept.</li>
     * </ol>
     * Every step is idempotent: a crash anywhere redelivers the event, which resumes from the
     * phase the link's row records, and LinkReconciled is published once, with the applied version.
     * While it runs, {@link ReconcileProgress} reports how far it got, every 0.5 s.
     */
    public static Outcome link(Db db, Connection c, EventEnvelope e) throws SQLException {
        return link(db, c, e, STEP_ROWS);
    }

    /** {@link #link(Db, Connection, EventEnvelope)} with steps of {@code stepRows} rows. */
    public static Outcome link(Db db, Connection c, EventEnvelope e, int stepRows) throws SQLException {
        ColumnLinked l = e.getColumnLinked();
        String tenant = e.getTenantId();
        Catalog.Table table = Catalog.require(c, tenant, e.getAggregateId());
        Catalog.Column column = table.column(l.getColumnId()).orElseThrow(() ->
            new IllegalStateException("linked column " + l.getColumnId() + " is not in the catalog"));
        // The target may not be applied yet (its events travel on another partition): NotYet
        // rolls back and the consumer retries until it is (never parked as a poison event).
        Catalog.Table target = l.getTargetTableId().equals(table.id()) ? table
            : Catalog.table(c, tenant, l.getTargetTableId()).orElseThrow(() ->
                new NotYetException("target table " + l.getTargetTableId() + " is not in the catalog yet"));
        Catalog.Column targetColumn = target.column(l.getTargetColumnId()).orElseThrow(() ->
            new NotYetException("target column " + l.getTargetColumnId() + " is not in the catalog yet"));
        if (!targetColumn.primaryKey() && !targetColumn.unique()) {
            throw new NotYetException("target column " + targetColumn.id() + " is not unique yet");
        }
        Catalog.Link link = new Catalog.Link(table.id(), column.id(), target.id(), targetColumn.id(),
            l.getOnDelete() == OnDelete.ON_DELETE_UNSPECIFIED ? OnDelete.SET_NULL : l.getOnDelete(), e.getAggregateVersion());
        Cause cause = Cause.of(e);

        long t0 = System.nanoTime();
        Begun begun = db.inNewTransaction(n -> begin(n, tenant, link, column.type()));
        Phase phase = begun.phase();
        // the passes over the linking table (see ReconcileProgress); a redelivery resumes after the first two
        boolean retyped = begun.previousType() != targetColumn.type();
        int passes = retyped ? 4 : 2;
        long t1 = t0;
        long t2 = t0;
        long t3;
        long t4;
        Catalog.Table linked;
        try (ReconcileProgress progress = ReconcileProgress.start(db, e, table.qualified(), passes,
            phase == Phase.CLEARING || !retyped ? 0 : 2)) {
            if (phase == Phase.CLEARING) {
                if (column.type() != targetColumn.type()) {
                    clearInSteps(db, table, column, "a." + quote(column.physical()) + " IS NOT NULL AND "
                        + Canonical.convert(column.type(), targetColumn.type(), "a." + quote(column.physical())) + " IS NULL",
                        cause, stepRows, progress);
                    progress.passDone();
                }
                t1 = System.nanoTime();
                retrying(() -> db.inNewTransaction(n -> {
                    constrain(n, tenant, link, cause);
                    return null;
                }));
                if (retyped) {
                    progress.passDone(); // the column converted
                }
                t2 = System.nanoTime();
            }
            linked = db.read(n -> Catalog.require(n, tenant, table.id()));
            Catalog.Column now = linked.column(column.id()).orElseThrow();
            Catalog.Table targetNow = target == table ? linked : target;
            clearInSteps(db, linked, now, "a." + quote(now.physical()) + " IS NOT NULL AND NOT "
                + Matching.matches("a." + quote(now.physical()), now.type(), targetNow, targetNow.column(targetColumn.id()).orElseThrow()),
                cause, stepRows, progress);
            progress.passDone();
            t3 = System.nanoTime();
            retrying(() -> db.inNewTransaction(n -> {
                try (Statement s = n.createStatement()) {
                    s.execute("ALTER TABLE " + linked.qualified() + " VALIDATE CONSTRAINT " + quote(link.constraintName()));
                }
                return null;
            }));
            progress.passDone();
            t4 = System.nanoTime();
        }
        Outcome outcome = finish(c, linked, link, cause);
        long t5 = System.nanoTime();
        LOG.info("reconciled link of {}/{}.{}: kept {}, cleared {} in {} ms (clear what never matches {} ms, convert + "
                + "foreign key NOT VALID {} ms (writers wait for this step only), clear what matches nothing {} ms, "
                + "validate {} ms, LinkReconciled {} ms)", tenant, table.id(), column.id(), outcome.kept(),
            outcome.cleared().size(), (t5 - t0) / 1_000_000, (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000,
            (t3 - t2) / 1_000_000, (t4 - t3) / 1_000_000, (t5 - t4) / 1_000_000);
        return outcome;
    }

    /** How far a link's reconciliation got ({@code physical_links.phase}). */
    enum Phase { CLEARING, VALIDATING, ACTIVE }

    /**
     * Rows per step of the clearing done outside any table lock (a step takes tens of ms), unless
     * {@code linkbase.reconcile.step-rows} says otherwise.
     */
    public static final int STEP_ROWS = 20_000;

    /** The link's phase when this delivery started, and the column's type before the link. */
    private record Begun(Phase phase, ColumnType previousType) {
    }

    /** Step 1: the link's row, or the phase of the one a previous delivery of this event left. */
    private static Begun begin(Connection n, String tenant, Catalog.Link link, ColumnType current) throws SQLException {
        try (PreparedStatement s = n.prepareStatement("SELECT phase, link_version, previous_type FROM physical_links "
            + "WHERE tenant_id = ? AND table_id = ? AND column_id = ? FOR UPDATE")) {
            s.setString(1, tenant);
            s.setString(2, link.tableId());
            s.setString(3, link.columnId());
            try (ResultSet rs = s.executeQuery()) {
                if (rs.next()) {
                    Phase phase = Phase.valueOf(rs.getString(1));
                    if (rs.getLong(2) == link.linkVersion()) {
                        return new Begun(phase, ColumnType.valueOf(rs.getString(3)));
                    }
                    if (phase == Phase.ACTIVE) {
                        throw new IllegalStateException("column " + link.columnId() + " is already linked (version "
                            + rs.getLong(2) + ")");
                    }
                    // what an abandoned reconciliation of another version left (its kept values go with it)
                    forgetLink(n, tenant, link.tableId(), link.columnId());
                }
            }
        }
        try (PreparedStatement s = n.prepareStatement(
            "INSERT INTO physical_links (tenant_id, table_id, column_id, target_table_id, target_column_id, on_delete, "
                + "link_version, previous_type, phase) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'CLEARING')")) {
            s.setString(1, tenant);
            s.setString(2, link.tableId());
            s.setString(3, link.columnId());
            s.setString(4, link.targetTableId());
            s.setString(5, link.targetColumnId());
            s.setString(6, link.onDelete().name());
            s.setLong(7, link.linkVersion());
            s.setString(8, current.name());
            s.executeUpdate();
        }
        return new Begun(Phase.CLEARING, current);
    }

    /** How long step 3 waits for a table lock before it lets writers go and tries again. */
    private static final int LOCK_TIMEOUT_MS = 1_000;

    /**
     * Step 3, the only one that keeps writers out (of the linking table, until it commits; of the
     * target, from the foreign key on): what was
     * written since step 2 that does not convert is cleared, the column converted (a rewrite of
     * the linking table), the foreign key added NOT VALID (no scan), the catalog updated, and the
     * counts LinkReconciled needs taken.
     */
    private static void constrain(Connection n, String tenant, Catalog.Link link, Cause cause) throws SQLException {
        try (Statement s = n.createStatement()) {
            // never queue writers behind this transaction for long (e.g. while it waits for a long reader)
            s.execute("SET LOCAL lock_timeout = '" + LOCK_TIMEOUT_MS + "ms'");
        }
        Catalog.Table table = Catalog.require(n, tenant, link.tableId());
        Catalog.Table target = link.targetTableId().equals(table.id()) ? table : Catalog.require(n, tenant, link.targetTableId());
        lockWriters(n, table);
        Catalog.Column column = table.column(link.columnId()).orElseThrow();
        Catalog.Column targetColumn = target.column(link.targetColumnId()).orElseThrow();
        LinkSql sql = linkSql(table, column, target, targetColumn, link.onDelete(), link.constraintName());
        String c = quote(column.physical());
        if (sql.retype() != null) {
            clearAndPublish(n, tenant, table, column, clearing(table, column, "a." + c + " IS NOT NULL AND "
                + Canonical.convert(column.type(), targetColumn.type(), "a." + c) + " IS NULL",
                LinkUndo.keepCleared(table, column), false), cause);
            LinkUndo.keepConverted(n, table, column);
        }
        try (Statement s = n.createStatement()) {
            if (sql.retype() != null) {
                s.execute(sql.retype());
            }
            // The target is locked only now, for the last milliseconds: a target row deleted before
            // this commit was deleted before the link (the value it leaves dangling is cleared in
            // step 4); from this commit on, deletes follow the link's on-delete action.
            if (target != table) {
                lockWriters(n, target);
            }
            s.execute(sql.addForeignKey());
        }
        setType(n, tenant, table.id(), column.id(), targetColumn.type());
        try (PreparedStatement s = n.prepareStatement("UPDATE physical_links SET phase = 'VALIDATING', kept_base = (SELECT count("
            + c + ") FROM " + table.qualified() + "), cleared_base = (SELECT count(*) FROM link_undo_values v WHERE "
            + "v.tenant_id = ? AND v.table_id = ? AND v.column_id = ? AND v.cleared) WHERE tenant_id = ? AND table_id = ? "
            + "AND column_id = ?")) {
            for (int i = 0; i < 6; i += 3) {
                s.setString(i + 1, tenant);
                s.setString(i + 2, table.id());
                s.setString(i + 3, column.id());
            }
            s.executeUpdate();
        }
    }

    /**
     * Steps 2 and 4: clears the column where {@code condition} holds (over alias a), in steps of
     * {@code stepRows} records by id, each its own transaction that locks only the rows it clears
     * (and re-checks them once locked), keeps their values for undo and publishes them; each
     * committed step counts its rows in {@code progress}.
     */
    private static void clearInSteps(Db db, Catalog.Table table, Catalog.Column column, String condition, Cause cause,
                                     int stepRows, ReconcileProgress progress) {
        // Every read of the table here is in a transaction of its own: one in the consumer's
        // transaction would hold its lock until the end and keep step 3's ALTER TABLE waiting.
        String pk = quote(table.primaryKey().physical());
        long from = Long.MIN_VALUE + 1;
        while (true) {
            long after = from;
            long[] step = retrying(() -> db.inNewTransaction(n -> {
                long last;
                long rows;
                try (PreparedStatement s = n.prepareStatement("SELECT max(p), count(*) FROM (SELECT " + pk + " AS p FROM "
                    + table.qualified() + " WHERE " + pk + " > ? ORDER BY " + pk + " LIMIT " + stepRows + ") z")) {
                    s.setLong(1, after);
                    try (ResultSet rs = s.executeQuery()) {
                        rs.next();
                        last = rs.getLong(1);
                        if (rs.wasNull()) {
                            return null;
                        }
                        rows = rs.getLong(2);
                    }
                }
                String range = "a." + pk + " > " + after + " AND a." + pk + " <= " + last + " AND " + condition;
                clearAndPublish(n, table.tenantId(), table, column, clearing(table, column, range,
                    LinkUndo.keepCleared(table, column), true), cause);
                return new long[] {last, rows};
            }));
            if (step == null) {
                return;
            }
            progress.stepped(step[1]);
            from = step[0];
        }
    }

    /** Retries a step that met a deadlock, a serialization failure or a lock timeout (it changed nothing). */
    private static <T> T retrying(java.util.function.Supplier<T> step) {
        return Retry.call(step, Db.DataAccessFailure.class, ColumnChanges::changedNothing, 20,
            Retry.Backoff.linear(50, 1_000), (e, failures, delay) ->
                LOG.info("reconciliation step met {} ({}); trying again", e.sqlState(), e.getMessage()));
    }

    private static boolean changedNothing(Db.DataAccessFailure e) {
        String state = e.sqlState() == null ? "" : e.sqlState();
        return state.equals("40P01") || state.equals("40001") || state.equals("55P03");
    }

    /**
     * Step 6, in the consumer's transaction: the link is ACTIVE and LinkReconciled published, its
     * cleared values being every value the steps cleared (kept for undo, so exact after a crash);
     * kept = the values there were when the column was converted minus those cleared after.
     */
    private static Outcome finish(Connection c, Catalog.Table table, Catalog.Link link, Cause cause) throws SQLException {
        String tenant = table.tenantId();
        long keptBase;
        long clearedBase;
        ColumnType former;
        try (PreparedStatement s = c.prepareStatement("UPDATE physical_links SET phase = 'ACTIVE' WHERE tenant_id = ? "
            + "AND table_id = ? AND column_id = ? RETURNING kept_base, cleared_base, previous_type")) {
            s.setString(1, tenant);
            s.setString(2, table.id());
            s.setString(3, link.columnId());
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    throw new IllegalStateException("link of " + link.columnId() + " vanished while it was reconciled");
                }
                keptBase = rs.getLong(1);
                clearedBase = rs.getLong(2);
                former = ColumnType.valueOf(rs.getString(3));
            }
        }
        List<Cleared> cleared = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement("SELECT v.record_id, " + Canonical.text(former, "CAST(v.former AS "
            + PhysicalNames.sqlType(former) + ")") + " FROM link_undo_values v WHERE v.tenant_id = ? AND v.table_id = ? "
            + "AND v.column_id = ? AND v.cleared ORDER BY v.record_id")) {
            s.setString(1, tenant);
            s.setString(2, table.id());
            s.setString(3, link.columnId());
            s.setFetchSize(10_000);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    cleared.add(new Cleared(rs.getLong(1), Rows.value(former, rs.getString(2))));
                }
            }
        }
        long kept = keptBase - (cleared.size() - clearedBase);
        RecordEvents.publish(c, tenant, table.id(), linkReconciled(table.id(), link, kept, cleared), cause);
        return new Outcome(kept, cleared);
    }

    /** ColumnUnlinked: the foreign key goes; type and values stay. */
    public static void unlink(Connection c, String tenant, String tableId, String columnId) throws SQLException {
        dropForeignKey(c, Catalog.require(c, tenant, tableId), columnId);
        forgetLink(c, tenant, tableId, columnId);
    }

    static void dropForeignKey(Connection c, Catalog.Table table, String columnId) throws SQLException {
        Catalog.Link link = table.links().get(columnId);
        String constraint = link != null ? link.constraintName()
            : new Catalog.Link(table.id(), columnId, "", "", OnDelete.SET_NULL, 0).constraintName();
        try (Statement s = c.createStatement()) {
            s.execute("ALTER TABLE " + table.qualified() + " DROP CONSTRAINT IF EXISTS " + quote(constraint));
        }
    }

    /** The link leaves the catalog, and with it what was kept to undo it. */
    static void forgetLink(Connection c, String tenant, String tableId, String columnId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
            "DELETE FROM physical_links WHERE tenant_id = ? AND table_id = ? AND column_id = ?")) {
            s.setString(1, tenant);
            s.setString(2, tableId);
            s.setString(3, columnId);
            s.executeUpdate();
        }
    }

    /** ColumnTypeChanged: converts what converts by the exact canonical-text rule, nulls the rest. */
    public static List<Cleared> retype(Connection c, EventEnvelope e, String columnId, ColumnType to) throws SQLException {
        String tenant = e.getTenantId();
        Catalog.Table table = Catalog.require(c, tenant, e.getAggregateId());
        Catalog.Column column = table.column(columnId).orElseThrow(() ->
            new IllegalStateException("retyped column " + columnId + " is not in the catalog"));
        if (column.type() == to) {
            return List.of();
        }
        String col = quote(column.physical());
        String converted = Canonical.convert(column.type(), to, "a." + col);
        lockWriters(c, table);
        List<Cleared> cleared = clearAndPublish(c, tenant, table, column,
            clearing(table, column, "a." + col + " IS NOT NULL AND " + converted + " IS NULL"), Cause.of(e));
        try (Statement s = c.createStatement()) {
            s.execute("ALTER TABLE " + table.qualified() + " ALTER COLUMN " + col + " TYPE " + PhysicalNames.sqlType(to)
                + " USING " + Canonical.convert(column.type(), to, col));
        }
        setType(c, tenant, table.id(), columnId, to);
        return cleared;
    }

    /**
     * ColumnUniqueChanged. Turning uniqueness on where values repeat keeps the first occurrence
     * (lowest id) and clears the later ones, like any other conversion: the event is a decision
     * already taken, and a stuck event would stop every later change of the table.
     */
    public static void setUnique(Connection c, EventEnvelope e, String columnId, boolean unique) throws SQLException {
        String tenant = e.getTenantId();
        Catalog.Table table = Catalog.require(c, tenant, e.getAggregateId());
        Catalog.Column column = table.column(columnId).orElseThrow(() ->
            new IllegalStateException("column " + columnId + " is not in the catalog"));
        String col = quote(column.physical());
        String pk = quote(table.primaryKey().physical());
        try (Statement s = c.createStatement()) {
            for (String existing : uniqueConstraints(c, table, column)) {
                s.execute("ALTER TABLE " + table.qualified() + " DROP CONSTRAINT " + quote(existing));
            }
        }
        if (unique) {
            lockWriters(c, table);
            String later = "a." + pk + " IN (SELECT z.p FROM (SELECT " + pk + " AS p, row_number() OVER (PARTITION BY "
                + col + " ORDER BY " + pk + ") AS n FROM " + table.qualified() + " WHERE " + col
                + " IS NOT NULL) z WHERE z.n > 1)";
            clearAndPublish(c, tenant, table, column, clearing(table, column, later), Cause.of(e));
            try (Statement s = c.createStatement()) {
                s.execute("ALTER TABLE " + table.qualified() + " ADD CONSTRAINT " + quote(uniqueName(column)) + " UNIQUE (" + col + ")");
            }
        }
        try (PreparedStatement s = c.prepareStatement(
            "UPDATE physical_columns SET is_unique = ? WHERE tenant_id = ? AND table_id = ? AND column_id = ?")) {
            s.setBoolean(1, unique);
            s.setString(2, tenant);
            s.setString(3, table.id());
            s.setString(4, columnId);
            s.executeUpdate();
        }
    }

    private static String uniqueName(Catalog.Column column) {
        return "u_" + column.physical().substring(2);
    }

    /** Link preview: the counts and up to 20 samples reconciliation would clear; changes nothing. */
    public static LinkPreview preview(Connection c, Catalog.Table table, Catalog.Column column, Catalog.Table target,
                                      Catalog.Column targetColumn) throws SQLException {
        String col = "a." + quote(column.physical());
        String match = Matching.matches(col, column.type(), target, targetColumn);
        LinkPreview.Builder preview = LinkPreview.newBuilder();
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FILTER (WHERE " + match + "), count(*) FROM "
                 + table.qualified() + " a WHERE " + col + " IS NOT NULL")) {
            rs.next();
            preview.setKeptCount(rs.getLong(1)).setClearedCount(rs.getLong(2) - rs.getLong(1));
        }
        String pk = "a." + quote(table.primaryKey().physical());
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT " + pk + ", " + Canonical.text(column.type(), col) + " FROM "
                 + table.qualified() + " a WHERE " + col + " IS NOT NULL AND NOT " + match + " ORDER BY " + pk + " LIMIT 20")) {
            while (rs.next()) {
                preview.addClearedSamples(ClearedSample.newBuilder().setRecordId(rs.getLong(1))
                    .setValue(Rows.value(column.type(), rs.getString(2))));
            }
        }
        return preview.build();
    }

    /**
     * One statement that clears {@code column} where {@code condition} holds (over alias a),
     * bumps the versions and returns each former value with the whole row after.
     */
    private static String clearing(Catalog.Table table, Catalog.Column column, String condition) {
        return clearing(table, column, condition, null, false);
    }

    /**
     * Like {@link #clearing(Catalog.Table, Catalog.Column, String)}; {@code alsoCte}, when not null,
     * is one more data-modifying CTE over x ({@code x.p} the record id, {@code x.native} the value's
     * PostgreSQL text) run by the same statement.
     */
    private static String clearing(Catalog.Table table, Catalog.Column column, String condition, String alsoCte,
                                   boolean lockRows) {
        String col = quote(column.physical());
        String pk = quote(table.primaryKey().physical());
        // One scan finds the rows; the update reaches them again by ctid (a TID scan), not by a second
        // scan of the whole table: the ctid is stable because the caller holds a lock that keeps
        // writers out. Without that lock (lockRows) the scan locks the rows it found (re-checked once
        // locked) and the update reaches them by primary key: a row a writer changed while the scan
        // waited for it has a new ctid, and the scan reports the old one.
        return "WITH x AS MATERIALIZED (SELECT a.ctid AS t, a." + pk + " AS p, "
            + Canonical.text(column.type(), "a." + col) + " AS former"
            + (alsoCte == null ? "" : ", a." + col + "::text AS native") + " FROM " + table.qualified() + " a WHERE " + condition
            + (lockRows ? " FOR UPDATE OF a" : "") + ")" + (alsoCte == null ? "" : ", " + alsoCte) + ", u AS (UPDATE " + table.qualified() + " a SET " + col + " = NULL, " + Rows.VERSION + " = a." + Rows.VERSION
            + " + 1 WHERE " + (lockRows ? "a." + pk + " = ANY (ARRAY(SELECT x.p FROM x))" : "a.ctid = ANY (ARRAY(SELECT x.t FROM x))")
            + " RETURNING " + Rows.selectList(table, "a")
            + ", a." + pk + " AS lb_p) SELECT x.former, u.* FROM u JOIN x ON x.p = u.lb_p";
    }

    /** Keeps writers out of the table for the rest of the transaction (the lock a foreign key takes anyway). */
    static void lockWriters(Connection c, Catalog.Table table) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("LOCK TABLE " + table.qualified() + " IN SHARE ROW EXCLUSIVE MODE");
        }
    }

    /** Runs a {@link #clearing} statement; each row: the former value, then the row after, as texts. */
    private static List<String[]> clear(Connection c, Catalog.Table table, String sql) throws SQLException {
        List<String[]> rows = new ArrayList<>();
        int width = 1 + Rows.width(table);
        try (Statement s = c.createStatement()) {
            s.setFetchSize(10_000);
            try (ResultSet rs = s.executeQuery(sql)) {
                while (rs.next()) {
                    String[] row = new String[width];
                    for (int i = 0; i < width; i++) {
                        row[i] = rs.getString(i + 1);
                    }
                    rows.add(row);
                }
            }
        }
        return rows;
    }

    /** The cleared values and their RecordUpserted events, ready for the outbox. */
    private record Prepared(List<Cleared> cleared, RecordEvents.Encoded events) {
    }

    private static Prepared prepare(Catalog.Table table, Catalog.Column column, List<String[]> raw, long firstVersion,
                                    Cause cause) {
        List<Cleared> cleared = new ArrayList<>(raw.size());
        List<Rows.Row> rows = new ArrayList<>(raw.size());
        for (String[] texts : raw) {
            Rows.Row row = Rows.fromTexts(table, texts, 1);
            cleared.add(new Cleared(row.id(), Rows.value(column.type(), texts[0])));
            rows.add(row);
        }
        RecordEvents.Encoded encoded = raw.isEmpty() ? null
            : RecordEvents.encodeUpserts(table.tenantId(), table.id(), rows, firstVersion, cause);
        return new Prepared(cleared, encoded);
    }

    static List<Cleared> clearAndPublish(Connection c, String tenant, Catalog.Table table, Catalog.Column column,
                                                 String sql, Cause cause) throws SQLException {
        List<String[]> raw = clear(c, table, sql);
        if (raw.isEmpty()) {
            return List.of();
        }
        Prepared prepared = prepare(table, column, raw, RecordEvents.reserve(c, tenant, table.id(), raw.size()), cause);
        RecordEvents.copy(c, prepared.events());
        return prepared.cleared();
    }

    /** LinkReconciled, split so each stays well under Kafka's message limit; every part carries the counts. */
    private static List<EventEnvelope.Builder> linkReconciled(String tableId, Catalog.Link link, long kept,
                                                              List<Cleared> cleared) {
        List<LinkReconciled.Builder> parts = new ArrayList<>();
        LinkReconciled.Builder part = null;
        int bytes = 0;
        for (Cleared one : cleared) {
            if (part == null || bytes > MAX_CLEARED_BYTES) {
                part = reconciledPart(tableId, link, kept, cleared.size());
                parts.add(part);
                bytes = 0;
            }
            ClearedValue v = ClearedValue.newBuilder().setRecordId(one.recordId()).setFormerValue(one.former()).build();
            part.addClearedValues(v);
            bytes += v.getSerializedSize() + 4;
        }
        if (parts.isEmpty()) {
            parts.add(reconciledPart(tableId, link, kept, 0));
        }
        List<EventEnvelope.Builder> events = new ArrayList<>();
        for (LinkReconciled.Builder p : parts) {
            events.add(EventEnvelope.newBuilder().setLinkReconciled(p));
        }
        return events;
    }

    private static LinkReconciled.Builder reconciledPart(String tableId, Catalog.Link link, long kept, long clearedCount) {
        return LinkReconciled.newBuilder().setTableId(tableId).setColumnId(link.columnId())
            .setTargetTableId(link.targetTableId()).setTargetColumnId(link.targetColumnId())
            .setLinkVersion(link.linkVersion()).setKeptCount(kept).setClearedCount(clearedCount);
    }

    private static List<String> uniqueConstraints(Connection c, Catalog.Table table, Catalog.Column column) throws SQLException {
        List<String> names = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement(
            "SELECT con.conname FROM pg_constraint con JOIN pg_attribute att ON att.attrelid = con.conrelid "
                + "AND att.attname = ? WHERE con.conrelid = to_regclass(?) AND con.contype = 'u' "
                + "AND con.conkey = ARRAY[att.attnum]")) {
            s.setString(1, column.physical());
            s.setString(2, table.qualified());
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    names.add(rs.getString(1));
                }
            }
        }
        return names;
    }

    private static void setType(Connection c, String tenant, String tableId, String columnId, ColumnType type)
        throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
            "UPDATE physical_columns SET column_type = ? WHERE tenant_id = ? AND table_id = ? AND column_id = ?")) {
            s.setString(1, type.name());
            s.setString(2, tenant);
            s.setString(3, tableId);
            s.setString(4, columnId);
            s.executeUpdate();
        }
    }
}
