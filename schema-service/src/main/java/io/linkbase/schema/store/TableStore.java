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
import io.linkbase.schema.table.TableRefusal;
import io.linkbase.schema.table.TableState;
import io.micronaut.context.annotation.Value;
import io.micronaut.core.annotation.Nullable;
import jakarta.inject.Singleton;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * Runs table commands: load the stream, let the aggregate decide, append events + outbox,
 * refresh the read model — all in one transaction.
 */
@Singleton
public class TableStore {
    /** Live tables per tenant unless configured otherwise (docs/limits.md). */
    static final int DEFAULT_TABLES_PER_TENANT = 1_000;

    private final Db db;
    private final Optional<OutboxRelay> relay;
    private final int tablesPerTenant;

    TableStore(Db db, Optional<OutboxRelay> relay,
                      @Value("${linkbase.limits.tables-per-tenant:1000}") int tablesPerTenant) {
        this.db = db;
        this.relay = relay;
        this.tablesPerTenant = tablesPerTenant;
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

    /**
     * What a command may read of the tenant's other tables, inside the command's transaction.
     * Reading a table takes a share lock on its view row, so a concurrent delete of that table
     * (which locks its own row first) either sees the new link or is seen as deleted.
     */
    public interface Lookup {
        /** The table as of now, or empty when the tenant has no such (undeleted) table. */
        Optional<TableState> table(String tableId);

        /** Every link of another table's column to a column of {@code tableId}. */
        List<TableCommand.IncomingLink> linksTo(String tableId);
    }

    /** Executes {@code command} on table {@code tableId}; returns the table's new state (null once deleted). */
    public Table execute(String tenantId, String tableId, @Nullable Long expectedVersion, TableCommand command,
                         String correlationId) {
        return execute(tenantId, tableId, expectedVersion, lookup -> command, correlationId);
    }

    /** Like {@link #execute(String, String, Long, TableCommand, String)}, reading other tables first. */
    public Table execute(String tenantId, String tableId, @Nullable Long expectedVersion,
                         Function<Lookup, TableCommand> command, String correlationId) {
        Table result;
        try {
            result = db.inTransaction(c -> {
                requireProvisioned(c, tenantId);
                lockView(c, tenantId, tableId);
                List<EventEnvelope> history = EventStore.load(c, tenantId, tableId);
                TableState state = TableAggregate.replay(history);
                long current = history.isEmpty() ? 0 : history.get(history.size() - 1).getAggregateVersion();
                if (expectedVersion != null && expectedVersion != current) {
                    throw EventStore.versionConflict(tableId);
                }
                TableCommand decided = command.apply(lookup(c, tenantId));
                if (decided instanceof TableCommand.CreateTable && !history.isEmpty()) {
                    throw TableRefusal.conflict("conflict", "table " + tableId + " existed before");
                }
                if (decided instanceof TableCommand.CreateTable) {
                    requireTableSlot(c, tenantId);
                }
                List<EventEnvelope> appended = EventStore.append(c, tenantId, tableId, current,
                    TableAggregate.decide(state, TableAggregate.slotsUsed(history), decided), correlationId);
                TableState next = state;
                for (EventEnvelope e : appended) {
                    next = TableAggregate.apply(next, e);
                    LinksReadModel.save(c, tenantId, tableId, e);
                }
                if (next != null) {
                    Table view = TableViews.toProto(next);
                    saveView(c, tenantId, view, false);
                    return view;
                }
                if (state != null) {
                    saveView(c, tenantId, TableViews.toProto(state.withVersion(current + appended.size())), true);
                }
                return null;
            });
        } catch (Db.DataAccessFailure e) {
            // Two commands that lock each other's tables (A links to B while B links to A): one loses.
            if ("40P01".equals(e.sqlState()) || "40001".equals(e.sqlState())) {
                throw EventStore.versionConflict(tableId);
            }
            throw e;
        }
        relay.ifPresent(OutboxRelay::wakeUp);
        return result;
    }

    /**
     * Tables per tenant: creates of one tenant take its {@code tenants} row lock in turn (held to
     * the end of the transaction), so two concurrent creates cannot both take the last slot.
     * {@code FOR NO KEY UPDATE} does not block the key-share locks of foreign keys to the row.
     */
    private void requireTableSlot(Connection c, String tenantId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
            "SELECT 1 FROM tenants WHERE tenant_id = ? FOR NO KEY UPDATE")) {
            s.setString(1, tenantId);
            s.executeQuery().close();
        }
        try (PreparedStatement s = c.prepareStatement(
            "SELECT count(*) FROM table_views WHERE tenant_id = ? AND NOT deleted")) {
            s.setString(1, tenantId);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                long live = rs.getLong(1);
                if (live >= tablesPerTenant) {
                    throw TableRefusal.limitExceeded("tables", "a tenant has at most " + tablesPerTenant
                        + " tables; this tenant has " + live + ": delete a table first");
                }
            }
        }
    }

    /** Serialises commands on one table; see {@link Lookup}. */
    private static void lockView(Connection c, String tenantId, String tableId) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
            "SELECT 1 FROM table_views WHERE tenant_id = ? AND table_id = ? FOR UPDATE")) {
            s.setString(1, tenantId);
            s.setString(2, tableId);
            s.executeQuery().close();
        }
    }

    private static Lookup lookup(Connection c, String tenantId) {
        return new Lookup() {
            @Override
            public Optional<TableState> table(String tableId) {
                try (PreparedStatement s = c.prepareStatement(
                    "SELECT state FROM table_views WHERE tenant_id = ? AND table_id = ? AND NOT deleted FOR SHARE")) {
                    s.setString(1, tenantId);
                    s.setString(2, tableId);
                    try (ResultSet rs = s.executeQuery()) {
                        return rs.next() ? Optional.of(TableViews.fromProto(parse(rs.getBytes(1)))) : Optional.empty();
                    }
                } catch (SQLException e) {
                    throw new Db.DataAccessFailure(e);
                }
            }

            @Override
            public List<TableCommand.IncomingLink> linksTo(String tableId) {
                try {
                    return LinksReadModel.incoming(c, tenantId, tableId);
                } catch (SQLException e) {
                    throw new Db.DataAccessFailure(e);
                }
            }
        };
    }

    public Optional<Table> find(String tenantId, String tableId) {
        return db.read(c -> {
            try (PreparedStatement s = c.prepareStatement(
                "SELECT state FROM table_views WHERE tenant_id = ? AND table_id = ? AND NOT deleted")) {
                s.setString(1, tenantId);
                s.setString(2, tableId);
                try (ResultSet rs = s.executeQuery()) {
                    if (!rs.next()) {
                        return Optional.<Table>empty();
                    }
                    return Optional.of(LinksReadModel.withStatus(parse(rs.getBytes(1)), LinksReadModel.statuses(c, tenantId, tableId)));
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
            Map<String, LinksReadModel.LinkStatus> statuses = LinksReadModel.statuses(c, tenantId, null);
            return tables.stream().map(t -> LinksReadModel.withStatus(t, statuses)).toList();
        });
    }

    public List<EventEnvelope> history(String tenantId, String tableId) {
        return db.read(c -> EventStore.load(c, tenantId, tableId));
    }

    /**
     * What each of the table's links did when it was reconciled, by the version of its
     * ColumnLinked: {kept, cleared}. Links removed or undone since are still there.
     */
    public Map<Long, long[]> linkOutcomes(String tenantId, String tableId) {
        return db.read(c -> {
            Map<Long, long[]> outcomes = new java.util.HashMap<>();
            try (PreparedStatement s = c.prepareStatement(
                "SELECT link_version, kept_count, cleared_count FROM link_outcomes WHERE tenant_id = ? AND table_id = ?")) {
                s.setString(1, tenantId);
                s.setString(2, tableId);
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        outcomes.put(rs.getLong(1), new long[] {rs.getLong(2), rs.getLong(3)});
                    }
                }
            }
            return outcomes;
        });
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
                throw TableRefusal.nameTaken("a table named '" + t.getName() + "' exists");
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
