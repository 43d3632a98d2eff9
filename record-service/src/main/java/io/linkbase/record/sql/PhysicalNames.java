package io.linkbase.record.sql;

import io.linkbase.proto.v1.ColumnType;

/**
 * Generated physical names and quoting. User-facing names never reach SQL; ids are still
 * quoted so that no identifier is ever spliced raw.
 */
public final class PhysicalNames {
    private PhysicalNames() {
    }

    public static String schema(String tenantId) {
        return "tenant_" + tenantId;
    }

    public static String table(String tableId) {
        return "t_" + compact(tableId);
    }

    public static String column(String columnId) {
        return "c_" + compact(columnId);
    }

    /** {@code "schema"."table"}, both quoted. */
    public static String qualified(String tenantId, String tableId) {
        return quote(schema(tenantId)) + "." + quote(table(tableId));
    }

    public static String quote(String identifier) {
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }

    public static String sqlType(ColumnType type) {
        return switch (type) {
            case TEXT -> "text";
            case INTEGER -> "bigint";
            case NUMBER -> "numeric";
            case BOOLEAN -> "boolean";
            case DATE -> "date";
            case TIMESTAMP -> "timestamptz";
            case DURATION -> "interval";
            case UUID -> "uuid";
            default -> throw new IllegalArgumentException("no SQL type for " + type);
        };
    }

    private static String compact(String id) {
        String hex = id.replace("-", "").toLowerCase(java.util.Locale.ROOT);
        if (!hex.matches("[0-9a-z_]{1,60}")) {
            throw new IllegalArgumentException("not a Linkbase id: " + id);
        }
        return hex;
    }
}
