package io.linkbase.record.records;

import io.grpc.Status;
import io.linkbase.kit.consumer.AppliedVersions;
import io.linkbase.kit.db.Db;
import io.linkbase.kit.grpc.ApiException;
import io.linkbase.kit.grpc.Consistency;
import io.linkbase.record.catalog.Catalog;
import io.linkbase.record.ddl.SchemaEventApplier;
import io.micronaut.context.annotation.Value;
import jakarta.inject.Singleton;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Read-your-writes after a schema change: when the caller says which table versions it has seen
 * ({@link Consistency}), wait until this service has applied them before touching the tables.
 * A record written right after its table or column was created then finds them here.
 */
@Singleton
class SchemaCatchUp {
    private final Db db;
    private final Duration timeout;

    SchemaCatchUp(Db db, @Value("${linkbase.records.schema-catch-up-timeout:10s}") Duration timeout) {
        this.db = db;
        this.timeout = timeout;
    }

    void await(String tenant) {
        await(tenant, false);
    }

    /**
     * As {@link #await(String)} for a single-record write, which may also go on at a link's
     * version while the link still clears its column ({@link PendingLink}).
     */
    void awaitForWrite(String tenant) {
        await(tenant, true);
    }

    private void await(String tenant, boolean singleWrite) {
        Map<String, Long> required = Consistency.required();
        if (required.isEmpty()) {
            return;
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        long pause = 5;
        while (!caughtUp(tenant, required, singleWrite)) {
            if (System.nanoTime() - deadline > 0) {
                throw new ApiException(Status.Code.UNAVAILABLE, "unavailable",
                    "the table's latest schema change is still being applied; retry shortly", List.of());
            }
            try {
                Thread.sleep(pause);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new ApiException(Status.Code.CANCELLED, "unavailable", "interrupted", List.of());
            }
            pause = Math.min(pause * 2, 100);
        }
    }

    /**
     * Whether the table's version {@code version} is a link whose column is converted and whose
     * foreign key is in place (its reconciliation goes on, but the table is as the caller saw it):
     * a write need not wait for the rest of the reconciliation (docs/decisions.md "Writers during
     * a link").
     */
    private static boolean linkInPlace(Connection c, String tenant, String tableId, long version) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT 1 FROM physical_links WHERE tenant_id = ? AND table_id = ? "
            + "AND link_version = ? AND phase <> 'CLEARING'")) {
            s.setString(1, tenant);
            s.setString(2, tableId);
            s.setLong(3, version);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next();
            }
        }
    }

    private boolean caughtUp(String tenant, Map<String, Long> required, boolean singleWrite) {
        return db.read(c -> {
            for (Map.Entry<String, Long> e : required.entrySet()) {
                long applied = AppliedVersions.current(c, SchemaEventApplier.CONSUMER, tenant, e.getKey());
                if (applied < e.getValue() && !(applied == e.getValue() - 1 && (linkInPlace(c, tenant, e.getKey(), e.getValue())
                    || singleWrite && pendingLink(c, tenant, e.getKey(), e.getValue())))) {
                    return false;
                }
            }
            return true;
        });
    }

    private static boolean pendingLink(Connection c, String tenant, String tableId, long version) throws SQLException {
        Optional<Catalog.Table> table = Catalog.table(c, tenant, tableId);
        return table.isPresent() && PendingLink.at(c, table.get(), version).isPresent();
    }
}
