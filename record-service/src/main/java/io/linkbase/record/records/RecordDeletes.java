package io.linkbase.record.records;

import io.linkbase.kit.db.Db;
import io.linkbase.kit.events.Cause;
import io.linkbase.kit.grpc.ApiException;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.record.catalog.Catalog;
import io.linkbase.record.catalog.Rows;
import io.linkbase.record.publish.RecordEvents;
import jakarta.inject.Singleton;

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

import static io.linkbase.record.sql.PhysicalNames.quote;

/** A record's delete, with the on-delete action of every link that reaches it, in one transaction. */
@Singleton
class RecordDeletes {
    private final Db db;
    private final RowQuota quota;
    private final SqlErrors errors;

    RecordDeletes(Db db, RowQuota quota, SqlErrors errors) {
        this.db = db;
        this.quota = quota;
        this.errors = errors;
    }

    /**
     * Deletes a record and follows the on-delete action of every link that reaches it, set-based
     * per link: RESTRICT refuses, CASCADE deletes the referencing records (and what they reach in
     * turn), SET NULL clears the references. Every record touched is locked first and published.
     */
    void delete(String tenant, String tableId, long recordId) {
        errors.mapped(() -> db.inTransaction(c -> {
            Catalog.Table t = Records.table(c, tenant, tableId);
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
    private static Map<Long, Long> lock(Connection c, Catalog.Table t, String where, Records.Binder binder) throws SQLException {
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
}
