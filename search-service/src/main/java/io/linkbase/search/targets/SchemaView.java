package io.linkbase.search.targets;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import io.linkbase.kit.db.Db;
import io.linkbase.kit.grpc.Tenants;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * Reads search-service's view of the schema: links, target tables and how their documents are
 * built. The Link lookup made on every autocomplete is cached in two bounded Caffeine caches:
 * links found (at most {@link #MAX_LINKS}) and links not found (at most {@link #MAX_MISSES}, so a
 * caller asking for ids that do not exist can only churn the small one, never push real links
 * out). Both keep an entry {@link #TTL} at most; the schema follower clears both whenever it
 * applies an event, and a lookup that read the database while a clear happened is not kept.
 * Keys are only ever valid ids ({@link #validTenant}, {@link #validId}); callers check them first.
 */
@Singleton
public class SchemaView {
    public static final int MAX_LINKS = 100_000;
    public static final int MAX_MISSES = 10_000;
    public static final Duration TTL = Duration.ofSeconds(2);
    /** Table and column ids are UUIDs (docs/decisions.md, "Ids and names"); any case is accepted. */
    private static final Pattern UUID_SHAPE =
        Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

    /** A table as far as documents need it. */
    public record TableShape(String tenant, String table, String displayColumnId, String primaryKeyColumnId) {
    }

    /** A Link and what its suggestions need: the target's shape and the column whose value is stored. */
    public record LinkTarget(String targetTableId, String targetColumnId, String targetPrimaryKeyColumnId) {
    }

    private record LinkKey(String tenant, String table, String column) {
    }

    private final Db db;
    private final Cache<LinkKey, LinkTarget> links;
    private final Cache<LinkKey, Boolean> misses;
    /** Bumped by {@link #forget}: a lookup keeps its answer only if no clear happened while it read. */
    private final AtomicLong generation = new AtomicLong();

    @Inject
    public SchemaView(Db db) {
        this(db, MAX_LINKS, MAX_MISSES, Ticker.systemTicker());
    }

    /** With other bounds and clock (tests). */
    public SchemaView(Db db, int maxLinks, int maxMisses, Ticker ticker) {
        this.db = db;
        this.links = Caffeine.newBuilder().maximumSize(maxLinks).expireAfterWrite(TTL).ticker(ticker).build();
        this.misses = Caffeine.newBuilder().maximumSize(maxMisses).expireAfterWrite(TTL).ticker(ticker).build();
    }

    public static boolean validTenant(String tenant) {
        return Tenants.isValid(tenant);
    }

    public static boolean validId(String id) {
        return id != null && UUID_SHAPE.matcher(id).matches();
    }

    public void forget() {
        generation.incrementAndGet();
        links.invalidateAll();
        misses.invalidateAll();
    }

    /** The link of a column of the tenant, if it is linked. */
    public Optional<LinkTarget> link(String tenant, String table, String column) {
        if (!validTenant(tenant) || !validId(table) || !validId(column)) {
            throw new IllegalArgumentException("link lookups take a valid tenant and UUID ids");
        }
        LinkKey key = new LinkKey(tenant, table, column);
        LinkTarget hit = links.getIfPresent(key);
        if (hit != null) {
            return Optional.of(hit);
        }
        if (misses.getIfPresent(key) != null) {
            return Optional.empty();
        }
        long before = generation.get();
        Optional<LinkTarget> found = db.read(c -> {
            try (PreparedStatement s = c.prepareStatement(
                "SELECT l.target_table_id, l.target_column_id, coalesce(t.primary_key_column_id, '') FROM links l "
                    + "LEFT JOIN known_tables t ON t.tenant_id = l.tenant_id AND t.table_id = l.target_table_id "
                    + "WHERE l.tenant_id = ? AND l.table_id = ? AND l.column_id = ?")) {
                s.setString(1, tenant);
                s.setString(2, table);
                s.setString(3, column);
                try (ResultSet rs = s.executeQuery()) {
                    return rs.next() ? Optional.of(new LinkTarget(rs.getString(1), rs.getString(2), rs.getString(3)))
                        : Optional.empty();
                }
            }
        });
        if (generation.get() == before) {
            if (found.isPresent()) {
                links.put(key, found.get());
            } else {
                misses.put(key, Boolean.TRUE);
            }
        }
        return found;
    }

    /** Entries held now (links found, links not found), after pending evictions; for tests and metrics. */
    public long[] sizes() {
        links.cleanUp();
        misses.cleanUp();
        return new long[] {links.estimatedSize(), misses.estimatedSize()};
    }

    /** The shapes of those of {@code tables} (tenant/table pairs) that are targets now. */
    public Map<String, TableShape> targetShapes(List<String[]> tenantTables) {
        if (tenantTables.isEmpty()) {
            return Map.of();
        }
        return db.read(c -> {
            Map<String, TableShape> found = new HashMap<>();
            List<String> tenants = new ArrayList<>();
            List<String> tables = new ArrayList<>();
            for (String[] tt : tenantTables) {
                tenants.add(tt[0]);
                tables.add(tt[1]);
            }
            try (PreparedStatement s = c.prepareStatement(
                "SELECT g.tenant_id, g.table_id, t.display_column_id, t.primary_key_column_id "
                    + "FROM unnest(?::text[], ?::text[]) AS w(tenant_id, table_id) "
                    + "JOIN targets g ON g.tenant_id = w.tenant_id AND g.table_id = w.table_id "
                    + "LEFT JOIN known_tables t ON t.tenant_id = g.tenant_id AND t.table_id = g.table_id")) {
                s.setArray(1, c.createArrayOf("text", tenants.toArray()));
                s.setArray(2, c.createArrayOf("text", tables.toArray()));
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        String display = rs.getString(3);
                        if (display == null) {
                            // a target whose TableCreated has not arrived yet (another partition)
                            throw new SQLException("target " + rs.getString(2) + " is not known yet", "55000");
                        }
                        found.put(key(rs.getString(1), rs.getString(2)),
                            new TableShape(rs.getString(1), rs.getString(2), display, rs.getString(4)));
                    }
                }
            }
            return found;
        });
    }

    public static String key(String tenant, String table) {
        return tenant + '\u0000' + table;
    }

    /** A target that needs a full export, with the generation of that request. */
    public record Backfill(String tenant, String table, long generation, TableShape shape) {
    }

    public List<Backfill> owedBackfills() {
        return db.read(c -> {
            List<Backfill> owed = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement(
                "SELECT g.tenant_id, g.table_id, g.generation, t.display_column_id, t.primary_key_column_id "
                    + "FROM targets g JOIN known_tables t ON t.tenant_id = g.tenant_id AND t.table_id = g.table_id "
                    + "WHERE g.state = 'BACKFILLING' ORDER BY g.tenant_id, g.table_id")) {
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        owed.add(new Backfill(rs.getString(1), rs.getString(2), rs.getLong(3),
                            new TableShape(rs.getString(1), rs.getString(2), rs.getString(4), rs.getString(5))));
                    }
                }
            }
            return owed;
        });
    }

    /** Every target (of one tenant, or all), for a rebuild. */
    public List<TableShape> targets(String tenantOrNull) {
        return db.read(c -> {
            List<TableShape> all = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement(
                "SELECT g.tenant_id, g.table_id, t.display_column_id, t.primary_key_column_id "
                    + "FROM targets g JOIN known_tables t ON t.tenant_id = g.tenant_id AND t.table_id = g.table_id "
                    + "WHERE (?::text IS NULL OR g.tenant_id = ?) ORDER BY g.tenant_id, g.table_id")) {
                s.setString(1, tenantOrNull);
                s.setString(2, tenantOrNull);
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        all.add(new TableShape(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4)));
                    }
                }
            }
            return all;
        });
    }

    static boolean isTarget(Connection c, String tenant, String table) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT 1 FROM targets WHERE tenant_id = ? AND table_id = ?")) {
            s.setString(1, tenant);
            s.setString(2, table);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next();
            }
        }
    }
}
