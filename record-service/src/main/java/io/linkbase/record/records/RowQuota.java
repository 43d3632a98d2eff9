package io.linkbase.record.records;

import io.grpc.Status;
import io.linkbase.kit.grpc.ApiException;
import io.micronaut.context.annotation.Value;
import jakarta.inject.Singleton;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Rows per table, a per-plan quota (docs/limits.md): each table's row count is kept in
 * {@code physical_tables.row_count}, moved in the same transaction as the rows, so a refused
 * write changes nothing and the count never drifts. The count is moved just before the write's
 * events are sequenced, so the row lock it takes is held no longer than the sequence's.
 */
@Singleton
class RowQuota {
    private final long defaultLimit;
    private final Map<String, Long> perTenant;

    RowQuota(@Value("${linkbase.quotas.rows-per-table:5000000}") long defaultLimit,
             @Value("${linkbase.quotas.rows-per-table-overrides:}") String overrides) {
        this.defaultLimit = defaultLimit;
        this.perTenant = parse(overrides);
    }

    /** {@code tenant=rows,tenant=rows}; a malformed entry fails the start, not a request. */
    static Map<String, Long> parse(String overrides) {
        Map<String, Long> m = new HashMap<>();
        for (String entry : overrides.split(",")) {
            if (entry.isBlank()) {
                continue;
            }
            String[] kv = entry.trim().split("=");
            if (kv.length != 2) {
                throw new IllegalArgumentException("linkbase.quotas.rows-per-table-overrides: expected tenant=rows, got " + entry);
            }
            m.put(kv[0].trim(), Long.parseLong(kv[1].trim()));
        }
        return Map.copyOf(m);
    }

    long limit(String tenant) {
        return perTenant.getOrDefault(tenant, defaultLimit);
    }

    /** Adds {@code delta} rows to the table's count; refuses (and so rolls back) past the quota. */
    void add(Connection c, String tenant, String tableId, long delta) throws SQLException {
        if (delta == 0) {
            return;
        }
        long count;
        try (PreparedStatement s = c.prepareStatement(
            "UPDATE physical_tables SET row_count = greatest(row_count + ?, 0) WHERE tenant_id = ? AND table_id = ? "
                + "RETURNING row_count")) {
            s.setLong(1, delta);
            s.setString(2, tenant);
            s.setString(3, tableId);
            try (ResultSet rs = s.executeQuery()) {
                if (!rs.next()) {
                    return;
                }
                count = rs.getLong(1);
            }
        }
        long limit = limit(tenant);
        if (delta > 0 && count > limit) {
            throw new ApiException(Status.Code.FAILED_PRECONDITION, "limit_exceeded",
                "a table holds at most " + limit + " records on this plan; this write would make it "
                    + count + " (" + (count - delta) + " now)", List.of());
        }
    }
}
