package io.linkbase.kit.outbox;

import io.linkbase.kit.db.Db;
import io.linkbase.kit.events.Envelopes;
import io.linkbase.kit.grpc.Trace;
import io.linkbase.kit.kafka.KafkaSettings;
import io.micrometer.core.instrument.MeterRegistry;
import io.micronaut.context.annotation.Requires;
import io.micronaut.context.annotation.Value;
import io.micronaut.context.event.ShutdownEvent;
import io.micronaut.context.event.StartupEvent;
import io.micronaut.runtime.event.annotation.EventListener;
import jakarta.inject.Singleton;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.InvalidRecordException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.record.AbstractRecords;
import org.apache.kafka.common.record.CompressionType;
import org.apache.kafka.common.record.RecordBatch;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.sql.DataSource;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * Publishes the outbox to Kafka, at least once, in commit order per key (docs/decisions.md,
 * "Outbox relay").
 *
 * <ul>
 * <li><b>One publisher</b>: each batch runs in one database transaction holding an advisory
 *     lock, so with several instances exactly one publishes at a time. Rows are deleted only
 *     after Kafka acknowledged them, in that transaction: a crash anywhere re-publishes and never
 *     loses.</li>
 * <li><b>Keyset cursors, no dead-row scans</b>: each lane is read with {@code id > cursor}; rows
 *     below the cursor whose transaction was still running when the cursor passed them (late
 *     committers) are watched by xid and published once that transaction completed
 *     ({@link LaneCursor}).</li>
 * <li><b>Lanes</b>: the interactive lane is drained first; then at most one bulk batch; then
 *     the interactive lane again.</li>
 * <li><b>Poison rows are parked</b>: a row Kafka refuses deterministically (larger than the
 *     broker's {@code message.max.bytes}, checked before sending; not an envelope; refused as
 *     invalid) is moved to {@code outbox_parked} in the batch's transaction; the rest flows on.
 *     Any other failure rolls the batch back and retries it with capped exponential backoff on a
 *     new producer, so nothing is lost and nothing of a key overtakes an earlier row.</li>
 * <li><b>Supervised</b>: the relay thread survives everything (Kafka or PostgreSQL down, topic
 *     creation failing) and retries; {@link OutboxRelayHealthIndicator} reports it stuck.</li>
 * </ul>
 */
@Singleton
@Requires(beans = DataSource.class)
@Requires(property = "linkbase.outbox.relay.enabled", notEquals = "false")
public class OutboxRelay {
    private static final Logger LOG = LoggerFactory.getLogger(OutboxRelay.class);
    /** Advisory lock key: one publisher per database. */
    private static final long LOCK_KEY = 0x6c696e6b62617365L; // "linkbase"
    private static final long BACKOFF_MIN_MS = 100;
    private static final long BACKOFF_MAX_MS = 5_000;
    /** Longer than the producer's delivery.timeout.ms (30 s): Kafka answers every send before. */
    private static final Duration ACK_TIMEOUT = Duration.ofSeconds(45);
    private static final int CORRELATION_HEADER = Envelopes.HEADER_NAMES.indexOf(Envelopes.H_CORRELATION_ID);
    private static final String COLUMNS = "id, topic, kafka_key, event_id::text, event_type, envelope, events";

    private final Db db;
    private final KafkaSettings kafka;
    private final Duration pollInterval;
    private final int batchSize;
    private final int bulkBatchSize;
    private final int maxMessageBytes;
    private final Duration stuckAfter;
    private final OutboxStats stats;
    private final Semaphore wakeUp = new Semaphore(0);
    private final AtomicLong published = new AtomicLong();
    private final AtomicLong parkedByThisRelay = new AtomicLong();
    private final Map<Lane, LaneCursor> cursors = new ConcurrentHashMap<>();
    /** Rows Kafka refused deterministically in a batch that had to be rolled back: parked next time. */
    private final Map<Long, String> knownPoison = new ConcurrentHashMap<>();
    private volatile Thread worker;
    private volatile boolean running;
    private volatile CountDownLatch stopping = new CountDownLatch(0);
    private volatile KafkaProducer<byte[], byte[]> producer;
    private volatile long lastProgressNanos = System.nanoTime();
    private volatile String lastError;
    private volatile boolean leader;
    private volatile String activity = "starting";

