package io.linkbase.search.index;

import io.linkbase.search.targets.Catalog;
import io.linkbase.search.targets.RecordExport;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
        index.createIndex(fresh);
        index.beginDualWrite(fresh);
        try {
            if (tenant != null && old != null) {
                index.reindex(old, fresh, tenant);
            }
            long exported = 0;
            for (Catalog.TableShape target : catalog.targets(tenant)) {
                exported += export.export(target,
                    docs -> index.writeTo(fresh, docs, RecordsIndex.Versioning.EXTERNAL_GTE));
            }
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
            return new Result(fresh, documents);
        } catch (RuntimeException e) {
            index.endDualWrite();
            try {
                index.deleteIndex(fresh);
            } catch (RuntimeException ignored) {
                // the failure that matters is the first
            }
            throw e;
        }
    }
}
