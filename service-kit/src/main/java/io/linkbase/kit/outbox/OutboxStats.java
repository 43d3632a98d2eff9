package io.linkbase.kit.outbox;

import io.linkbase.kit.db.Db;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Types;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * The outbox figures that tell the truth, refreshed on a thread of their own (never by the
 * relay's batches): {@code linkbase.outbox.backlog} and {@code linkbase.outbox.oldest.age}
 * (seconds) per lane, {@code linkbase.outbox.parked}. Counting is O(backlog): a lane's
 * unpublished rows are exactly those after its cursor plus those of its watched transactions
 * ({@link LaneCursor}'s invariant), so dead rows before the cursor are never walked. A refresh
 * runs every {@code linkbase.outbox.relay.stats-interval} (2 s), or less often when counting
 * takes long (at most ~10% of one core).
 */
final class OutboxStats {
    private static final Logger LOG = LoggerFactory.getLogger(OutboxStats.class);

    private final Db db;
    private final Function<Lane, LaneCursor> cursors;
    private final Duration interval;
    private final Map<Lane, Long> backlog = new EnumMap<>(Lane.class);
    private final Map<Lane, Double> oldestAge = new EnumMap<>(Lane.class);
    private final Semaphore soon = new Semaphore(0);
    private volatile long parked;
    private volatile long lastOkNanos = System.nanoTime();
    private volatile String lastError;
    private volatile boolean running;
    private volatile Thread thread;

    OutboxStats(Db db, Function<Lane, LaneCursor> cursors, Duration interval, MeterRegistry meters) {
        this.db = db;
        this.cursors = cursors;
        this.interval = interval;
        for (Lane lane : Lane.values()) {
            backlog.put(lane, 0L);
            oldestAge.put(lane, 0.0);
            Gauge.builder("linkbase.outbox.backlog", this, s -> s.backlog(lane))
                .description("outbox rows not yet published").tag("lane", lane.tag).register(meters);
            Gauge.builder("linkbase.outbox.oldest.age", this, s -> s.oldestAgeSeconds(lane))
                .description("age of the oldest unpublished outbox row").baseUnit("seconds").tag("lane", lane.tag)
                .register(meters);
        }
        Gauge.builder("linkbase.outbox.parked", this, OutboxStats::parked)
            .description("outbox rows Kafka refused, parked in outbox_parked").register(meters);
    }

    synchronized long backlog(Lane lane) {
        return backlog.get(lane);
    }

    synchronized double oldestAgeSeconds(Lane lane) {
        return oldestAge.get(lane);
    }

    long parked() {
        return parked;
    }

    /** Why the figures are older than {@code stale} (null when they are fresh). */
    String staleReason(Duration stale) {
        long age = System.nanoTime() - lastOkNanos;
        if (age <= stale.toNanos() + 2 * interval.toNanos()) {
            return null;
        }
        String e = lastError;
        return "last counted " + TimeUnit.NANOSECONDS.toSeconds(age) + " s ago" + (e == null ? "" : ": " + e);
    }

    synchronized void start() {
        if (running) {
            return;
        }
        running = true;
        lastOkNanos = System.nanoTime();
        thread = new Thread(this::run, "outbox-stats");
        thread.setDaemon(true);
        thread.start();
    }

    synchronized void stop() {
        running = false;
        Thread t = thread;
        soon.release();
        if (t != null) {
            try {
                t.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        thread = null;
    }

    void refreshSoon() {
        soon.release();
    }

    private void run() {
        long wait = 0;
        while (running) {
            try {
                soon.tryAcquire(wait, TimeUnit.MILLISECONDS);
                soon.drainPermits();
                if (!running) {
                    return;
                }
                long t0 = System.nanoTime();
                refreshNow();
                long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
                wait = Math.max(interval.toMillis(), 10 * took);
            } catch (InterruptedException e) {
                Thread.interrupted();
            } catch (RuntimeException e) {
                lastError = e.toString();
                LOG.debug("counting the outbox: {}", e.toString());
                wait = interval.toMillis();
            }
        }
    }

    /** Counts now, on the caller's thread. */
    void refreshNow() {
        Map<Lane, long[]> counts = new EnumMap<>(Lane.class);
        Map<Lane, Double> ages = new EnumMap<>(Lane.class);
        long parkedRows = db.read(c -> {
            for (Lane lane : Lane.values()) {
                LaneCursor at = cursors.apply(lane);
                StringBuilder xids = new StringBuilder("{");
                for (long xid : at.watched) {
                    xids.append(xids.length() > 1 ? "," : "").append(xid);
                }
                try (PreparedStatement s = c.prepareStatement(
                    "SELECT COALESCE(sum(events), 0), COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - min(created_at)), 0)::float8"
                        + " FROM outbox WHERE lane = ? AND (id > ? OR tx = ANY (?::xid8[]))")) {
                    s.setInt(1, lane.code);
                    s.setLong(2, at.cursor);
                    s.setObject(3, xids.append('}').toString(), Types.OTHER);
                    try (ResultSet rs = s.executeQuery()) {
                        rs.next();
                        counts.put(lane, new long[] {rs.getLong(1)});
                        ages.put(lane, Math.max(0, rs.getDouble(2)));
                    }
                }
            }
            try (PreparedStatement s = c.prepareStatement("SELECT COALESCE(sum(events), 0) FROM outbox_parked");
                 ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        });
        synchronized (this) {
            for (Lane lane : Lane.values()) {
                backlog.put(lane, counts.get(lane)[0]);
                oldestAge.put(lane, ages.get(lane));
            }
        }
        parked = parkedRows;
        lastOkNanos = System.nanoTime();
        lastError = null;
    }
}