    public OutboxRelay(Db db, KafkaSettings kafka,
                       @Value("${linkbase.outbox.relay.poll-interval:25ms}") Duration pollInterval,
                       @Value("${linkbase.outbox.relay.batch-size:2000}") int batchSize,
                       @Value("${linkbase.outbox.relay.bulk-batch-size:2000}") int bulkBatchSize,
                       @Value("${linkbase.outbox.relay.max-message-bytes:1048588}") int maxMessageBytes,
                       @Value("${linkbase.outbox.relay.stuck-after:60s}") Duration stuckAfter,
                       @Value("${linkbase.outbox.relay.stats-interval:2s}") Duration statsInterval,
                       MeterRegistry meters) {
        this.db = db;
        this.kafka = kafka;
        this.pollInterval = pollInterval;
        this.batchSize = batchSize;
        this.bulkBatchSize = bulkBatchSize;
        this.maxMessageBytes = maxMessageBytes;
        this.stuckAfter = stuckAfter;
        for (Lane lane : Lane.values()) {
            cursors.put(lane, LaneCursor.start(lane));
        }
        this.stats = new OutboxStats(db, cursors::get, statsInterval, meters);
        meters.gauge("linkbase.outbox.published", published);
    }

    @EventListener
    void onStartup(StartupEvent event) {
        start();
    }

    @EventListener
    void onShutdown(ShutdownEvent event) {
        stop();
    }

    public synchronized void start() {
        if (running) {
            return;
        }
        running = true;
        stopping = new CountDownLatch(1);
        lastProgressNanos = System.nanoTime();
        worker = new Thread(this::run, "outbox-relay");
        worker.setDaemon(true);
        worker.start();
        stats.start();
    }

