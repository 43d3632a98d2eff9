package io.linkbase.record.records;

import io.grpc.Status;
import io.linkbase.kit.db.Db;
import io.linkbase.kit.grpc.ApiException;
import io.linkbase.kit.events.Cause;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.internal.v1.ExportedPage;
import io.linkbase.proto.internal.v1.ExportedRecord;
import io.linkbase.proto.v1.LinkPreview;
import io.linkbase.proto.v1.LinkedValue;
import io.linkbase.proto.v1.Record;
import io.linkbase.proto.v1.RecordValues;
import io.linkbase.proto.v1.Value;
import io.linkbase.record.catalog.Catalog;
import io.linkbase.record.catalog.Rows;
import io.linkbase.record.sql.Canonical;
import io.linkbase.record.sql.PhysicalNames;
import io.linkbase.record.publish.RecordEvents;
import io.linkbase.record.reconcile.ColumnChanges;
import io.linkbase.record.reconcile.LinkUndo;
import jakarta.inject.Singleton;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Supplier;

import static io.linkbase.record.sql.PhysicalNames.quote;

/**
 * Records of a tenant's tables: each operation is one transaction that changes the real table
 * and appends its record events to the outbox. Tables are looked up in the tenant's catalog
 * first, so another tenant's ids are not found and no unknown id ever reaches SQL.
 */
@Singleton
public class Records {
    public static final int MAX_BATCH = 10_000;

    private final Db db;
    private final RowQuota quota;

    Records(Db db, RowQuota quota) {
        this.db = db;
        this.quota = quota;
    }

    public Record create(String tenant, String tableId, Map<String, Value> values) {
        return mapped(() -> db.inTransaction(c -> {
            Catalog.Table t = table(c, tenant, tableId);
            Map<Catalog.Column, String> vals = Values.check(t, values);
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
            return fetch(c, t, row.id());
        }), tenant, tableId);
    }

