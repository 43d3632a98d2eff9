package io.linkbase.record.ddl;

import io.linkbase.kit.consumer.EventConsumer;
import io.linkbase.kit.consumer.Follower;
import io.micrometer.core.instrument.Timer;
import io.linkbase.kit.db.Db;
import io.linkbase.kit.events.Topics;
import io.linkbase.kit.kafka.KafkaSettings;
import io.linkbase.proto.events.v1.ColumnDef;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.events.v1.TableCreated;
import io.linkbase.record.sql.PhysicalNames;
import io.linkbase.record.publish.RecordEvents;
import io.linkbase.record.reconcile.ColumnChanges;
import io.linkbase.record.reconcile.LinkUndo;
import io.micronaut.context.annotation.Requires;
import io.micronaut.context.annotation.Value;
import jakarta.inject.Singleton;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

import static io.linkbase.record.sql.PhysicalNames.quote;

/**
 * Applies schema events as DDL, in order per table and exactly once: the DDL, the catalog and
 * the applied version commit in one transaction (PostgreSQL DDL is transactional).
 */
@Singleton
@Requires(property = "linkbase.consumers.enabled", notEquals = "false")
public class SchemaEventApplier implements Follower {
    public static final String CONSUMER = "record-service.schema";

    private final EventConsumer consumer;

    SchemaEventApplier(KafkaSettings kafka, Db db,
                              @Value("${linkbase.reconcile.step-rows:" + ColumnChanges.STEP_ROWS + "}") int stepRows) {
        Timer reconcile = Timer.builder("linkbase.reconcile.duration")
            .description("applying a ColumnLinked: matching, clearing, converting, the foreign key")
            .publishPercentiles(0.5, 0.99).register(kafka.meters());
        this.consumer = new EventConsumer(CONSUMER, List.of(Topics.SCHEMA), kafka, db, (c, e) -> {
            if (e.getPayloadCase() != EventEnvelope.PayloadCase.COLUMN_LINKED) {
                return apply(db, c, e);
            }
            Timer.Sample sample = Timer.start();
            try {
                ColumnChanges.link(db, c, e, stepRows);
                return true;
            } finally {
                sample.stop(reconcile);
            }
        });
    }

    public EventConsumer consumer() {
        return consumer;
    }

    /**
     * The handler: one schema event as DDL and catalog changes, in the consumer's transaction
     * (a ColumnLinked also commits steps of its own through {@code db} before it, see
     * {@link ColumnChanges#link}).
     */
    public static boolean apply(Db db, Connection c, EventEnvelope e) throws SQLException {
        switch (e.getPayloadCase()) {
            case TENANT_PROVISIONED -> {
                createSchema(c, e.getTenantId());
                return true;
            }
            case TABLE_CREATED -> {
                createTable(c, e.getTenantId(), e.getAggregateId(), e.getTableCreated());
                return true;
            }
            case TABLE_RENAMED -> {
                return true; // user-facing names are metadata only; physical names never change
            }
            case TABLE_DELETED -> {
                deleteTable(c, e.getTenantId(), e.getAggregateId());
                return true;
            }
            case COLUMN_ADDED -> {
                addColumn(c, e.getTenantId(), e.getAggregateId(), e.getColumnAdded().getColumn());
                return true;
            }
            case COLUMN_RENAMED -> {
                return true; // names are metadata only
            }
            case COLUMN_TYPE_CHANGED -> {
                ColumnChanges.retype(c, e, e.getColumnTypeChanged().getColumnId(), e.getColumnTypeChanged().getToType());
                return true;
            }
            case COLUMN_UNIQUE_CHANGED -> {
                ColumnChanges.setUnique(c, e, e.getColumnUniqueChanged().getColumnId(), e.getColumnUniqueChanged().getUnique());
                return true;
            }
            case COLUMN_DROPPED -> {
                dropColumn(c, e.getTenantId(), e.getAggregateId(), e.getColumnDropped().getColumnId());
                return true;
            }
            case COLUMN_LINKED -> {
                ColumnChanges.link(db, c, e);
                return true;
            }
            case COLUMN_UNLINKED -> {
                ColumnChanges.unlink(c, e.getTenantId(), e.getAggregateId(), e.getColumnUnlinked().getColumnId());
                return true;
            }
            case COLUMN_LINK_UNDONE -> {
                LinkUndo.undo(c, e);
                return true;
            }
            case DISPLAY_COLUMN_CHANGED -> {
                try (PreparedStatement s = c.prepareStatement(
                    "UPDATE physical_tables SET display_column_id = ? WHERE tenant_id = ? AND table_id = ?")) {
                    s.setString(1, e.getDisplayColumnChanged().getDisplayColumnId());
                    s.setString(2, e.getTenantId());
                    s.setString(3, e.getAggregateId());
                    s.executeUpdate();
                }
                return true;
            }
            default -> {
                return false;
            }
        }
    }

