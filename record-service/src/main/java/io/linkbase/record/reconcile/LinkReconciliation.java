package io.linkbase.record.reconcile;

import io.linkbase.kit.consumer.NotYetException;
import io.linkbase.kit.db.Db;
import io.linkbase.kit.events.Cause;
import io.linkbase.kit.retry.Retry;
import io.linkbase.proto.events.v1.ColumnLinked;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.v1.ColumnType;
import io.linkbase.proto.v1.OnDelete;
import io.linkbase.record.catalog.Catalog;
import io.linkbase.record.catalog.Rows;
import io.linkbase.record.publish.RecordEvents;
import io.linkbase.record.reconcile.ValueClearing.Cleared;
import io.linkbase.record.sql.Canonical;
import io.linkbase.record.sql.PhysicalNames;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

import static io.linkbase.record.sql.PhysicalNames.quote;

/** A link's reconciliation (ColumnLinked): the existing values matched against the target, the foreign key added. */
final class LinkReconciliation {
    private static final Logger LOG = LoggerFactory.getLogger(LinkReconciliation.class);

    private LinkReconciliation() {
    }

    /** What reconciliation did: the counts of {@code LinkReconciled}. */
    record Outcome(long kept, List<Cleared> cleared) {
    }

    /**
     * ColumnLinked, in steps that each commit, so writers of either table never wait for the
     * whole reconciliation (docs/decisions.md "Writers during a link"):
     * <ol>
     * <li>the link's row in {@code physical_links} ({@code CLEARING}: not a link for anyone yet);</li>
     * <li>when the column changes type: the values that can never match (they do not convert to
     * the target's type) are cleared in steps of {@code stepRows} rows ({@link #STEP_ROWS} by default), one transaction each,
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
    static Outcome link(Db db, Connection c, EventEnvelope e, int stepRows) throws SQLException {
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
    static final int STEP_ROWS = 20_000;

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
                    PhysicalLinks.forgetLink(n, tenant, link.tableId(), link.columnId());
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
        ValueClearing.lockWriters(n, table);
        Catalog.Column column = table.column(link.columnId()).orElseThrow();
        Catalog.Column targetColumn = target.column(link.targetColumnId()).orElseThrow();
        LinkSql sql = LinkSql.of(table, column, target, targetColumn, link.onDelete(), link.constraintName());
        String c = quote(column.physical());
        if (sql.retype() != null) {
            ValueClearing.clearAndPublish(n, tenant, table, column, ValueClearing.statement(table, column, "a." + c + " IS NOT NULL AND "
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
                ValueClearing.lockWriters(n, target);
            }
            s.execute(sql.addForeignKey());
        }
        Retyping.setType(n, tenant, table.id(), column.id(), targetColumn.type());
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
                ValueClearing.clearAndPublish(n, table.tenantId(), table, column, ValueClearing.statement(table, column, range,
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
        return Retry.call(step, Db.DataAccessFailure.class, LinkReconciliation::changedNothing, 20,
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
        RecordEvents.publish(c, tenant, table.id(), LinkReconciledEvents.split(table.id(), link, kept, cleared), cause);
        return new Outcome(kept, cleared);
    }
}
