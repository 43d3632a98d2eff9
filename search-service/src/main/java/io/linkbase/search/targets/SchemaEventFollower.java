package io.linkbase.search.targets;

import io.linkbase.kit.consumer.EventConsumer;
import io.linkbase.kit.consumer.Follower;
import io.linkbase.kit.db.Db;
import io.linkbase.kit.events.Topics;
import io.linkbase.kit.kafka.KafkaSettings;
import io.linkbase.proto.events.v1.ColumnDef;
import io.linkbase.proto.events.v1.ColumnLinkUndone;
import io.linkbase.proto.events.v1.ColumnLinked;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.events.v1.TableCreated;
import io.linkbase.search.index.IndexMigrations;
import io.linkbase.search.index.IndexWrites;
import io.micronaut.context.annotation.Requires;
import jakarta.inject.Singleton;

import java.util.List;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Follows the schema (consumer {@value #CONSUMER}, exactly once per table version) to know,
 * per tenant, the tables, their display and primary key columns and the Links. A table is a
 * target (indexed) while at least one Link points at it: the first Link asks the backfiller for
 * a full export; a change that alters every document of a target (display column, a column's
 * type, a dropped column) asks for a re-export; when the last Link goes, the target's
 * documents are deleted in the same step that forgets it.
 */
@Singleton
@Requires(property = "linkbase.consumers.enabled", notEquals = "false")
class SchemaEventFollower implements Follower {
    public static final String CONSUMER = "search-service.schema";

    private final EventConsumer consumer;
    private final IndexWrites writes;
    private final SchemaView catalog;
    private final Backfiller backfiller;

    public SchemaEventFollower(KafkaSettings kafka, Db db, IndexMigrations migrations, IndexWrites writes, SchemaView catalog,
                               Backfiller backfiller) {
        this.writes = writes;
        this.catalog = catalog;
        this.backfiller = backfiller;
        // the index is made by the consumer's supervised loop, not at startup: OpenSearch down
        // when the service starts is retried with the loop's backoff (health DOWN meanwhile)
        this.consumer = EventConsumer.builder(CONSUMER, kafka, db)
            .topics(Topics.SCHEMA)
            .ordered(this::apply)
            .prepare(migrations::ensure)
            .build();
    }

    public EventConsumer consumer() {
        return consumer;
    }

    boolean apply(Connection c, EventEnvelope e) throws SQLException {
        String tenant = e.getTenantId();
        String table = e.getAggregateId();
        try {
            return applyTo(c, e, tenant, table);
        } finally {
            catalog.forget();
        }
    }

    private boolean applyTo(Connection c, EventEnvelope e, String tenant, String table) throws SQLException {
        switch (e.getPayloadCase()) {
            case TENANT_PROVISIONED, COLUMN_RENAMED -> {
                return true; // names are metadata only; documents hold ids
            }
            case TABLE_CREATED -> {
                TableCreated t = e.getTableCreated();
                update(c, "INSERT INTO known_tables (tenant_id, table_id, name, display_column_id, version, primary_key_column_id) "
                        + "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, table_id) DO UPDATE SET name = EXCLUDED.name, "
                        + "display_column_id = EXCLUDED.display_column_id, version = EXCLUDED.version, "
                        + "primary_key_column_id = EXCLUDED.primary_key_column_id",
                    tenant, table, t.getName(), t.getDisplayColumnId(), e.getAggregateVersion(), t.getPrimaryKeyColumnId());
                for (ColumnDef col : t.getColumnsList()) {
                    addColumn(c, tenant, table, col);
                }
                return true;
            }
            case TABLE_RENAMED -> {
                update(c, "UPDATE known_tables SET name = ?, version = ? WHERE tenant_id = ? AND table_id = ?",
                    e.getTableRenamed().getName(), e.getAggregateVersion(), tenant, table);
                return true;
            }
            case TABLE_DELETED -> {
                Set<String> affected = new LinkedHashSet<>();
                try (PreparedStatement s = c.prepareStatement(
                    "DELETE FROM links WHERE tenant_id = ? AND (table_id = ? OR target_table_id = ?) RETURNING target_table_id")) {
                    s.setString(1, tenant);
                    s.setString(2, table);
                    s.setString(3, table);
                    try (ResultSet rs = s.executeQuery()) {
                        while (rs.next()) {
                            affected.add(rs.getString(1));
                        }
                    }
                }
                affected.add(table);
                for (String target : affected) {
                    dropTargetIfUnlinked(c, tenant, target);
                }
                update(c, "DELETE FROM known_columns WHERE tenant_id = ? AND table_id = ?", tenant, table);
                update(c, "DELETE FROM known_tables WHERE tenant_id = ? AND table_id = ?", tenant, table);
                return true;
            }
            case COLUMN_ADDED -> {
                addColumn(c, tenant, table, e.getColumnAdded().getColumn());
                return true;
            }
            case COLUMN_TYPE_CHANGED -> {
                update(c, "UPDATE known_columns SET type = ? WHERE tenant_id = ? AND table_id = ? AND column_id = ?",
                    e.getColumnTypeChanged().getToType().name(), tenant, table, e.getColumnTypeChanged().getColumnId());
                reexportIfTarget(c, tenant, table);
                return true;
            }
            case COLUMN_UNIQUE_CHANGED -> {
                update(c, "UPDATE known_columns SET is_unique = ? WHERE tenant_id = ? AND table_id = ? AND column_id = ?",
                    e.getColumnUniqueChanged().getUnique(), tenant, table, e.getColumnUniqueChanged().getColumnId());
                return true;
            }
            case COLUMN_DROPPED -> {
                String column = e.getColumnDropped().getColumnId();
                update(c, "DELETE FROM known_columns WHERE tenant_id = ? AND table_id = ? AND column_id = ?",
                    tenant, table, column);
                unlink(c, tenant, table, column);
                reexportIfTarget(c, tenant, table);
                return true;
            }
            case COLUMN_LINKED -> {
                ColumnLinked l = e.getColumnLinked();
                unlink(c, tenant, table, l.getColumnId()); // a re-link replaces the old one
                update(c, "INSERT INTO links (tenant_id, table_id, column_id, target_table_id, target_column_id, link_version) "
                        + "VALUES (?, ?, ?, ?, ?, ?)",
                    tenant, table, l.getColumnId(), l.getTargetTableId(), l.getTargetColumnId(), e.getAggregateVersion());
                update(c, "INSERT INTO owed_reports (tenant_id, table_id, column_id, target_table_id, link_version, "
                        + "correlation_id, causation_id) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                    tenant, table, l.getColumnId(), l.getTargetTableId(), e.getAggregateVersion(), e.getCorrelationId(),
                    e.getEventId());
                update(c, "INSERT INTO targets (tenant_id, table_id, state) VALUES (?, ?, 'BACKFILLING') "
                    + "ON CONFLICT DO NOTHING", tenant, l.getTargetTableId());
                try (PreparedStatement s = c.prepareStatement(
                    "SELECT indexed_count FROM targets WHERE tenant_id = ? AND table_id = ? AND state = 'INDEXED'")) {
                    s.setString(1, tenant);
                    s.setString(2, l.getTargetTableId());
                    try (ResultSet rs = s.executeQuery()) {
                        if (rs.next()) { // already indexed for another link: report at once
                            LinkReports.emitOwed(c, tenant, l.getTargetTableId(), rs.getLong(1));
                        } else {
                            backfiller.wakeUp();
                        }
                    }
                }
                return true;
            }
            case COLUMN_UNLINKED -> {
                unlink(c, tenant, table, e.getColumnUnlinked().getColumnId());
                return true;
            }
            case COLUMN_LINK_UNDONE -> {
                // An unlink that also gives the column its former type back.
                ColumnLinkUndone u = e.getColumnLinkUndone();
                update(c, "UPDATE known_columns SET type = ? WHERE tenant_id = ? AND table_id = ? AND column_id = ?",
                    u.getRestoredType().name(), tenant, table, u.getColumnId());
                unlink(c, tenant, table, u.getColumnId());
                reexportIfTarget(c, tenant, table);
                return true;
            }
            case DISPLAY_COLUMN_CHANGED -> {
                update(c, "UPDATE known_tables SET display_column_id = ?, version = ? WHERE tenant_id = ? AND table_id = ?",
                    e.getDisplayColumnChanged().getDisplayColumnId(), e.getAggregateVersion(), tenant, table);
                reexportIfTarget(c, tenant, table);
                return true;
            }
            default -> {
                return false; // parked, visibly
            }
        }
    }

    private static void addColumn(Connection c, String tenant, String table, ColumnDef col) throws SQLException {
        update(c, "INSERT INTO known_columns (tenant_id, table_id, column_id, type, primary_key, is_unique) "
                + "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, table_id, column_id) DO UPDATE SET type = EXCLUDED.type, "
                + "primary_key = EXCLUDED.primary_key, is_unique = EXCLUDED.is_unique",
            tenant, table, col.getColumnId(), col.getType().name(), col.getPrimaryKey(), col.getUnique());
    }

    /** Removes the column's Link (if any); its target stops being indexed when no Link is left. */
    private void unlink(Connection c, String tenant, String table, String column) throws SQLException {
        String target = null;
        try (PreparedStatement s = c.prepareStatement(
            "DELETE FROM links WHERE tenant_id = ? AND table_id = ? AND column_id = ? RETURNING target_table_id")) {
            s.setString(1, tenant);
            s.setString(2, table);
            s.setString(3, column);
            try (ResultSet rs = s.executeQuery()) {
                if (rs.next()) {
                    target = rs.getString(1);
                }
            }
        }
        update(c, "DELETE FROM owed_reports WHERE tenant_id = ? AND table_id = ? AND column_id = ?", tenant, table, column);
        if (target != null) {
            dropTargetIfUnlinked(c, tenant, target);
        }
    }

    private void dropTargetIfUnlinked(Connection c, String tenant, String target) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
            "SELECT 1 FROM links WHERE tenant_id = ? AND target_table_id = ? LIMIT 1")) {
            s.setString(1, tenant);
            s.setString(2, target);
            try (ResultSet rs = s.executeQuery()) {
                if (rs.next()) {
                    return;
                }
            }
        }
        int dropped = update(c, "DELETE FROM targets WHERE tenant_id = ? AND table_id = ?", tenant, target);
        update(c, "DELETE FROM owed_reports WHERE tenant_id = ? AND target_table_id = ?", tenant, target);
        if (dropped > 0) {
            // Before the commit: if OpenSearch fails, the event is retried, never half-applied.
            writes.deleteTable(tenant, target);
        }
    }

    private void reexportIfTarget(Connection c, String tenant, String table) throws SQLException {
        if (update(c, "UPDATE targets SET state = 'BACKFILLING', generation = generation + 1 "
            + "WHERE tenant_id = ? AND table_id = ?", tenant, table) > 0) {
            backfiller.wakeUp();
        }
    }

    private static int update(Connection c, String sql, Object... params) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(sql)) {
            for (int i = 0; i < params.length; i++) {
                s.setObject(i + 1, params[i]);
            }
            return s.executeUpdate();
        }
    }

    @Override
    public List<EventConsumer> consumers() {
        return List.of(consumer);
    }
}