    private static void addColumn(Connection c, String tenantId, String tableId, ColumnDef col) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("ALTER TABLE " + PhysicalNames.qualified(tenantId, tableId) + " ADD COLUMN "
                + quote(PhysicalNames.column(col.getColumnId())) + " " + PhysicalNames.sqlType(col.getType())
                + unique(col));
        }
        catalogColumns(c, tenantId, tableId, List.of(col));
    }

    /** A named unique constraint, so ColumnUniqueChanged finds it again. */
    private static String unique(ColumnDef col) {
        return col.getUnique() ? " CONSTRAINT " + quote("u_" + PhysicalNames.column(col.getColumnId()).substring(2)) + " UNIQUE" : "";
    }

    /** Links of other tables to this one are refused by schema-service; its own self-links go with it. */
    private static void deleteTable(Connection c, String tenantId, String tableId) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS " + PhysicalNames.qualified(tenantId, tableId));
        }
        try (PreparedStatement s = c.prepareStatement("DELETE FROM physical_tables WHERE tenant_id = ? AND table_id = ?")) {
            s.setString(1, tenantId);
            s.setString(2, tableId);
            s.executeUpdate();
        }
    }

    /** The column's link (its foreign key) goes with it; a column other links target is never dropped. */
    private static void dropColumn(Connection c, String tenantId, String tableId, String columnId) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("ALTER TABLE " + PhysicalNames.qualified(tenantId, tableId) + " DROP COLUMN IF EXISTS "
                + quote(PhysicalNames.column(columnId)));
        }
        for (String catalog : List.of("physical_links", "physical_columns")) {
            try (PreparedStatement s = c.prepareStatement(
                "DELETE FROM " + catalog + " WHERE tenant_id = ? AND table_id = ? AND column_id = ?")) {
                s.setString(1, tenantId);
                s.setString(2, tableId);
                s.setString(3, columnId);
                s.executeUpdate();
            }
        }
    }

    private static void createSchema(Connection c, String tenantId) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE SCHEMA IF NOT EXISTS " + quote(PhysicalNames.schema(tenantId)));
        }
    }

    private static void createTable(Connection c, String tenantId, String tableId, TableCreated e) throws SQLException {
        createSchema(c, tenantId);
        StringBuilder ddl = new StringBuilder("CREATE TABLE ").append(PhysicalNames.qualified(tenantId, tableId)).append(" (");
        for (int i = 0; i < e.getColumnsCount(); i++) {
            ColumnDef col = e.getColumns(i);
            if (i > 0) {
                ddl.append(", ");
            }
            ddl.append(quote(PhysicalNames.column(col.getColumnId()))).append(' ');
            if (col.getPrimaryKey()) {
                ddl.append("bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY");
            } else {
                ddl.append(PhysicalNames.sqlType(col.getType())).append(unique(col));
            }
        }
        ddl.append(", ").append(quote("_version")).append(" bigint NOT NULL DEFAULT 1)");
        try (Statement s = c.createStatement()) {
            s.execute(ddl.toString());
        }
        try (PreparedStatement s = c.prepareStatement(
            "INSERT INTO physical_tables (tenant_id, table_id, schema_name, table_name, display_column_id) "
                + "VALUES (?, ?, ?, ?, ?)")) {
            s.setString(1, tenantId);
            s.setString(2, tableId);
            s.setString(3, PhysicalNames.schema(tenantId));
            s.setString(4, PhysicalNames.table(tableId));
            s.setString(5, e.getDisplayColumnId().isEmpty() ? e.getPrimaryKeyColumnId() : e.getDisplayColumnId());
            s.executeUpdate();
        }
        catalogColumns(c, tenantId, tableId, e.getColumnsList());
        RecordEvents.startSequence(c, tenantId, tableId);
    }

    private static void catalogColumns(Connection c, String tenantId, String tableId, List<ColumnDef> columns)
        throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
            "INSERT INTO physical_columns (tenant_id, table_id, column_id, column_name, column_type, primary_key, is_unique) "
                + "VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            for (ColumnDef col : columns) {
                s.setString(1, tenantId);
                s.setString(2, tableId);
                s.setString(3, col.getColumnId());
                s.setString(4, PhysicalNames.column(col.getColumnId()));
                s.setString(5, col.getType().name());
                s.setBoolean(6, col.getPrimaryKey());
                s.setBoolean(7, col.getUnique() || col.getPrimaryKey());
                s.addBatch();
            }
            s.executeBatch();
        }
    }

    @Override
    public List<EventConsumer> consumers() {
        return List.of(consumer);
    }
}