    /** Stops after the batch in flight (published, deleted and committed, or rolled back). */
    public synchronized void stop() {
        running = false;
        stopping.countDown();
        Thread t = worker;
        if (t != null) {
            wakeUp.release();
            try {
                t.join(20_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        worker = null;
        closeProducer(Duration.ofSeconds(5));
        stats.stop();
    }

    public boolean isRunning() {
        return running;
    }

    /** A hint that something was appended; the relay also polls on its own. */
    public void wakeUp() {
        wakeUp.release();
    }

    /** Unpublished rows of both lanes, as of the last refresh (at most every few seconds). */
    public long backlog() {
        return stats.backlog(Lane.INTERACTIVE) + stats.backlog(Lane.BULK);
    }

    /** Unpublished rows of one lane, as of the last refresh. */
    public long backlog(Lane lane) {
        return stats.backlog(lane);
    }

    /** Rows in {@code outbox_parked}, as of the last refresh. */
    public long parked() {
        return stats.parked();
    }

    /** Events this relay published since it was created. */
    public long publishedCount() {
        return published.get();
    }

    /** Recomputes the backlog, oldest-age and parked figures now (tests, health). */
    public void refreshStats() {
        stats.refreshNow();
    }

    /** Whether the relay works, and if not, why (for {@link OutboxRelayHealthIndicator}). */
    public Health health() {
        Map<String, Object> details = new LinkedHashMap<>();
        for (Lane lane : Lane.values()) {
            details.put("backlog." + lane.tag, stats.backlog(lane));
            details.put("oldestAgeSeconds." + lane.tag, Math.round(stats.oldestAgeSeconds(lane)));
        }
        details.put("parked", stats.parked());
        details.put("publisher", leader);
        details.put("activity", activity);
        long sinceProgress = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - lastProgressNanos);
        details.put("secondsSinceProgress", sinceProgress);
        String error = lastError;
        if (error != null) {
            details.put("lastError", error);
        }
        Thread t = worker;
        if (!running || t == null) {
            return new Health(false, "the outbox relay is not running", details);
        }
        if (!t.isAlive()) {
            return new Health(false, "the outbox relay thread died", details);
        }
        if (sinceProgress > stuckAfter.toSeconds()) {
            double oldest = Math.max(stats.oldestAgeSeconds(Lane.INTERACTIVE), stats.oldestAgeSeconds(Lane.BULK));
            String statsError = stats.staleReason(stuckAfter);
            if (statsError != null) {
                return new Health(false, "no progress for " + sinceProgress + " s and the outbox cannot be counted ("
                    + statsError + ")" + (error == null ? "" : "; last error: " + error), details);
            }
            if (oldest > stuckAfter.toSeconds()) {
                return new Health(false, "no progress for " + sinceProgress + " s while the oldest unpublished row is "
                    + Math.round(oldest) + " s old" + (error == null ? "" : "; last error: " + error), details);
            }
        }
        return new Health(true, null, details);
    }

    /** The relay's health: {@code reason} says why it is down. */
    public record Health(boolean up, String reason, Map<String, Object> details) {
    }

    // ------------------------------------------------------------------ the loop

    private void run() {
        long backoff = BACKOFF_MIN_MS;
        while (running) {
            try {
                activity = "creating the Kafka topics";
                kafka.ensureTopics();
                activity = "publishing";
                ensureProducer();
                Batch interactive = batch(Lane.INTERACTIVE, batchSize);
                Batch bulk = interactive.leader && !interactive.full ? batch(Lane.BULK, bulkBatchSize) : Batch.SKIPPED;
                leader = interactive.leader;
                lastProgressNanos = System.nanoTime();
                lastError = null;
                backoff = BACKOFF_MIN_MS;
                if (!interactive.full && !bulk.full) {
                    wakeUp.tryAcquire(pollInterval.toMillis(), TimeUnit.MILLISECONDS);
                    wakeUp.drainPermits();
                }
            } catch (InterruptedException e) {
                if (!running) {
                    return;
                }
                Thread.interrupted(); // only stop() ends the relay
            } catch (Throwable e) {
                if (!running) {
                    return;
                }
                if (e instanceof VirtualMachineError && !(e instanceof OutOfMemoryError)) {
                    LOG.error("outbox relay: {}", e.toString(), e);
                }
                lastError = describe(e);
                activity = "waiting to retry";
                closeProducer(Duration.ZERO);
                LOG.warn("outbox relay: {}; retrying in {} ms", lastError, backoff);
                try {
                    stopping.await(backoff, TimeUnit.MILLISECONDS);
                } catch (InterruptedException ie) {
                    Thread.interrupted();
                }
                backoff = Math.min(BACKOFF_MAX_MS, backoff * 2);
            }
        }
    }

    private record Batch(boolean leader, boolean full) {
        static final Batch SKIPPED = new Batch(true, false);
        static final Batch NOT_LEADER = new Batch(false, false);
    }

    /** An outbox row: one event, or a pack of {@code events} (kit V0_5, {@link Packs}). */
    private record Row(long id, String topic, String key, String eventId, String eventType, byte[] envelope, int events) {
    }

    /** What one transaction did, applied to the in-memory state only after it committed. */
    private record Done(LaneCursor next, long published, List<Parked> parked, boolean resetProducer, boolean full) {
    }

    private record Parked(Row row, String reason) {
    }

    /**
     * One batch of one lane in one transaction: lock, read the watched late committers that
     * completed, then (unless those filled the batch) the next rows after the cursor; publish;
     * park the refused rows and delete the published ones; commit.
     */
    private Batch batch(Lane lane, int limit) {
        LaneCursor at = cursors.get(lane);
        Done done = db.inTransaction(c -> {
            PgSnapshot before;
            try (PreparedStatement lock = c.prepareStatement(
                "SELECT pg_try_advisory_xact_lock(?), pg_current_snapshot()::text")) {
                lock.setLong(1, LOCK_KEY);
                try (ResultSet rs = lock.executeQuery()) {
                    rs.next();
                    if (!rs.getBoolean(1)) {
                        return null; // another instance is publishing
                    }
                    before = PgSnapshot.parse(rs.getString(2));
                }
            }
            // No statement before the cursor read may take an xid (see readCursor).
            Set<Long> completed = at.completedIn(before);
            List<Row> rows = new ArrayList<>();
            boolean watchedFull = false;
            if (!completed.isEmpty()) {
                watchedFull = readWatched(c, lane, completed, at.cursor, limit, rows);
            }
            long newCursor = at.cursor;
            PgSnapshot snapshot = null;
            long bound = 0;
            boolean cursorFull = false;
            // Rows below the cursor come first: a late committer's rows precede later rows of its keys.
            if (!watchedFull) {
                int from = rows.size();
                String[] snap = new String[2];
                readCursor(c, lane, at.cursor, limit, rows, snap);
                if (rows.size() > from) {
                    newCursor = rows.get(rows.size() - 1).id;
                    snapshot = PgSnapshot.parse(snap[0]);
                    bound = Long.parseLong(snap[1]);
                    cursorFull = rows.size() - from >= limit || events(rows.subList(from, rows.size())) >= limit;
                }
            }
            LaneCursor next = at.advance(watchedFull ? Set.of() : completed, newCursor, snapshot, bound);
            if (rows.isEmpty()) {
                return new Done(next, 0, List.of(), false, false);
            }
            Outcome outcome = publish(rows);
            park(c, outcome.parked);
            delete(c, outcome.published);
            return new Done(next, outcome.events, outcome.parked, outcome.resetProducer,
                watchedFull || cursorFull);
        });
        if (done == null) {
            return Batch.NOT_LEADER;
        }
        cursors.put(lane, done.next);
        published.addAndGet(done.published);
        for (Parked p : done.parked) {
            knownPoison.remove(p.row.id);
            parkedByThisRelay.incrementAndGet();
            LOG.warn("outbox relay parked event {} ({}, tenant {}, topic {}, outbox id {}): {}", p.row.eventId,
                p.row.eventType, tenantOf(p.row.key), p.row.topic, p.row.id, p.reason);
        }
        if (!done.parked.isEmpty()) {
            stats.refreshSoon();
        }
        if (done.resetProducer) {
            closeProducer(Duration.ofSeconds(5));
        }
        return new Batch(true, done.full);
    }

    /**
     * The rows of watched transactions that completed, below the cursor, in id order, at most
     * {@code limit}; true when there may be more. One query per transaction (there are few), so
     * that equality on (lane, tx) gives both the rows and their id order from the index
     * {@code (lane, tx, id)}: with {@code tx = ANY(...)} and {@code ORDER BY id LIMIT}, the planner
     * may walk {@code (lane, id)} from the head instead — over every dead row below the cursor.
     */
    private static boolean readWatched(Connection c, Lane lane, Collection<Long> xids, long cursor, int limit,
                                       List<Row> into) throws SQLException {
        List<Row> found = new ArrayList<>();
        boolean more = false;
        try (PreparedStatement select = c.prepareStatement(upToEvents(COLUMNS,
            "FROM outbox WHERE lane = ? AND tx = ?::xid8 AND id <= ?"))) {
            binaryResults(select);
            for (long xid : xids) {
                select.setInt(1, lane.code);
                select.setObject(2, Long.toString(xid), Types.OTHER);
                select.setLong(3, cursor);
                select.setInt(4, limit);
                select.setInt(5, limit);
                List<Row> ofTx = new ArrayList<>();
                try (ResultSet rs = select.executeQuery()) {
                    while (rs.next()) {
                        ofTx.add(row(rs));
                    }
                }
                more |= ofTx.size() >= limit || events(ofTx) >= limit;
                found.addAll(ofTx);
            }
        }
        found.sort(java.util.Comparator.comparingLong(Row::id));
        int keep = 0;
        for (long events = 0; keep < found.size() && keep < limit && events < limit; keep++) {
            events += found.get(keep).events;
        }
        if (keep < found.size()) {
            found = found.subList(0, keep);
            more = true;
        }
        into.addAll(found);
        return more;
    }

    /**
     * The next rows after the cursor, with the statement's snapshot and an xid taken after it
     * (this transaction's own, assigned here: nothing before this statement wrote), which
     * bounds every xid that existed when the snapshot was taken.
     */
    private static void readCursor(Connection c, Lane lane, long cursor, int limit, List<Row> into,
                                   String[] snapshotAndBound) throws SQLException {
        try (PreparedStatement select = c.prepareStatement(upToEvents(COLUMNS
            + ", (SELECT pg_current_snapshot()::text) AS snapshot, (SELECT pg_current_xact_id()::text) AS bound",
            "FROM outbox WHERE lane = ? AND id > ?"))) {
            binaryResults(select);
            select.setInt(1, lane.code);
            select.setLong(2, cursor);
            select.setInt(3, limit);
            select.setInt(4, limit);
            try (ResultSet rs = select.executeQuery()) {
                while (rs.next()) {
                    into.add(row(rs));
                    snapshotAndBound[0] = rs.getString(8);
                    snapshotAndBound[1] = rs.getString(9);
                }
            }
        }
    }

    /**
     * The first rows, in id order, at most {@code limit} (the first parameter after the
     * conditions') and only as many as hold {@code limit} events (the second): a pack holds up to
     * 500. The envelopes of the rows left out are never read (they stay TOASTed pointers).
     */
    private static String upToEvents(String columns, String fromWhere) {
        return "SELECT * FROM (SELECT " + columns + ", sum(events) OVER (ORDER BY id ROWS UNBOUNDED PRECEDING) AS upto " + fromWhere
            + " ORDER BY id LIMIT ?) first WHERE upto - events < ? ORDER BY id";
    }

    private static long events(List<Row> rows) {
        long n = 0;
        for (Row r : rows) {
            n += r.events;
        }
        return n;
    }

    /**
     * The envelopes come as their bytes, not as hex text: the driver asks for binary results only
     * for a statement it prepared on the server, which it otherwise does from a statement's fifth
     * use on a connection, and never where a service turned that off (record-service does:
     * its tables change type under it). Hex doubled every envelope, encoded by PostgreSQL and
     * decoded here; during a million-row import the relay fell behind by 700,000 rows.
     */
    private static void binaryResults(PreparedStatement select) throws SQLException {
        select.unwrap(org.postgresql.PGStatement.class).setPrepareThreshold(-1);
    }

    private static Row row(ResultSet rs) throws SQLException {
        return new Row(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5), rs.getBytes(6),
            rs.getInt(7));
    }

    private static void park(Connection c, List<Parked> parked) throws SQLException {
        if (parked.isEmpty()) {
            return;
        }
        try (PreparedStatement move = c.prepareStatement(
            "WITH moved AS (DELETE FROM outbox WHERE id = ? "
                + "RETURNING id, topic, kafka_key, event_id, event_type, envelope, events, created_at) "
                + "INSERT INTO outbox_parked (id, topic, kafka_key, event_id, event_type, envelope, events, reason, created_at) "
                + "SELECT id, topic, kafka_key, event_id, event_type, envelope, events, ?, created_at FROM moved")) {
            for (Parked p : parked) {
                move.setLong(1, p.row.id);
                move.setString(2, p.reason);
                move.addBatch();
            }
            move.executeBatch();
        }
    }

    private static void delete(Connection c, List<Long> ids) throws SQLException {
        if (ids.isEmpty()) {
            return;
        }
        try (PreparedStatement delete = c.prepareStatement("DELETE FROM outbox WHERE id = ANY (?)")) {
            delete.setArray(1, c.createArrayOf("bigint", ids.toArray()));
            delete.executeUpdate();
        }
    }

    // ------------------------------------------------------------------ Kafka

    private record Outcome(List<Long> published, long events, List<Parked> parked, boolean resetProducer) {
    }

    /** A failure that is not the row's fault: the whole batch is rolled back and retried. */
    static final class TransientPublishFailure extends RuntimeException {
        TransientPublishFailure(String message, Throwable cause) {
            super(message + ": " + cause, cause);
        }
    }

    /**
     * Sends the rows' events in order and waits for every acknowledgement. Rows that cannot be
     * sent at all are never sent; rows Kafka refused deterministically are returned to be parked;
     * any other failure throws (the caller rolls back, so the acknowledged rows are sent again:
     * consumers are idempotent). A pack is parked or published whole: its events share a topic
     * and key, so what Kafka refuses of one it refuses of all (and an event too large for Kafka
     * is never packed, {@link OutboxRows}).
     */
    private Outcome publish(List<Row> rows) {
        KafkaProducer<byte[], byte[]> p = producer;
        int n = rows.size();
        AtomicReferenceArray<Exception> failures = new AtomicReferenceArray<>(n);
        AtomicReference<Exception> firstTransient = new AtomicReference<>();
        Semaphore acked = new Semaphore(0);
        int sent = 0;
        String[] parkReason = new String[n];
        for (int i = 0; i < n && firstTransient.get() == null; i++) {
            Row row = rows.get(i);
            String poison = knownPoison.get(row.id);
            if (poison != null) {
                parkReason[i] = poison;
                continue;
            }
            List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>(row.events);
            try {
                List<byte[]> envelopes = Packs.envelopes(row.envelope, row.events);
                byte[] key = row.key.getBytes(StandardCharsets.UTF_8);
                for (int e = 0; e < envelopes.size() && parkReason[i] == null; e++) {
                    ProducerRecord<byte[], byte[]> record = record(row.topic, key, envelopes.get(e));
                    int upperBound = lz4UpperBound(AbstractRecords.estimateSizeInBytesUpperBound(RecordBatch.CURRENT_MAGIC_VALUE,
                        CompressionType.LZ4, record.key(), record.value(), record.headers().toArray()));
                    if (upperBound > maxMessageBytes) {
                        parkReason[i] = "too large for Kafka: " + upperBound + " bytes as a record batch (envelope "
                            + record.value().length + " bytes" + (row.events > 1 ? ", event " + e + " of a pack of " + row.events : "")
                            + "), the limit is " + maxMessageBytes + " (message.max.bytes, linkbase.outbox.relay.max-message-bytes)";
                    }
                    records.add(record);
                }
            } catch (IllegalArgumentException e) {
                parkReason[i] = "the envelope cannot be parsed: " + e.getMessage();
            }
            if (parkReason[i] != null) {
                continue;
            }
            int index = i;
            for (ProducerRecord<byte[], byte[]> record : records) {
                try {
                    p.send(record, (metadata, e) -> {
                        if (e != null) {
                            failures.compareAndSet(index, null, e);
                            if (!deterministic(e)) {
                                firstTransient.compareAndSet(null, e);
                            }
                        }
                        acked.release();
                    });
                    sent++;
                } catch (RuntimeException e) {
                    firstTransient.compareAndSet(null, e);
                    break;
                }
            }
        }
        // Not flush(): it has no timeout, and a producer that never completes a batch (e.g. a
        // topic whose max.message.bytes is below batch.size makes it split forever) must not
        // hang the relay. The batches go out after linger.ms anyway.
        try {
            if (!acked.tryAcquire(sent, ACK_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new TransientPublishFailure("Kafka did not acknowledge the outbox batch",
                    new java.util.concurrent.TimeoutException("no acknowledgement within " + ACK_TIMEOUT.toSeconds() + " s"));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TransientPublishFailure("interrupted while waiting for Kafka", e);
        }
        boolean refused = false;
        for (int i = 0; i < n; i++) {
            Exception e = failures.get(i);
            if (e != null && deterministic(e)) {
                parkReason[i] = "refused by Kafka: " + e;
                refused = true;
            }
        }
        Exception failure = firstTransient.get();
        if (failure != null) {
            for (int i = 0; i < n; i++) {
                if (parkReason[i] != null) {
                    knownPoison.put(rows.get(i).id, parkReason[i]);
                }
            }
            throw new TransientPublishFailure("Kafka did not acknowledge the outbox batch", failure);
        }
        List<Long> ok = new ArrayList<>(n);
        long events = 0;
        List<Parked> parked = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (parkReason[i] == null) {
                ok.add(rows.get(i).id);
                events += rows.get(i).events;
            } else {
                parked.add(new Parked(rows.get(i), parkReason[i]));
            }
        }
        // A refusal after sending may leave the idempotent producer's sequence state behind: start afresh.
        return new Outcome(ok, events, parked, refused);
    }

    private static ProducerRecord<byte[], byte[]> record(String topic, byte[] key, byte[] envelope) {
        byte[][] values = Envelopes.headerValues(envelope);
        List<Header> headers = new ArrayList<>(values.length + 1);
        for (int i = 0; i < values.length; i++) {
            headers.add(new RecordHeader(Envelopes.HEADER_NAMES.get(i), values[i]));
        }
        byte[] traceparent = Trace.traceparentBytes(values[CORRELATION_HEADER]);
        if (traceparent != null) {
            headers.add(new RecordHeader(Trace.KAFKA_HEADER, traceparent));
        }
        return new ProducerRecord<>(topic, null, key, envelope, headers);
    }

    /** LZ4 can grow incompressible data slightly: the broker checks the compressed batch. */
    static int lz4UpperBound(int size) {
        return size + size / 255 + 64;
    }

    /** Failures that would repeat for this row forever: parking reasons. */
    static boolean deterministic(Throwable e) {
        return e instanceof RecordTooLargeException
            || e instanceof RecordBatchTooLargeException
            || e instanceof InvalidRecordException
            || e instanceof InvalidTopicException
            || e instanceof SerializationException;
    }

    private void ensureProducer() {
        if (producer == null) {
            producer = new KafkaProducer<>(producerProperties());
        }
    }

    private void closeProducer(Duration timeout) {
        KafkaProducer<byte[], byte[]> p = producer;
        producer = null;
        if (p != null) {
            try {
                p.close(timeout);
            } catch (RuntimeException e) {
                LOG.debug("closing the outbox producer: {}", e.toString());
            }
        }
    }

    /**
     * Throughput settings (docs/benchmarks.md, "Outbox relay"): records are batched per
     * partition (256 KB, 5 ms linger) and LZ4-compressed; {@code max.request.size} equals the
     * broker's {@code message.max.bytes} (Kafka's default, 1048588, on every broker we run).
     */
    Properties producerProperties() {
        Properties p = kafka.common();
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "5");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(256 * 1024));
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(maxMessageBytes));
        p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, Long.toString(64L * 1024 * 1024));
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "5000");
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "15000");
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "30000");
        return p;
    }

    private static String tenantOf(String kafkaKey) {
        int slash = kafkaKey.indexOf('/');
        return slash < 0 ? kafkaKey : kafkaKey.substring(0, slash);
    }

    private static String describe(Throwable e) {
        StringBuilder s = new StringBuilder(e.toString());
        Throwable cause = e.getCause();
        for (int depth = 0; cause != null && depth < 3; depth++, cause = cause.getCause()) {
            s.append(" <- ").append(cause);
        }
        return s.toString();
    }

    /** For tests: the lane cursors as they are now. */
    Map<Lane, LaneCursor> cursors() {
        return new EnumMap<>(cursors);
    }
}
