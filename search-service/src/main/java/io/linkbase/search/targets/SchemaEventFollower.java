package io.linkbase.search.targets;

import io.linkbase.kit.consumer.EventConsumer;
import io.linkbase.kit.db.Db;
import io.linkbase.kit.events.Topics;
import io.linkbase.kit.kafka.KafkaSettings;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.micronaut.context.annotation.Requires;
import io.micronaut.context.event.ShutdownEvent;
import io.micronaut.context.event.StartupEvent;
import io.micronaut.runtime.event.annotation.EventListener;
import jakarta.inject.Singleton;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.List;

/**
 * Follows schema events to know every table (name, display column) and, later, which tables are
 * link targets. Applied exactly once per table version, in search-service's own database.
 */
@Singleton
@Requires(property = "linkbase.consumers.enabled", notEquals = "false")
public class SchemaEventFollower {
    public static final String CONSUMER = "search-service.schema";

    private final EventConsumer consumer;

    public SchemaEventFollower(KafkaSettings kafka, Db db) {
        this.consumer = new EventConsumer(CONSUMER, List.of(Topics.SCHEMA), kafka, db, SchemaEventFollower::apply);
    }

    public EventConsumer consumer() {
        return consumer;
    }

    @EventListener
    void onStartup(StartupEvent event) {
        consumer.start();
    }

    @EventListener
    void onShutdown(ShutdownEvent event) {
        consumer.close();
    }

    static boolean apply(Connection c, EventEnvelope e) throws SQLException {
        switch (e.getPayloadCase()) {
            case TENANT_PROVISIONED -> {
                return true; // nothing to prepare: indexes are shared across tenants
            }
            case TABLE_CREATED -> {
                try (PreparedStatement s = c.prepareStatement(
                    "INSERT INTO known_tables (tenant_id, table_id, name, display_column_id, version) VALUES (?, ?, ?, ?, ?)")) {
                    s.setString(1, e.getTenantId());
                    s.setString(2, e.getAggregateId());
                    s.setString(3, e.getTableCreated().getName());
                    s.setString(4, e.getTableCreated().getDisplayColumnId());
                    s.setLong(5, e.getAggregateVersion());
                    s.executeUpdate();
                }
                return true;
            }
            default -> {
                return false;
            }
        }
    }
}
