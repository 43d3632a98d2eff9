package io.linkbase.record.records;

import io.grpc.Status;
import io.linkbase.kit.db.Db;
import io.linkbase.kit.grpc.ApiException;
import io.linkbase.kit.events.Cause;
import io.linkbase.proto.v1.LinkedValue;
import io.linkbase.proto.v1.Record;
import io.linkbase.proto.v1.RecordValues;
import io.linkbase.proto.v1.Value;
import io.linkbase.record.catalog.Catalog;
import io.linkbase.record.catalog.Rows;
import io.linkbase.record.publish.RecordEvents;
import io.linkbase.record.sql.Canonical;
import io.linkbase.record.sql.PhysicalNames;
import jakarta.inject.Singleton;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static io.linkbase.record.sql.PhysicalNames.quote;

/**
 * Records of a tenant's tables, created, read, updated and listed: each write is one transaction
 * that changes the real table and appends its record events to the outbox. Tables are looked up
 * in the tenant's catalog first, so another tenant's ids are not found and no unknown id ever
 * reaches SQL. Deletes are {@link RecordDeletes}, the link checks {@link LinkChecks}, the export
 * {@link RecordExport}; every call's database errors are translated by {@link SqlErrors}.
 */
@Singleton
class Records {
    static final int MAX_BATCH = 10_000;

    private final Db db;
    private final RowQuota quota;
    private final SqlErrors errors;

    Records(Db db, RowQuota quota, SqlErrors errors) {
        this.db = db;
        this.quota = quota;
        this.errors = errors;
    }

    Record create(String tenant, String tableId, Map<String, Value> values) {
        return errors.mapped(() -> db.inTransaction(c -> {
            Catalog.Table t = table(c, tenant, tableId);
            PendingLink pending = PendingLink.of(c, t).orElse(null);
            Map<Catalog.Column, String> vals = pending == null ? IncomingValues.check(t, values) : pending.check(values);
            StringBuilder sql = new StringBuilder("INSERT INTO ").append(t.qualified());
            if (vals.isEmpty()) {
                sql.append(" DEFAULT VALUES");
            } else {
                StringBuilder names = new StringBuilder();
                StringBuilder params = new StringBuilder();
                for (Catalog.Column col : vals.keySet()) {
                    names.append(names.isEmpty() ? "" : ", ").append(quote(col.physical()));
                    params.append(params.isEmpty() ? "" : ", ").append("?::").append(PhysicalNames.sqlType(col.type()));
                }
                sql.append(" (").append(names).append(") VALUES (").append(params).append(')');
            }
            sql.append(" RETURNING ").append(Rows.selectList(t, null));
            Rows.Row row;
            try (PreparedStatement s = c.prepareStatement(sql.toString())) {
                int i = 1;
                for (String v : vals.values()) {
                    s.setString(i++, v);
                }
                try (ResultSet rs = s.executeQuery()) {
                    rs.next();
                    row = Rows.read(rs, t, 1);
                }
            }
            quota.add(c, tenant, t.id(), 1);
            RecordEvents.publishUpserts(c, tenant, t.id(), List.of(row), Cause.ofRequest());
            return answer(c, t, row.id(), pending, values);
        }), tenant, tableId);
    }

