package io.linkbase.search.index;

import io.linkbase.kit.grpc.ApiException;
import io.linkbase.kit.db.Db;
import jakarta.inject.Singleton;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The one rebuild of the index that may run at a time over every search-service instance, kept
 * in search-service's database (table {@code index_rebuild}, one row while a rebuild runs):
 * <ul>
 * <li><b>Lease</b>: a rebuild claims the row; a second one, on any instance, is refused
 *     ({@code rebuild_in_progress}) while the owner's heartbeat is fresh. A row whose heartbeat
 *     is older than the lease belongs to a rebuild that died: the next claim takes it over and
 *     is told what to clean up ({@link Abandoned}).</li>
 * <li><b>Dual write</b>: once the row names the new index, every instance writes each live
 *     change to the alias <em>and</em> the new index ({@link #withWriteIndices}).</li>
 * <li><b>Barrier</b>: a write reads the row and writes to OpenSearch while holding a shared
 *     advisory lock; every change of the row takes it exclusively, so it waits for the writes in
 *     flight. Once {@link #startDualWrite} returns, no instance is still writing to the old index
 *     alone, so the copy and export that follow miss nothing.</li>
 * </ul>
 */
@Singleton
public class IndexRebuilds {
    /** Advisory lock key of the barrier ("lb-rebuild"). */
    static final long BARRIER = 0x6c622d7265627569L;

    /** A rebuild that died holding the lease: its indexes (either may be null). */
    public record Abandoned(String owner, String oldIndex, String newIndex) {
    }

    private final Db db;

    public IndexRebuilds(Db db) {
        this.db = db;
    }

    /**
     * Runs a write with the indexes every write must reach now: the alias, and a running
     * rebuild's new index. The write is done inside (holding the barrier's shared lock).
     */
    public <T> T withWriteIndices(Function<List<String>, T> write) {
        return db.inTransaction(c -> {
            lock(c, "pg_advisory_xact_lock_shared");
            // a statement of its own, so its snapshot is taken after the lock is granted
            String extra = null;
            try (PreparedStatement s = c.prepareStatement(
                "SELECT new_index FROM index_rebuild WHERE alias = ? AND new_index IS NOT NULL")) {
                s.setString(1, RecordsIndex.ALIAS);
                try (ResultSet rs = s.executeQuery()) {
                    if (rs.next()) {
                        extra = rs.getString(1);
                    }
                }
            }
            return write.apply(extra == null ? List.of(RecordsIndex.ALIAS) : List.of(RecordsIndex.ALIAS, extra));
        });
    }

    /**
     * Claims the rebuild for {@code owner}; refused with FAILED_PRECONDITION
     * {@code rebuild_in_progress} while another holds it. Returns the rebuild it took over from
     * (its heartbeat older than {@code lease}), or null.
     */
    public Abandoned claim(String owner, String tenant, Duration lease) {
        return db.inTransaction(c -> {
            lock(c, "pg_advisory_xact_lock");
            Abandoned abandoned = null;
            try (PreparedStatement s = c.prepareStatement("SELECT owner, old_index, new_index, "
                + "heartbeat_at < now() - make_interval(secs => ?), extract(epoch FROM now() - started_at)::bigint, "
                + "coalesce(tenant_id, 'every tenant') FROM index_rebuild WHERE alias = ? FOR UPDATE")) {
                s.setDouble(1, lease.toMillis() / 1000.0);
                s.setString(2, RecordsIndex.ALIAS);
                try (ResultSet rs = s.executeQuery()) {
                    if (rs.next()) {
                        if (!rs.getBoolean(4)) {
                            throw ApiException.conflict("rebuild_in_progress", "a rebuild of the index is running ("
                                + rs.getString(6) + ", started " + rs.getLong(5) + " s ago by " + rs.getString(1)
                                + "); one runs at a time: try again when it has finished");
                        }
                        abandoned = new Abandoned(rs.getString(1), rs.getString(2), rs.getString(3));
                    }
                }
            }
            try (PreparedStatement s = c.prepareStatement("INSERT INTO index_rebuild (alias, owner, tenant_id) "
                + "VALUES (?, ?, ?) ON CONFLICT (alias) DO UPDATE SET owner = excluded.owner, tenant_id = excluded.tenant_id, "
                + "old_index = NULL, new_index = NULL, started_at = now(), heartbeat_at = now()")) {
                s.setString(1, RecordsIndex.ALIAS);
                s.setString(2, owner);
                s.setString(3, tenant);
                s.executeUpdate();
            }
            return abandoned;
        });
    }

    /** From now on every instance writes to {@code newIndex} too; returns once no write in flight misses it. */
    public void startDualWrite(String owner, String oldIndex, String newIndex) {
        owned(owner, () -> {
            db.inTransaction(c -> {
                try (PreparedStatement s = c.prepareStatement(
                    "UPDATE index_rebuild SET old_index = ?, new_index = ? WHERE alias = ? AND owner = ?")) {
                    s.setString(1, oldIndex);
                    s.setString(2, newIndex);
                    s.setString(3, RecordsIndex.ALIAS);
                    s.setString(4, owner);
                    return s.executeUpdate();
                }
            });
            return null;
        });
    }

    /** Keeps the lease; false once it is no longer {@code owner}'s. */
    public boolean heartbeat(String owner) {
        return db.inTransaction(c -> {
            try (PreparedStatement s = c.prepareStatement(
                "UPDATE index_rebuild SET heartbeat_at = now() WHERE alias = ? AND owner = ?")) {
                s.setString(1, RecordsIndex.ALIAS);
                s.setString(2, owner);
                return s.executeUpdate() == 1;
            }
        });
    }

    /**
     * Runs {@code step} (the alias switch) behind the barrier, only while {@code owner} still holds
     * the lease: nobody can take it over meanwhile. Refused (ABORTED) once the lease was lost.
     */
    public <T> T owned(String owner, Supplier<T> step) {
        return db.inTransaction(c -> {
            lock(c, "pg_advisory_xact_lock");
            try (PreparedStatement s = c.prepareStatement(
                "SELECT 1 FROM index_rebuild WHERE alias = ? AND owner = ? FOR UPDATE")) {
                s.setString(1, RecordsIndex.ALIAS);
                s.setString(2, owner);
                try (ResultSet rs = s.executeQuery()) {
                    if (!rs.next()) {
                        throw new ApiException(io.grpc.Status.Code.ABORTED, "rebuild_lease_lost",
                            "this rebuild lost its lease (no heartbeat for too long) and was taken over", List.of());
                    }
                }
            }
            return step.get();
        });
    }

    /** Ends the rebuild: no instance names the new index in a write any more once this returns. */
    public void release(String owner) {
        db.inTransaction(c -> {
            lock(c, "pg_advisory_xact_lock");
            try (PreparedStatement s = c.prepareStatement("DELETE FROM index_rebuild WHERE alias = ? AND owner = ?")) {
                s.setString(1, RecordsIndex.ALIAS);
                s.setString(2, owner);
                return s.executeUpdate();
            }
        });
    }

    private static void lock(Connection c, String function) throws SQLException {
        try (PreparedStatement s = c.prepareStatement("SELECT " + function + "(?)")) {
            s.setLong(1, BARRIER);
            s.execute();
        }
    }
}
