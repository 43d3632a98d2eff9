package io.linkbase.search.targets;

import io.linkbase.proto.internal.v1.RebuildStatus;
import io.linkbase.search.index.IndexMigrations;
import io.linkbase.search.index.IndexRebuilds;
import io.linkbase.search.index.IndexReads;
import io.linkbase.search.index.IndexWrites;
import io.micronaut.context.annotation.Value;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

/**
 * Rebuilds the index from record-service, safely with any number of search-service instances
 * (docs/decisions.md, "Rebuild with several instances"): it claims the one rebuild lease
 * ({@link IndexRebuilds}; a second request on any instance is refused), creates a new index
 * (current template), turns on every instance's dual write and waits for the writes in flight,
 * copies other tenants' documents with their versions and exports every target (of one tenant,
 * or all), then switches the alias atomically, deletes the old index and releases the lease.
 * Killed anywhere, the alias stays on a complete index (the old one until the switch, which is
 * atomic); the next rebuild takes the lease over once its heartbeat is stale and deletes what
 * the dead one left.
 */
@Singleton
public class Rebuilder {
    private static final Logger LOG = LoggerFactory.getLogger(Rebuilder.class);
    private static final String INSTANCE = System.getenv().getOrDefault("HOSTNAME", "search-service") + "/"
        + ProcessHandle.current().pid();

    public record Result(String index, long documents) {
    }

    private final IndexMigrations migrations;
    private final IndexWrites writes;
    private final IndexReads reads;
    private final IndexRebuilds rebuilds;
    private final SchemaView catalog;
    private final RecordExport export;
    private final Duration lease;
    private final ScheduledExecutorService heartbeats = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "rebuild-heartbeat");
        t.setDaemon(true);
        return t;
    });

    /** The running (or last) rebuild's progress on this instance, read by GetRebuildStatus. */
    private volatile RebuildStatus status = RebuildStatus.newBuilder().setPhase("NONE").build();

    /** How far the running rebuild has got (or how the last one ended); NONE before any. */
    public RebuildStatus status() {
        return status;
    }

    public Rebuilder(IndexMigrations migrations, IndexWrites writes, IndexReads reads, IndexRebuilds rebuilds, SchemaView catalog, RecordExport export,
                     @Value("${linkbase.search.rebuild.lease:30s}") Duration lease) {
        this.migrations = migrations;
        this.writes = writes;
        this.reads = reads;
        this.rebuilds = rebuilds;
        this.catalog = catalog;
        this.export = export;
        this.lease = lease;
    }

    /** @param tenant the tenant to rebuild from record-service; null for every tenant */
    public Result rebuild(String tenant) {
        migrations.ensure();
        String owner = INSTANCE + "/" + UUID.randomUUID();
        IndexRebuilds.Abandoned abandoned = rebuilds.claim(owner, tenant, lease);
        AtomicBoolean lost = new AtomicBoolean();
        long beat = Math.max(100, lease.toMillis() / 6);
        ScheduledFuture<?> heartbeat = heartbeats.scheduleWithFixedDelay(() -> {
            try {
                if (!rebuilds.heartbeat(owner)) {
                    lost.set(true);
                }
            } catch (RuntimeException e) {
                LOG.warn("rebuild heartbeat failed (retrying): {}", e.toString());
            }
        }, beat, beat, TimeUnit.MILLISECONDS);
        String fresh = null;
        boolean switched = false;
        RebuildStatus.Builder st = RebuildStatus.newBuilder().setRunning(true).setPhase("COPYING")
            .setTenantId(tenant == null ? "" : tenant);
        status = st.build();
        try {
            if (abandoned != null) {
                cleanUp(abandoned);
            }
            String old = migrations.aliasedIndex();
            fresh = migrations.newIndexName();
            status = st.setIndex(fresh).build();
            migrations.createIndex(fresh);
            rebuilds.startDualWrite(owner, old, fresh); // every instance writes to both from here on
            if (old != null) {
                writes.refresh(old); // what was written to the old index alone is now visible to the copy
                if (tenant != null) {
                    migrations.reindex(old, fresh, tenant);
                }
            }
            List<SchemaView.TableShape> targets = catalog.targets(tenant);
            long[] totals = new long[targets.size()];
            long exported = 0;
            String into = fresh;
            for (int i = 0; i < targets.size(); i++) {
                if (lost.get()) {
                    throw new IllegalStateException("the rebuild lost its lease");
                }
                int at = i;
                long before = exported;
                exported += export.export(targets.get(i),
                    docs -> writes.writeTo(into, docs, IndexWrites.Versioning.EXTERNAL_GTE),
                    (done, total) -> {
                        totals[at] = total;
                        // the totals of the targets not started yet are unknown: counted as 0 until then
                        status = st.setPhase("INDEXING").setDone(before + done).setTotal(sum(totals)).build();
                    });
            }
            status = st.setPhase("SWITCHING").setDone(exported).setTotal(exported).build();
            // a table that stopped being a target while it was exported: its documents go
            // (the schema follower removed them from both indexes, the export may have written some back)
            Set<String> still = catalog.targets(tenant).stream().map(t -> SchemaView.key(t.tenant(), t.table()))
                .collect(Collectors.toSet());
            for (SchemaView.TableShape t : targets) {
                if (!still.contains(SchemaView.key(t.tenant(), t.table()))) {
                    writes.deleteTableIn(fresh, t.tenant(), t.table());
                }
            }
            rebuilds.owned(owner, () -> {
                migrations.switchAlias(old, into);
                return null;
            });
            switched = true;
            if (old != null) {
                migrations.deleteIndexIfExists(old);
            }
            rebuilds.release(owner);
            writes.refresh();
            long documents = tenant == null ? exported : reads.count(fresh, tenant, null);
            LOG.info("rebuilt {} into {} ({} documents exported)", tenant == null ? "every tenant" : tenant, fresh,
                exported);
            status = st.setRunning(false).setPhase("DONE").build();
            return new Result(fresh, documents);
        } catch (RuntimeException e) {
            status = st.setRunning(false).setPhase("FAILED").setError(String.valueOf(e.getMessage())).build();
            if (!switched) {
                try {
                    rebuilds.release(owner); // no instance writes to the new index after this...
                    if (fresh != null) {
                        migrations.deleteIndexIfExists(fresh); // ...so it can go
                    }
                } catch (RuntimeException cleanup) {
                    // the lease expires and the next rebuild deletes it; the failure that matters is the first
                    e.addSuppressed(cleanup);
                }
            }
            throw e;
        } finally {
            heartbeat.cancel(false);
        }
    }

    /**
     * Deletes the indexes a dead rebuild left, except the one behind the alias: before its switch
     * that is the old index (the new one goes), after it the new one (the old one goes).
     */
    private void cleanUp(IndexRebuilds.Abandoned dead) {
        String live = migrations.aliasedIndex();
        for (String left : new String[] {dead.oldIndex(), dead.newIndex()}) {
            if (left != null && !left.equals(live)) {
                migrations.deleteIndexIfExists(left);
            }
        }
        LOG.warn("took over the rebuild lease of {} (no heartbeat for {}): its old index {}, its new index {}, "
            + "the alias on {}; deleted those not behind the alias", dead.owner(), lease, dead.oldIndex(), dead.newIndex(), live);
    }

    private static long sum(long[] values) {
        long s = 0;
        for (long v : values) {
            s += v;
        }
        return s;
    }

    @PreDestroy
    void close() {
        heartbeats.shutdownNow();
    }
}
