package io.linkbase.schema.store;

import io.linkbase.kit.db.Db;
import io.linkbase.kit.events.Envelopes;
import io.linkbase.kit.grpc.ApiException;
import io.linkbase.kit.outbox.OutboxRelay;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.events.v1.TenantProvisioned;
import io.linkbase.proto.v1.Table;
import io.linkbase.schema.table.TableAggregate;
import io.linkbase.schema.table.TableCommand;
import io.micronaut.core.annotation.Nullable;
import jakarta.inject.Singleton;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Runs table commands: load the stream, let the aggregate decide, append events + outbox,
 * refresh the read model — all in one transaction.
 */
@Singleton
public class TableStore {
    private final Db db;
    private final Optional<OutboxRelay> relay;

    public TableStore(Db db, Optional<OutboxRelay> relay) {
        this.db = db;
        this.relay = relay;
    }

    /** @return true when the tenant was provisioned by this call, false when it already was. */
    public boolean provisionTenant(String tenantId, String correlationId) {
        boolean created = db.inTransaction(c -> {
            try (PreparedStatement s = c.prepareStatement(
                "INSERT INTO tenants (tenant_id) VALUES (?) ON CONFLICT DO NOTHING")) {
                s.setString(1, tenantId);
                if (s.executeUpdate() == 0) {
                    return false;
                }
            }
            EventStore.append(c, tenantId, Envelopes.TENANT_AGGREGATE, 0,
                List.of(EventEnvelope.newBuilder().setTenantProvisioned(TenantProvisioned.getDefaultInstance())),
                correlationId);
            return true;
        });
        relay.ifPresent(OutboxRelay::wakeUp);
        return created;
    }

    public boolean isProvisioned(String tenantId) {
        return db.read(c -> {
            try (PreparedStatement s = c.prepareStatement("SELECT 1 FROM tenants WHERE tenant_id = ?")) {
                s.setString(1, tenantId);
                try (ResultSet rs = s.executeQuery()) {
                    return rs.next();
                }
            }
        });
    }

    /** Executes {@code command} on table {@code tableId}; returns the table's new state. */
    public Table execute(String tenantId, String tableId, @Nullable Long expectedVersion, TableCommand command,
                         String correlationId) {
        Table result = db.inTransaction(c -> {
            requireProvisioned(c, tenantId);
            List<EventEnvelope> history = EventStore.load(c, tenantId, tableId);
            Table state = TableAggregate.replay(history);
            long current = state == null ? 0 : state.getVersion();
            if (expectedVersion != null && expectedVersion != current) {
                throw EventStore.versionConflict(tableId);
            }
            List<EventEnvelope> appended = EventStore.append(c, tenantId, tableId, current,
                TableAggregate.decide(state, command), correlationId);
            Table next = state;
            for (EventEnvelope e : appended) {
                next = TableAggregate.apply(next, e);
            }
            saveView(c, tenantId, next, false);
            return next;
        });
        relay.ifPresent(OutboxRelay::wakeUp);
        return result;
    }

    public Optional<Table> find(String tenantId, String tableId) {
        return db.read(c -> {
            try (PreparedStatement s = c.prepareStatement(
                "SELECT state FROM table_views WHERE tenant_id = ? AND table_id = ? AND NOT deleted")) {
                s.setString(1, tenantId);
                s.setString(2, tableId);
                try (ResultSet rs = s.executeQuery()) {
                    return rs.next() ? Optional.of(parse(rs.getBytes(1))) : Optional.<Table>empty();
                }
            }
        });
    }

    /** The tenant's tables for the sidebar, sorted by name (case-insensitively). */
    public List<Table> list(String tenantId) {
        return db.read(c -> {
            List<Table> tables = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement(
                "SELECT state FROM table_views WHERE tenant_id = ? AND NOT deleted ORDER BY lower(name), table_id")) {
                s.setString(1, tenantId);
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        tables.add(parse(rs.getBytes(1)));
                    }
                }
            }
            return tables;
        });
    }

    public List<EventEnvelope> history(String tenantId, String tableId) {
        return db.read(c -> EventStore.load(c, tenantId, tableId));
    }

    private static void requireProvisioned(Connection c, String tenantId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT 1 FROM tenants WHERE tenant_id = ?")) {
            s.setString(1, tenantId);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    throw new ApiException(io.grpc.Status.Code.PERMISSION_DENIED, "tenant_not_provisioned",
                        "tenant " + tenantId + " is not provisioned", List.of());
                }
            }
        }
    }

    private static void saveView(Connection c, String tenantId, Table t, boolean deleted) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
            "INSERT INTO table_views (tenant_id, table_id, name, version, deleted, state) VALUES (?, ?, ?, ?, ?, ?) "
                + "ON CONFLICT (tenant_id, table_id) DO UPDATE SET name = excluded.name, version = excluded.version, "
                + "deleted = excluded.deleted, state = excluded.state")) {
            s.setString(1, tenantId);
            s.setString(2, t.getId());
            s.setString(3, t.getName());
            s.setLong(4, t.getVersion());
            s.setBoolean(5, deleted);
            s.setBytes(6, t.toByteArray());
            s.executeUpdate();
        } catch (SQLException e) {
            if ("23505".equals(e.getSQLState())) {
                throw new ApiException(io.grpc.Status.Code.ALREADY_EXISTS, "conflict",
                    "a table named '" + t.getName() + "' exists", List.of());
            }
            throw e;
        }
    }

    private static Table parse(byte[] bytes) {
        try {
            return Table.parseFrom(bytes);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new IllegalStateException(e);
        }
    }
}