    /** Up to 10,000 records in one multi-row insert (one array per column), all or nothing. */
    public List<Long> createMany(String tenant, String tableId, List<RecordValues> records) {
        if (records.size() > MAX_BATCH) {
            throw new ApiException(Status.Code.INVALID_ARGUMENT, "payload_too_large",
                "at most " + MAX_BATCH + " records per batch", List.of());
        }
        if (records.isEmpty()) {
            return List.of();
        }
        return mapped(() -> db.inTransaction(c -> {
            Catalog.Table t = table(c, tenant, tableId);
            Map<Catalog.Column, String[]> columns = new LinkedHashMap<>();
            for (int r = 0; r < records.size(); r++) {
                Map<Catalog.Column, String> vals;
                try {
                    vals = Values.check(t, records.get(r).getValuesMap());
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

    public Record get(String tenant, String tableId, long recordId) {
        return mapped(() -> db.read(c -> fetch(c, table(c, tenant, tableId), recordId)), tenant, tableId);
    }

    /** Merges {@code values} into the record; its version grows by one. */
    public Record update(String tenant, String tableId, long recordId, Map<String, Value> values) {
        return mapped(() -> db.inTransaction(c -> {
            Catalog.Table t = table(c, tenant, tableId);
            Map<Catalog.Column, String> vals = Values.check(t, values);
            if (vals.isEmpty()) {
                return fetch(c, t, recordId);
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
            return fetch(c, t, recordId);
        }), tenant, tableId);
    }

    /**
     * Deletes a record and follows the on-delete action of every link that reaches it, set-based
     * per link: RESTRICT refuses, CASCADE deletes the referencing records (and what they reach in
     * turn), SET NULL clears the references. Every record touched is locked first and published.
     */
    public void delete(String tenant, String tableId, long recordId) {
        mapped(() -> db.inTransaction(c -> {
            Catalog.Table t = table(c, tenant, tableId);
            Map<String, Catalog.Table> tables = new HashMap<>();
            tables.put(t.id(), t);
            Map<String, Map<Long, Long>> doomed = new LinkedHashMap<>();
            Map<Long, Long> root = lock(c, t, "a." + quote(t.primaryKey().physical()) + " = ?", s -> setLong(s, 1, recordId));
            if (root.isEmpty()) {
                throw ApiException.notFound("record " + recordId);
            }
            doomed.put(t.id(), new LinkedHashMap<>(root));
            Deque<Map.Entry<String, Set<Long>>> frontier = new ArrayDeque<>();
            frontier.add(Map.entry(t.id(), root.keySet()));
            Set<Catalog.Link> setNull = new LinkedHashSet<>();
            while (!frontier.isEmpty()) {
                Map.Entry<String, Set<Long>> next = frontier.poll();
                Catalog.Table target = tables.get(next.getKey());
                Long[] ids = next.getValue().toArray(new Long[0]);
                // The delete's own lock before the links are read: a link whose foreign key is being
                // added (it locks this table) is then either seen and followed, or added after this
                // commits; never added in between, where PostgreSQL would null the references itself,
                // unversioned and unpublished.
                try (java.sql.Statement s = c.createStatement()) {
                    s.execute("LOCK TABLE " + target.qualified() + " IN ROW EXCLUSIVE MODE");
                }
                for (Catalog.Link link : Catalog.incoming(c, tenant, target.id())) {
                    Catalog.Table ref = tables.computeIfAbsent(link.tableId(), id -> load(c, tenant, id));
                    Map<Long, Long> found = lock(c, ref, referencing(ref, link, target), s -> s.setArray(1, c.createArrayOf("bigint", ids)));
                    Map<Long, Long> already = doomed.getOrDefault(ref.id(), Map.of());
                    switch (link.onDelete()) {
                        case RESTRICT -> {
                            for (Long id : found.keySet()) {
                                if (!already.containsKey(id)) {
                                    throw ApiException.conflict("restricted_by_link",
                                        "record " + id + " of table " + ref.id() + " links to it (on delete RESTRICT)");
                                }
                            }
                        }
                        case CASCADE -> {
                            Map<Long, Long> more = new LinkedHashMap<>(found);
                            more.keySet().removeAll(already.keySet());
                            if (!more.isEmpty()) {
                                doomed.computeIfAbsent(ref.id(), k -> new LinkedHashMap<>()).putAll(more);
                                frontier.add(Map.entry(ref.id(), more.keySet()));
                            }
                        }
                        default -> setNull.add(link);
                    }
                }
            }
            Map<String, List<EventEnvelope.Builder>> events = new LinkedHashMap<>();
            for (Catalog.Link link : setNull) {
                Catalog.Table ref = tables.get(link.tableId());
                Catalog.Table target = tables.get(link.targetTableId());
                Long[] targetIds = doomed.get(target.id()).keySet().toArray(new Long[0]);
                Long[] refIds = doomed.getOrDefault(ref.id(), Map.of()).keySet().toArray(new Long[0]);
                String col = quote(ref.column(link.columnId()).orElseThrow().physical());
                String sql = "UPDATE " + ref.qualified() + " a SET " + col + " = NULL, " + Rows.VERSION + " = a."
                    + Rows.VERSION + " + 1 WHERE " + referencing(ref, link, target) + " AND NOT (a."
                    + quote(ref.primaryKey().physical()) + " = ANY (?)) RETURNING " + Rows.selectList(ref, "a");
                try (PreparedStatement s = c.prepareStatement(sql)) {
                    s.setArray(1, c.createArrayOf("bigint", targetIds));
                    s.setArray(2, c.createArrayOf("bigint", refIds));
                    try (ResultSet rs = s.executeQuery()) {
                        while (rs.next()) {
                            events.computeIfAbsent(ref.id(), k -> new ArrayList<>())
                                .add(RecordEvents.upserted(ref.id(), Rows.read(rs, ref, 1)));
                        }
                    }
                }
            }
            for (Map.Entry<String, Map<Long, Long>> gone : doomed.entrySet()) {
                Catalog.Table victim = tables.get(gone.getKey());
                try (PreparedStatement s = c.prepareStatement("DELETE FROM " + victim.qualified() + " WHERE "
                    + quote(victim.primaryKey().physical()) + " = ANY (?)")) {
                    s.setArray(1, c.createArrayOf("bigint", gone.getValue().keySet().toArray(new Long[0])));
                    quota.add(c, tenant, victim.id(), -s.executeUpdate());
                }
                for (Map.Entry<Long, Long> r : gone.getValue().entrySet()) {
                    events.computeIfAbsent(victim.id(), k -> new ArrayList<>())
                        .add(RecordEvents.deleted(victim.id(), r.getKey(), r.getValue() + 1));
                }
            }
            for (Map.Entry<String, List<EventEnvelope.Builder>> e : events.entrySet()) {
                RecordEvents.publish(c, tenant, e.getKey(), e.getValue(), Cause.ofRequest());
            }
            return null;
        }), tenant, tableId);
    }

    /** Keyset pagination by id. */
    public Page list(String tenant, String tableId, int limit, Long after) {
        int size = limit == 0 ? 100 : limit;
        if (size < 1 || size > 1000) {
            throw ApiException.invalid("limit", "must be between 1 and 1000");
        }
        return mapped(() -> db.read(c -> {
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

    public record Page(List<Record> records, Long next) {
    }

    public LinkPreview preview(String tenant, String tableId, String columnId, String targetTableId, String targetColumnId) {
        return mapped(() -> db.read(c -> {
            Catalog.Table t = table(c, tenant, tableId);
            Catalog.Column column = t.column(columnId).orElseThrow(() -> ApiException.notFound("column " + columnId));
            Catalog.Table target = Catalog.table(c, tenant, targetTableId)
                .orElseThrow(() -> ApiException.notFound("target table " + targetTableId));
            Catalog.Column targetColumn = targetColumnId == null || targetColumnId.isEmpty() ? target.primaryKey()
                : target.column(targetColumnId).orElseThrow(() -> ApiException.notFound("target column " + targetColumnId));
            if (!targetColumn.primaryKey() && !targetColumn.unique()) {
                throw new ApiException(Status.Code.INVALID_ARGUMENT, "link_target_not_unique",
                    "the target column must be the primary key or a unique column", List.of());
            }
            if (column.primaryKey()) {
                throw ApiException.invalid("columnId", "the primary key cannot be linked");
            }
            return ColumnChanges.preview(c, t, column, target, targetColumn);
        }), tenant, tableId);
    }

    /** Whether the column's link can be undone faithfully (409 {@code conflict} saying why when not). */
    public void checkLinkUndo(String tenant, String tableId, String columnId) {
        mapped(() -> db.read(c -> {
            LinkUndo.check(c, table(c, tenant, tableId), columnId);
            return null;
        }), tenant, tableId);
    }

    /** Records per exported page, and a page's size at most (well under gRPC's message limits). */
    static final int EXPORT_PAGE_RECORDS = 1_000;
    static final int EXPORT_PAGE_BYTES = 1024 * 1024;

    /**
     * Streams every record of the table from one REPEATABLE READ snapshot with a server-side
     * cursor, in pages, each record with the version its latest event carries; the first page
     * carries how many records the snapshot holds.
     */
    public long export(String tenant, String tableId, Consumer<ExportedPage> sink) {
        return mapped(() -> db.read(c -> {
            try (PreparedStatement iso = c.prepareStatement("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")) {
                iso.execute();
            }
            Catalog.Table t = table(c, tenant, tableId);
            long total;
            try (PreparedStatement s = c.prepareStatement("SELECT count(*) FROM " + t.qualified());
                 ResultSet rs = s.executeQuery()) {
                rs.next();
                total = rs.getLong(1); // same snapshot: exactly how many records follow
            }
            long n = 0;
            ExportedPage.Builder page = ExportedPage.newBuilder().setTotal(total);
            int bytes = 0;
            try (PreparedStatement s = c.prepareStatement("SELECT " + Rows.selectList(t, "a") + " FROM " + t.qualified()
                + " a ORDER BY a." + quote(t.primaryKey().physical()))) {
                s.setFetchSize(EXPORT_PAGE_RECORDS);
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        Rows.Row row = Rows.read(rs, t, 1);
                        ExportedRecord r = ExportedRecord.newBuilder().setRecordId(row.id())
                            .setRecordVersion(row.version()).putAllValues(row.values()).build();
                        page.addRecords(r);
                        bytes += r.getSerializedSize();
                        n++;
                        if (page.getRecordsCount() == EXPORT_PAGE_RECORDS || bytes >= EXPORT_PAGE_BYTES) {
                            sink.accept(page.build());
                            page = ExportedPage.newBuilder();
                            bytes = 0;
                        }
                    }
                }
            }
            if (page.getRecordsCount() > 0 || n == 0) {
                sink.accept(page.build());
            }
            return n;
        }), tenant, tableId);
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
    private interface Binder {
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

    // ---- helpers

    private static Catalog.Table table(Connection c, String tenant, String tableId) throws SQLException {
        return Catalog.table(c, tenant, tableId).orElseThrow(() -> ApiException.notFound("table " + tableId));
    }

    private static Catalog.Table load(Connection c, String tenant, String tableId) {
        try {
            return Catalog.require(c, tenant, tableId);
        } catch (SQLException e) {
            throw new Db.DataAccessFailure(e);
        }
    }

    /** Rows of {@code ref} (alias a) whose linked column references a target row whose id is in array parameter 1. */
    private static String referencing(Catalog.Table ref, Catalog.Link link, Catalog.Table target) {
        String col = quote(ref.column(link.columnId()).orElseThrow().physical());
        String targetCol = quote(target.column(link.targetColumnId()).orElseThrow().physical());
        return "a." + col + " IN (SELECT m." + targetCol + " FROM " + target.qualified() + " m WHERE m."
            + quote(target.primaryKey().physical()) + " = ANY (?))";
    }

    /** Locks the rows of {@code t} (alias a) matching {@code where}; returns id -> record version. */
    private static Map<Long, Long> lock(Connection c, Catalog.Table t, String where, Binder binder) throws SQLException {
        Map<Long, Long> rows = new LinkedHashMap<>();
        String pk = "a." + quote(t.primaryKey().physical());
        try (PreparedStatement s = c.prepareStatement("SELECT " + pk + ", a." + Rows.VERSION + " FROM " + t.qualified()
            + " a WHERE " + where + " ORDER BY " + pk + " FOR UPDATE")) {
            binder.bind(s);
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    rows.put(rs.getLong(1), rs.getLong(2));
                }
            }
        }
        return rows;
    }

    private static void setLong(PreparedStatement s, int i, long v) throws SQLException {
        s.setLong(i, v);
    }

    /** Runs a call and turns the database's verdicts on bad input into API errors. */
    private <T> T mapped(Supplier<T> call, String tenant, String tableId) {
        for (int attempt = 1; ; attempt++) {
            try {
                return call.get();
            } catch (Db.DataAccessFailure e) {
                // The column's type changed between reading the catalog and writing (a link or a
                // retype committed while this call waited for its lock): read the catalog again.
                String state = e.sqlState() == null ? "" : e.sqlState();
                if (attempt < 3 && (state.equals("42804") || state.equals("0A000"))) {
                    continue;
                }
                throw translate(e.sqlException(), tenant, tableId);
            }
        }
    }

    private RuntimeException translate(SQLException e, String tenant, String tableId) {
        String state = e.getSQLState() == null ? "" : e.getSQLState();
        ServerErrorMessage server = e instanceof PSQLException p ? p.getServerErrorMessage() : null;
        String detail = server == null || server.getDetail() == null ? "" : server.getDetail();
        String constraint = server == null || server.getConstraint() == null ? "" : server.getConstraint();
        if (state.equals("23001") || (state.equals("23503") && detail.contains("still referenced"))) {
            return ApiException.conflict("restricted_by_link", "the record is referenced by a link (on delete RESTRICT)");
        }
        if (state.equals("23503")) {
            return ApiException.invalid(field(tenant, tableId, constraint), "no record of the linked table has this value");
        }
        if (state.equals("23505")) {
            return new ApiException(Status.Code.ALREADY_EXISTS, "conflict", "the value must be unique",
                List.of(io.linkbase.proto.internal.v1.FieldViolation.newBuilder()
                    .setField(field(tenant, tableId, constraint)).setMessage("must be unique").build()));
        }
        if (state.equals("54000")) {
            // program_limit_exceeded: e.g. "row is too big" when a record's many non-empty columns
            // do not fit PostgreSQL's 8 KB row even after TOAST (docs/limits.md)
            return new ApiException(Status.Code.INVALID_ARGUMENT, "limit_exceeded",
                "the record is too large to store: " + (server == null ? e.getMessage() : server.getMessage()), List.of());
        }
        if (state.startsWith("22")) {
            return ApiException.invalid("values", "not a valid value: " + e.getMessage());
        }
        if (state.equals("40P01") || state.equals("40001")) {
            return new ApiException(Status.Code.ABORTED, "conflict", "a concurrent change got in the way; retry", List.of());
        }
        return new Db.DataAccessFailure(e);
    }

    /** values.&lt;column id&gt; for a constraint named fk_/u_&lt;column hex&gt;. */
    private String field(String tenant, String tableId, String constraint) {
        int underscore = constraint.indexOf('_');
        if (underscore < 0) {
            return "values";
        }
        String physical = "c_" + constraint.substring(underscore + 1);
        try {
            return db.read(c -> Catalog.table(c, tenant, tableId)).flatMap(t -> t.columns().values().stream()
                .filter(col -> col.physical().equals(physical)).findFirst())
                .map(col -> "values." + col.id()).orElse("values");
        } catch (RuntimeException ignored) {
            return "values";
        }
    }
}
