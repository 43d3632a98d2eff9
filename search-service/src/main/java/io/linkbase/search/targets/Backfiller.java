package io.linkbase.search.targets;

import io.linkbase.kit.db.Db;
import io.linkbase.kit.retry.Retry;
import io.linkbase.search.index.IndexMigrations;
import io.linkbase.search.index.IndexWrites;
import io.micronaut.context.annotation.Requires;
import io.micronaut.context.event.ShutdownEvent;
import io.micronaut.context.event.StartupEvent;
import io.micronaut.runtime.event.annotation.EventListener;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.PreparedStatement;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Fills a target's documents from record-service's export (the first Link to a table, or a
 * schema change that alters every document). Runs outside the schema consumer so a large table
 * never holds up schema events. Re-exported documents are written with {@code external_gte}:
 * a snapshot never overwrites a newer live event, and an equal version may be rewritten (a new
 * display column). When the export is done and the request is still the latest (same
 * generation), the target is INDEXED and the owed LinkTargetIndexed events go to the outbox in
 * the same transaction.
 */
@Singleton
@Requires(property = "linkbase.consumers.enabled", notEquals = "false")
class Backfiller {
    private static final Logger LOG = LoggerFactory.getLogger(Backfiller.class);

    private final Db db;
    private final SchemaView catalog;
    private final IndexMigrations migrations;
    private final IndexWrites writes;
    private final RecordExport export;
    private final Semaphore wake = new Semaphore(0);
    private volatile boolean running;
    private Thread thread;

    public Backfiller(Db db, SchemaView catalog, IndexMigrations migrations, IndexWrites writes, RecordExport export) {
        this.db = db;
        this.catalog = catalog;
        this.migrations = migrations;
        this.writes = writes;
        this.export = export;
    }

    public void wakeUp() {
        wake.release();
    }

    @EventListener
    synchronized void onStartup(StartupEvent event) {
        running = true;
        thread = new Thread(this::run, "backfiller");
        thread.setDaemon(true);
        thread.start();
    }

    @EventListener
    synchronized void onShutdown(ShutdownEvent event) {
        running = false;
        wake.release();
        if (thread != null) {
            thread.interrupt();
            try {
                thread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private void run() {
        while (running) {
            try {
                wake.tryAcquire(300, TimeUnit.MILLISECONDS);
                wake.drainPermits();
                List<SchemaView.Backfill> owed = catalog.owedBackfills();
                retries.keySet().retainAll(owed.stream().map(Backfiller::key).toList());
                for (SchemaView.Backfill b : owed) {
                    if (!running) {
                        return;
                    }
                    Failing retry = retries.get(key(b));
                    if (retry != null && System.nanoTime() < retry.notBefore) {
                        continue; // failing: its own backoff, the others go on
                    }
                    try {
                        backfill(b);
                        retries.remove(key(b));
                    } catch (RuntimeException e) {
                        if (!running) {
                            return;
                        }
                        Failing next = new Failing(retry == null ? 1 : retry.failures + 1, 0).scheduled();
                        retries.put(key(b), next);
                        LOG.warn("backfill of {}/{} failed {} time(s), retrying it in {} ms (other targets go on): {}",
                            b.tenant(), b.table(), next.failures, next.delayMillis(), e.toString());
                    }
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                if (!running) {
                    return;
                }
                LOG.warn("listing owed backfills failed, retrying: {}", e.toString());
                sleepQuietly(1_000);
            }
        }
    }

    /**
     * A target whose backfill fails is retried on its own backoff (500 ms doubling to 60 s), so a
     * target that cannot be backfilled (its export refused, its documents refused) never holds up
     * another tenant's link, and one that failed for a while (OpenSearch or record-service down)
     * is picked up again on its own.
     */
    private record Failing(int failures, long notBefore) {
        private static final Retry.Backoff BACKOFF = Retry.Backoff.exponential(500, 60_000);

        long delayMillis() {
            return BACKOFF.delayMillis(failures);
        }

        Failing scheduled() {
            return new Failing(failures, System.nanoTime() + delayMillis() * 1_000_000L);
        }
    }

    private final Map<String, Failing> retries = new ConcurrentHashMap<>();

    private static String key(SchemaView.Backfill b) {
        return b.tenant() + "/" + b.table() + "/" + b.generation();
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Reports how far a backfill got, at most every {@link #PROGRESS_EVERY_MS}, and once the total is known. */
    static final long PROGRESS_EVERY_MS = 500;

    private final class Reporter implements RecordExport.Progress {
        private final SchemaView.Backfill b;
        private long lastNanos;
        private boolean totalSent;

        Reporter(SchemaView.Backfill b) {
            this.b = b;
        }

        @Override
        public synchronized void update(long done, long total) {
            long now = System.nanoTime();
            if (totalSent && now - lastNanos < PROGRESS_EVERY_MS * 1_000_000L) {
                return;
            }
            totalSent = total > 0;
            lastNanos = now;
            try {
                db.inTransaction(c -> LinkReports.emitProgress(c, b.tenant(), b.table(), done, total));
            } catch (RuntimeException e) {
                // progress is a courtesy: a failed report never fails the backfill
                LOG.debug("progress report of {}/{} failed: {}", b.tenant(), b.table(), e.toString());
            }
        }
    }

    private void backfill(SchemaView.Backfill b) {
        long t0 = System.nanoTime();
        migrations.ensure();
        long count = export.export(b.shape(), docs -> writes.write(docs, IndexWrites.Versioning.EXTERNAL_GTE),
            new Reporter(b));
        writes.refresh(); // a link is ACTIVE only once its target's documents are searchable
        long ms = Math.max(1, (System.nanoTime() - t0) / 1_000_000);
        boolean current = db.inTransaction(c -> {
            try (PreparedStatement s = c.prepareStatement(
                "UPDATE targets SET state = 'INDEXED', indexed_count = ? "
                    + "WHERE tenant_id = ? AND table_id = ? AND generation = ? AND state = 'BACKFILLING'")) {
                s.setLong(1, count);
                s.setString(2, b.tenant());
                s.setString(3, b.table());
                s.setLong(4, b.generation());
                if (s.executeUpdate() == 0) {
                    return SchemaView.isTarget(c, b.tenant(), b.table());
                }
            }
            int reported = LinkReports.emitOwed(c, b.tenant(), b.table(), count);
            LOG.info("backfilled {}/{}: {} records in {} ms ({} docs/s), {} link(s) reported", b.tenant(), b.table(),
                count, ms, count * 1000 / ms, reported);
            return true;
        });
        if (!current) {
            // The last Link went while we were exporting: remove what this export wrote.
            writes.deleteTable(b.tenant(), b.table());
        }
    }
}
