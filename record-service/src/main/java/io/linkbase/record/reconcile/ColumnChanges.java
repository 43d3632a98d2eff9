package io.linkbase.record.reconcile;

import io.linkbase.proto.events.v1.ClearedValue;
import io.linkbase.proto.events.v1.ColumnLinked;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.events.v1.LinkReconciled;
import io.linkbase.proto.v1.ColumnType;
import io.linkbase.proto.v1.LinkPreview;
import io.linkbase.proto.v1.ClearedSample;
import io.linkbase.proto.v1.OnDelete;
import io.linkbase.proto.v1.Value;
import io.linkbase.record.catalog.Catalog;
import io.linkbase.record.ddl.Canonical;
import io.linkbase.record.ddl.PhysicalNames;
import io.linkbase.record.publish.RecordEvents;
import io.linkbase.record.records.Rows;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.linkbase.kit.consumer.NotYetException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import static io.linkbase.record.ddl.PhysicalNames.quote;

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
        String clear = clearing(table, column, "a." + c + " IS NOT NULL AND NOT " + match, LinkUndo.keepCleared(table, column));
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
     * ColumnLinked: clears what does not match exactly, converts the column to the target's type,
     * adds the real foreign key (NOT VALID, then validated), records the link and publishes the
     * cleared records and LinkReconciled.
     */
    public static Outcome link(Connection c, EventEnvelope e) throws SQLException {
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
        LinkSql sql = linkSql(table, column, target, targetColumn, link.onDelete(), link.constraintName());

        long t0 = System.nanoTime();
        lockWriters(c, table);
        if (target != table) {
            lockWriters(c, target);
        }
        List<String[]> raw = clear(c, table, sql.clear());
        if (sql.retype() != null) {
            LinkUndo.keepConverted(c, table, column);
        }
        // Turning the cleared rows into events is plain Java: it runs beside the DDL below.
        long first = raw.isEmpty() ? 0 : RecordEvents.reserve(c, tenant, table.id(), raw.size());
        CompletableFuture<Prepared> prepared = CompletableFuture.supplyAsync(() ->
            prepare(table, column, raw, first, e.getEventId()));
        long t1 = System.nanoTime();
        try (Statement s = c.createStatement()) {
            if (sql.retype() != null) {
                s.execute(sql.retype());
            }
            s.execute(sql.addForeignKey());
            s.execute(sql.validate());
        }
        setType(c, tenant, table.id(), column.id(), targetColumn.type());
        try (PreparedStatement s = c.prepareStatement(
            "INSERT INTO physical_links (tenant_id, table_id, column_id, target_table_id, target_column_id, on_delete, "
                + "link_version, previous_type) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
            s.setString(1, tenant);
            s.setString(2, table.id());
            s.setString(3, column.id());
            s.setString(4, target.id());
            s.setString(5, targetColumn.id());
            s.setString(6, link.onDelete().name());
            s.setLong(7, link.linkVersion());
            s.setString(8, column.type().name());
            s.executeUpdate();
        }
        long t2 = System.nanoTime();
        long kept;
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(" + quote(column.physical()) + ") FROM " + table.qualified())) {
            rs.next();
            kept = rs.getLong(1);
        }
        long t3 = System.nanoTime();
        Prepared done = join(prepared);
        List<Cleared> cleared = done.cleared();
        if (!raw.isEmpty()) {
            RecordEvents.copy(c, done.events());
        }
        RecordEvents.publish(c, tenant, table.id(), linkReconciled(table.id(), link, kept, cleared), e.getEventId());
        long t4 = System.nanoTime();
        LOG.info("reconciled link of {}/{}.{}: kept {}, cleared {} in {} ms (clear {} ms, convert + foreign key {} ms, "
                + "count {} ms, events {} ms)", tenant, table.id(), column.id(), kept, cleared.size(), (t4 - t0) / 1_000_000,
            (t1 - t0) / 1_000_000, (t2 - t1) / 1_000_000, (t3 - t2) / 1_000_000, (t4 - t3) / 1_000_000);
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
            clearing(table, column, "a." + col + " IS NOT NULL AND " + converted + " IS NULL"), e.getEventId());
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
            clearAndPublish(c, tenant, table, column, clearing(table, column, later), e.getEventId());
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

    public static String uniqueName(Catalog.Column column) {
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
        return clearing(table, column, condition, null);
    }

    /**
     * Like {@link #clearing(Catalog.Table, Catalog.Column, String)}; {@code alsoCte}, when not null,
     * is one more data-modifying CTE over x ({@code x.p} the record id, {@code x.native} the value's
     * PostgreSQL text) run by the same statement.
     */
    private static String clearing(Catalog.Table table, Catalog.Column column, String condition, String alsoCte) {
        String col = quote(column.physical());
        String pk = quote(table.primaryKey().physical());
        // One scan finds the rows; the update reaches them again by ctid (a TID scan, stable because
        // the caller holds a lock that keeps writers out), not by a second scan of the whole table.
        return "WITH x AS MATERIALIZED (SELECT a.ctid AS t, a." + pk + " AS p, "
            + Canonical.text(column.type(), "a." + col) + " AS former"
            + (alsoCte == null ? "" : ", a." + col + "::text AS native") + " FROM " + table.qualified() + " a WHERE " + condition
            + ")" + (alsoCte == null ? "" : ", " + alsoCte) + ", u AS (UPDATE " + table.qualified() + " a SET " + col + " = NULL, " + Rows.VERSION + " = a." + Rows.VERSION
            + " + 1 WHERE a.ctid = ANY (ARRAY(SELECT x.t FROM x)) RETURNING " + Rows.selectList(table, "a")
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
                                    String causationId) {
        List<Cleared> cleared = new ArrayList<>(raw.size());
        List<EventEnvelope.Builder> events = new ArrayList<>(raw.size());
        for (String[] texts : raw) {
            Rows.Row row = Rows.fromTexts(table, texts, 1);
            cleared.add(new Cleared(row.id(), Rows.value(column.type(), texts[0])));
            events.add(RecordEvents.upserted(table.id(), row));
        }
        RecordEvents.Encoded encoded = raw.isEmpty() ? null
            : RecordEvents.encode(table.tenantId(), table.id(), events, firstVersion, causationId);
        return new Prepared(cleared, encoded);
    }

    static List<Cleared> clearAndPublish(Connection c, String tenant, Catalog.Table table, Catalog.Column column,
                                                 String sql, String causationId) throws SQLException {
        List<String[]> raw = clear(c, table, sql);
        if (raw.isEmpty()) {
            return List.of();
        }
        Prepared prepared = prepare(table, column, raw, RecordEvents.reserve(c, tenant, table.id(), raw.size()), causationId);
        RecordEvents.copy(c, prepared.events());
        return prepared.cleared();
    }

    private static Prepared join(CompletableFuture<Prepared> prepared) {
        try {
            return prepared.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            throw e;
        }
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
