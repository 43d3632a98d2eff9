package io.linkbase.search.index;

import io.linkbase.proto.internal.v1.RebuildStatus;
import io.linkbase.search.targets.Catalog;
import io.linkbase.search.targets.RecordExport;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * Rebuilds the index from record-service: a new index (current template), filled by exporting
 * every target (of one tenant, or all), other tenants' documents copied over with their
 * versions; live writes go to both indexes meanwhile, so nothing that happens during the
 * rebuild is lost; then the alias switches atomically and the old index is deleted.
 */
@Singleton
public class Rebuilder {
    private static final Logger LOG = LoggerFactory.getLogger(Rebuilder.class);

    public record Result(String index, long documents) {
    }

    private final RecordsIndex index;
    private final Catalog catalog;
    private final RecordExport export;
    /** The running (or last) rebuild's progress, read by GetRebuildStatus. */
    private volatile RebuildStatus status = RebuildStatus.newBuilder().setPhase("NONE").build();

    /** How far the running rebuild has got (or how the last one ended); NONE before any. */
    public RebuildStatus status() {
        return status;
    }

    public Rebuilder(RecordsIndex index, Catalog catalog, RecordExport export) {
        this.index = index;
        this.catalog = catalog;
        this.export = export;
    }

    /** @param tenant the tenant to rebuild from record-service; null for every tenant */
    public synchronized Result rebuild(String tenant) {
        index.ensure();
        String old = index.aliasedIndex();
        String fresh = index.newIndexName();
        RebuildStatus.Builder st = RebuildStatus.newBuilder().setRunning(true).setPhase("COPYING").setIndex(fresh)
            .setTenantId(tenant == null ? "" : tenant);
        status = st.build();
        index.createIndex(fresh);
        index.beginDualWrite(fresh);
        try {
            if (tenant != null && old != null) {
                index.reindex(old, fresh, tenant);
            }
            List<Catalog.TableShape> targets = catalog.targets(tenant);
            long[] totals = new long[targets.size()];
            long exported = 0;
            for (int i = 0; i < targets.size(); i++) {
                int at = i;
                long before = exported;
                exported += export.export(targets.get(i),
                    docs -> index.writeTo(fresh, docs, RecordsIndex.Versioning.EXTERNAL_GTE),
                    (done, total) -> {
                        totals[at] = total;
                        // the totals of the targets not started yet are unknown: counted as 0 until then
                        status = st.setPhase("INDEXING").setDone(before + done).setTotal(sum(totals)).build();
                    });
            }
            status = st.setPhase("SWITCHING").setDone(exported).setTotal(exported).build();
            if (old != null) {
                index.switchAlias(old, fresh);
            }
            index.endDualWrite();
            if (old != null) {
                index.deleteIndex(old);
            }
            index.refresh();
            long documents = tenant == null ? exported : index.count(fresh, tenant, null);
            LOG.info("rebuilt {} into {} ({} documents exported)", tenant == null ? "every tenant" : tenant, fresh,
                exported);
            status = st.setRunning(false).setPhase("DONE").build();
            return new Result(fresh, documents);
        } catch (RuntimeException e) {
            status = st.setRunning(false).setPhase("FAILED").setError(String.valueOf(e.getMessage())).build();
            index.endDualWrite();
            try {
                index.deleteIndex(fresh);
            } catch (RuntimeException ignored) {
                // the failure that matters is the first
            }
            throw e;
        }
    }

    private static long sum(long[] values) {
        long s = 0;
        for (long v : values) {
            s += v;
        }
        return s;
    }
}
