package io.linkbase.record.reconcile;

import io.linkbase.kit.db.Db;
import io.linkbase.kit.events.Envelopes;
import io.linkbase.kit.events.Topics;
import io.linkbase.kit.outbox.Outbox;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.events.v1.LinkProgressed;
import io.linkbase.proto.v1.LinkState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * How far a link's reconciliation got, reported as LinkProgressed (RECONCILING) when it starts and
 * then every {@link #EVERY_MS} until it ends, from a thread and a transaction of its own (so a
 * report is published while a long statement of the reconciliation runs, and never holds a lock
 * the reconciliation waits for).
 *
 * <p>The unit is a row visited by one of the reconciliation's passes over the linking table:
 * {@code total} = rows × passes, where the passes are, when the column changes type, clearing
 * what never converts (in steps), converting the column (one statement) — then always clearing
 * what matches no target (in steps) and validating the foreign key (one statement). A stepped
 * pass adds each step's rows as it commits; a one-statement pass adds the table's rows when it
 * commits. Rows are counted once, at the start: {@code done} never exceeds a pass's share (rows
 * written meanwhile are reconciled, not counted), and a pass that ends with fewer rows (rows
 * deleted meanwhile) still ends at its share, so {@code done} only grows and ends at {@code total}.
 * A courtesy: a failed report changes nothing.
 */
final class ReconcileProgress implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReconcileProgress.class);
    /** At least one report a second reaches schema-service with the relay in between. */
    static final long EVERY_MS = 500;

    private final Db db;
    private final EventEnvelope linked;
    private final long rows;
    private final int passes;
    private final ScheduledExecutorService timer;
    private int passesDone;
    private long inPass;

    private ReconcileProgress(Db db, EventEnvelope linked, long rows, int passes, int passesDone) {
        this.db = db;
        this.linked = linked;
        this.rows = rows;
        this.passes = passes;
        this.passesDone = passesDone;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "reconcile-progress");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Counts the linking table's rows (in a transaction of its own: joined to the consumer's, the
     * count's lock on the table would be held until the link's end and the locked step would wait
     * for it for ever), reports done = the passes a previous delivery finished, and reports again
     * every {@link #EVERY_MS} until closed.
     */
    static ReconcileProgress start(Db db, EventEnvelope linked, String qualifiedTable, int passes, int passesDone) {
        long rows;
        try {
            rows = db.inNewTransaction(n -> {
                try (java.sql.Statement s = n.createStatement();
                     java.sql.ResultSet rs = s.executeQuery("SELECT count(*) FROM " + qualifiedTable)) {
                    rs.next();
                    return rs.getLong(1);
                }
            });
        } catch (RuntimeException e) {
            LOG.debug("rows of {} not counted for progress: {}", qualifiedTable, e.toString());
            rows = 0;
        }
        ReconcileProgress p = new ReconcileProgress(db, linked, rows, passes, passesDone);
        p.timer.scheduleWithFixedDelay(p::report, 0, EVERY_MS, TimeUnit.MILLISECONDS);
        return p;
    }

    /** A step of a stepped pass committed, having visited {@code stepRows} rows. */
    synchronized void stepped(long stepRows) {
        inPass = Math.min(rows, inPass + stepRows);
    }

    /** The current pass committed (all of it). */
    synchronized void passDone() {
        passesDone = Math.min(passes, passesDone + 1);
        inPass = 0;
    }

    synchronized long done() {
        return passesDone * rows + inPass;
    }

    long total() {
        return passes * rows;
    }

    private void report() {
        try {
            long done = done();
            Instant now = Instant.now();
            db.inNewTransaction(n -> {
                Outbox.append(n, Topics.RECORDS, Envelopes.seal(EventEnvelope.newBuilder().setLinkProgressed(
                        LinkProgressed.newBuilder().setTableId(linked.getAggregateId())
                            .setColumnId(linked.getColumnLinked().getColumnId()).setLinkVersion(linked.getAggregateVersion())
                            .setPhase(LinkState.RECONCILING).setDone(done).setTotal(total())),
                    linked.getTenantId(), "progress:" + linked.getAggregateId(), now.toEpochMilli(),
                    linked.getCorrelationId(), linked.getEventId(), now));
                return null;
            });
        } catch (RuntimeException e) {
            LOG.debug("reconcile progress of {} not reported: {}", linked.getAggregateId(), e.toString());
        }
    }

    /** Stops the reports (LinkReconciled, in the consumer's transaction, ends the phase). */
    @Override
    public void close() {
        timer.shutdownNow();
        try {
            timer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