    /** Up to 10,000 records in one multi-row insert (one array per column), all or nothing. */
    List<Long> createMany(String tenant, String tableId, List<RecordValues> records) {
        if (records.size() > MAX_BATCH) {
            throw new ApiException(Status.Code.INVALID_ARGUMENT, "payload_too_large",
                "at most " + MAX_BATCH + " records per batch", List.of());
        }
        if (records.isEmpty()) {
            return List.of();
        }
        return errors.mapped(() -> db.inTransaction(c -> {
            Catalog.Table t = table(c, tenant, tableId);
            Map<Catalog.Column, String[]> columns = new LinkedHashMap<>();
            for (int r = 0; r < records.size(); r++) {
                Map<Catalog.Column, String> vals;
                try {
                    vals = IncomingValues.check(t, records.get(r).getValuesMap());
                } catch (ApiException e) {
                    String field = e.info().getErrors(0).getField();
                    throw ApiException.invalid("records[" + r + "]." + field, e.info().getErrors(0).getMessage());
                }
                for (Map.Entry<Catalog.Column, String> v : vals.entrySet()) {
                    columns.computeIfAbsent(v.getKey(), k -> new String[records.size()])[r] = v.getValue();
                }
            }
            StringBuilder sql = new StringBuilder("INSERT INTO ").append(t.qualified());
            if (columns.isEmpty()) {
                sql.append(" (").append(Rows.VERSION).append(") SELECT 1 FROM generate_series(1, ?)");
            } else {
                StringBuilder names = new StringBuilder();
                StringBuilder casts = new StringBuilder();
                StringBuilder arrays = new StringBuilder();
                int i = 0;
                for (Catalog.Column col : columns.keySet()) {
                    String sep = i == 0 ? "" : ", ";
                    names.append(sep).append(quote(col.physical()));
                    casts.append(sep).append("x.v").append(i).append("::").append(PhysicalNames.sqlType(col.type()));
                    arrays.append(sep).append("?::text[]");
                    i++;
                }
                StringBuilder aliases = new StringBuilder();
                for (int k = 0; k < columns.size(); k++) {
                    aliases.append('v').append(k).append(", ");
                }
                sql.append(" (").append(names).append(") SELECT ").append(casts).append(" FROM unnest(").append(arrays)
                    .append(") WITH ORDINALITY AS x(").append(aliases).append("n) ORDER BY x.n");
            }
            sql.append(" RETURNING ").append(Rows.selectList(t, null));
            List<Rows.Row> rows = new ArrayList<>(records.size());
            try (PreparedStatement s = c.prepareStatement(sql.toString())) {
                if (columns.isEmpty()) {
                    s.setInt(1, records.size());
                } else {
                    int i = 1;
                    for (String[] values : columns.values()) {
                        s.setArray(i++, c.createArrayOf("text", values));
                    }
                }
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        rows.add(Rows.read(rs, t, 1));
                    }
                }
            }
            // Identities are drawn in insertion order, which is the request's order.
            rows.sort((a, b) -> Long.compare(a.id(), b.id()));
            List<Long> ids = new ArrayList<>(rows.size());
            for (Rows.Row row : rows) {
                ids.add(row.id());
            }
            quota.add(c, tenant, t.id(), rows.size());
            RecordEvents.publishUpserts(c, tenant, t.id(), rows, Cause.ofRequest());
            return ids;
        }), tenant, tableId);
    }

    Record get(String tenant, String tableId, long recordId) {
        return errors.mapped(() -> db.read(c -> fetch(c, table(c, tenant, tableId), recordId)), tenant, tableId);
    }

    /** Merges {@code values} into the record; its version grows by one. */
    Record update(String tenant, String tableId, long recordId, Map<String, Value> values) {
        return errors.mapped(() -> db.inTransaction(c -> {
            Catalog.Table t = table(c, tenant, tableId);
            PendingLink pending = PendingLink.of(c, t).orElse(null);
            Map<Catalog.Column, String> vals = pending == null ? IncomingValues.check(t, values) : pending.check(values);
            if (vals.isEmpty()) {
                return answer(c, t, recordId, pending, values);
            }
            StringBuilder sql = new StringBuilder("UPDATE ").append(t.qualified()).append(" SET ");
            for (Catalog.Column col : vals.keySet()) {
                sql.append(quote(col.physical())).append(" = ?::").append(PhysicalNames.sqlType(col.type())).append(", ");
            }
            sql.append(Rows.VERSION).append(" = ").append(Rows.VERSION).append(" + 1 WHERE ")
                .append(quote(t.primaryKey().physical())).append(" = ? RETURNING ").append(Rows.selectList(t, null));
            Rows.Row row;
            try (PreparedStatement s = c.prepareStatement(sql.toString())) {
                int i = 1;
                for (String v : vals.values()) {
                    s.setString(i++, v);
                }
                s.setLong(i, recordId);
                try (ResultSet rs = s.executeQuery()) {
                    if (!rs.next()) {
                        throw ApiException.notFound("record " + recordId);
                    }
                    row = Rows.read(rs, t, 1);
                }
            }
            RecordEvents.publishUpserts(c, tenant, t.id(), List.of(row), Cause.ofRequest());
            return answer(c, t, recordId, pending, values);
        }), tenant, tableId);
    }

    /** The written record as the caller's table version has it (see {@link PendingLink}). */
    private Record answer(Connection c, Catalog.Table t, long recordId, PendingLink pending, Map<String, Value> values)
        throws SQLException {
        Record record = fetch(c, t, recordId);
        return pending == null ? record : pending.asLinked(c, record, values.containsKey(pending.columnId()));
    }

    /** Keyset pagination by id. */
    Page list(String tenant, String tableId, int limit, Long after) {
        int size = limit == 0 ? 100 : limit;
        if (size < 1 || size > 1000) {
            throw ApiException.invalid("limit", "must be between 1 and 1000");
        }
        return errors.mapped(() -> db.read(c -> {
            Catalog.Table t = table(c, tenant, tableId);
            String pk = "a." + quote(t.primaryKey().physical());
            List<Record> records = select(c, t, (after == null ? "true" : pk + " > ?") + " ORDER BY " + pk + " LIMIT ?", s -> {
                int i = 1;
                if (after != null) {
                    s.setLong(i++, after);
                }
                s.setInt(i, size + 1);
            });
            Long next = null;
            if (records.size() > size) {
                records = records.subList(0, size);
                next = records.get(size - 1).getId();
            }
            return new Page(List.copyOf(records), next);
        }), tenant, tableId);
    }

    record Page(List<Record> records, Long next) {
    }

    // ---- reading with link summaries

    private Record fetch(Connection c, Catalog.Table t, long recordId) throws SQLException {
        List<Record> found = select(c, t, "a." + quote(t.primaryKey().physical()) + " = ?", s -> s.setLong(1, recordId));
        if (found.isEmpty()) {
            throw ApiException.notFound("record " + recordId);
        }
        return found.get(0);
    }

    @FunctionalInterface
    interface Binder {
        void bind(PreparedStatement s) throws SQLException;
    }

    /** Records with, for each linked column, the target record's id and display value (one LEFT JOIN per link). */
    private List<Record> select(Connection c, Catalog.Table t, String whereAndOrder, Binder binder) throws SQLException {
        StringBuilder sql = new StringBuilder("SELECT ").append(Rows.selectList(t, "a"));
        StringBuilder joins = new StringBuilder();
        List<String> linked = new ArrayList<>();
        int n = 0;
        for (Catalog.Link link : t.links().values()) {
            Catalog.Column col = t.column(link.columnId()).orElse(null);
            Catalog.Table target = link.targetTableId().equals(t.id()) ? t : Catalog.table(c, t.tenantId(), link.targetTableId()).orElse(null);
            if (col == null || target == null) {
                continue;
            }
            Catalog.Column targetCol = target.column(link.targetColumnId()).orElse(null);
            Catalog.Column display = target.column(target.displayColumnId() == null ? "" : target.displayColumnId())
                .orElse(target.primaryKey());
            if (targetCol == null) {
                continue;
            }
            String alias = "l" + n++;
            sql.append(", ").append(alias).append('.').append(quote(target.primaryKey().physical())).append(", ")
                .append(Canonical.text(display.type(), alias + "." + quote(display.physical())));
            joins.append(" LEFT JOIN ").append(target.qualified()).append(' ').append(alias).append(" ON ").append(alias)
                .append('.').append(quote(targetCol.physical())).append(" = a.").append(quote(col.physical()));
            linked.add(link.columnId());
        }
        sql.append(" FROM ").append(t.qualified()).append(" a").append(joins).append(" WHERE ").append(whereAndOrder);
        List<Record> records = new ArrayList<>();
        try (PreparedStatement s = c.prepareStatement(sql.toString())) {
            binder.bind(s);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    Rows.Row row = Rows.read(rs, t, 1);
                    Record.Builder r = Record.newBuilder().setId(row.id()).setVersion(row.version()).putAllValues(row.values());
                    int i = 1 + Rows.width(t);
                    for (String columnId : linked) {
                        long targetId = rs.getLong(i);
                        if (!rs.wasNull()) {
                            String summary = rs.getString(i + 1);
                            r.putLinks(columnId, LinkedValue.newBuilder().setRecordId(targetId)
                                .setSummary(summary == null ? "" : summary).build());
                        }
                        i += 2;
                    }
                    records.add(r.build());
                }
            }
        }
        return records;
    }

    /** The tenant's table, or 404: another tenant's ids are simply not there. */
    static Catalog.Table table(Connection c, String tenant, String tableId) throws SQLException {
        return Catalog.table(c, tenant, tableId).orElseThrow(() -> ApiException.notFound("table " + tableId));
    }
}
