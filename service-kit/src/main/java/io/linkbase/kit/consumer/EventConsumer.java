package io.linkbase.kit.consumer;

import io.linkbase.kit.db.Db;
import io.linkbase.kit.events.Envelopes;
import io.linkbase.kit.kafka.KafkaSettings;
import io.linkbase.kit.parking.ParkedEvents;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

/**
 * A supervised Kafka consumer of enveloped events, in one of three modes:
 * <ul>
 *   <li>{@link Mode#ORDERED} (the Eventuate pattern, by aggregate version): each event is applied
 *   in one database transaction together with the consumer's applied version for its
 *   aggregate. A redelivered event is a no-op; an event whose predecessor has not been applied
 *   (a gap) is held until its predecessor is, and offsets are never committed past it.</li>
 *   <li>{@link Mode#UNORDERED}: for events whose effect is idempotent by itself (e.g. an update
 *   keyed by a version in the event): one transaction per event, no applied-versions check, so
 *   a stream filtered by event type (which has gaps by design) never waits.</li>
 *   <li>{@link Mode#BATCH}: a whole poll goes to a {@link BatchHandler} at once, outside any
 *   transaction (documents with external versioning).</li>
 * </ul>
 * Offsets are committed only after the effect, so a crash re-delivers, never loses. An event
 * that fails deterministically is retried (its partition paused for a capped backoff while the
 * others flow) until it has failed {@code linkbase.consumers.max-attempts} times over at least
 * {@code linkbase.consumers.park-after}, then parked in {@code parked_events} with its reason
 * (and, in ordered mode, recorded as applied so its aggregate's successors go on); transient
 * failures (a server down, a deadlock) are retried for as long as they last and never park. An optional event-type
 * filter skips unwanted events by their Kafka header before any parsing or database work.
 * The loop is supervised: Kafka down at start, a broker or database restart, a rebalance or
 * any unexpected exception restart it after a capped backoff; its state is reported to
 * {@link #status()} for the health check.
 */
public final class EventConsumer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EventConsumer.class);

    public enum Mode { ORDERED, UNORDERED, BATCH }

    private final String name;
    private final List<String> topics;
    private final Db db;
    private final Mode mode;
    private final EventHandler handler;
    private final BatchHandler batchHandler;
    private final Set<String> eventTypes;
    private final java.util.function.Function<Set<String>, Set<String>> keysWanted;
    private final Predicate<Throwable> transientWhen;
    private final Preparation preparation;
    private final KafkaSettings kafka;
    private final int maxPollRecords;
    private final int maxAttempts;
    private final long maxBackoffMs;
    private final long parkAfterNanos;
    private final long waitLimitNanos;

    private final AtomicLong lag = new AtomicLong();
    private final Map<TopicPartition, AtomicLong> partitionLag = new ConcurrentHashMap<>();
    private final AtomicLong parked = new AtomicLong();
    /** Deterministic failures so far, per event id (cleared when the event is applied or parked). */
    private final Map<String, Attempts> attempts = new HashMap<>();
    /** Partitions paused after a failure, until when (System.nanoTime()), and their backoff (ms). */
    private final Map<TopicPartition, Long> pausedUntil = new HashMap<>();
    private final Map<TopicPartition, Long> partitionBackoff = new HashMap<>();
    private final Map<TopicPartition, Instant> partitionFailingSince = new ConcurrentHashMap<>();
    // Events that arrived before their predecessor, per partition and aggregate (ordered mode).
    private final Map<TopicPartition, Map<String, TreeMap<Long, ConsumerRecord<String, byte[]>>>> pending =
        new ConcurrentHashMap<>();

    private volatile boolean running;
    private volatile KafkaConsumer<String, byte[]> consumer;
    private volatile Thread thread;
    private volatile Instant lastProgress = Instant.now();
    private volatile Instant failingSince;
    private volatile String lastError;
    private volatile long restarts;
    private volatile Instant attemptStart;
    private long loopBackoff;
    private long parkedCountedAt;
    private boolean metersRegistered;

    /**
     * An ordered consumer of every event of {@code topics}.
     *
     * @param name the consumer's identity: its Kafka group id and its key in applied_versions
     */
    public EventConsumer(String name, List<String> topics, KafkaSettings kafka, Db db, EventHandler handler) {
        this(builder(name, kafka, db).topics(topics).ordered(handler));
    }

    private EventConsumer(Builder b) {
        this.name = b.name;
        this.topics = List.copyOf(b.topics);
        this.kafka = b.kafka;
        this.db = b.db;
        this.mode = b.mode;
        this.handler = b.handler;
        this.batchHandler = b.batchHandler;
        this.eventTypes = b.eventTypes == null ? null : Set.copyOf(b.eventTypes);
        this.keysWanted = b.keysWanted;
        this.transientWhen = b.transientWhen;
        this.preparation = b.preparation;
        this.maxPollRecords = b.maxPollRecords > 0 ? b.maxPollRecords
            : mode == Mode.ORDERED ? KafkaSettings.ORDERED_MAX_POLL_RECORDS : mode == Mode.BATCH ? 2_000 : 500;
        this.maxAttempts = b.maxAttempts > 0 ? b.maxAttempts : kafka.consumerMaxAttempts();
        this.maxBackoffMs = Math.max(10, kafka.consumerMaxBackoff().toMillis());
        this.parkAfterNanos = kafka.consumerParkAfter().toNanos();
        this.waitLimitNanos = kafka.consumerWaitLimit().toNanos();
        if ((mode == Mode.BATCH) != (batchHandler != null) || (mode != Mode.BATCH && handler == null)) {
            throw new IllegalArgumentException("consumer " + name + ": a handler for mode " + mode + " is needed");
        }
        if (keysWanted != null && mode != Mode.BATCH) {
            throw new IllegalArgumentException("consumer " + name + ": keysWanted is for batch consumers");
        }
    }

    public static Builder builder(String name, KafkaSettings kafka, Db db) {
        return new Builder(name, kafka, db);
    }

    /** What a consumer needs done before it polls (e.g. the index it writes to created). */
    @FunctionalInterface
    public interface Preparation {
        void run() throws Exception;
    }

    /** How a consumer is made: its topics, mode and handler, an optional event-type filter. */
    public static final class Builder {
        private final String name;
        private final KafkaSettings kafka;
        private final Db db;
        private List<String> topics = List.of();
        private Mode mode;
        private EventHandler handler;
        private BatchHandler batchHandler;
        private Set<String> eventTypes;
        private java.util.function.Function<Set<String>, Set<String>> keysWanted;
        private Predicate<Throwable> transientWhen;
        private Preparation preparation;
        private int maxPollRecords;
        private int maxAttempts;

        private Builder(String name, KafkaSettings kafka, Db db) {
            this.name = name;
            this.kafka = kafka;
            this.db = db;
        }

        public Builder topics(List<String> topics) {
            this.topics = topics;
            return this;
        }

        public Builder topics(String... topics) {
            return topics(List.of(topics));
        }

        /** Exactly once, in aggregate-version order (applied_versions). */
        public Builder ordered(EventHandler handler) {
            this.mode = Mode.ORDERED;
            this.handler = handler;
            return this;
        }

        /** One transaction per event, no version bookkeeping: the handler must be idempotent. */
        public Builder unordered(EventHandler handler) {
            this.mode = Mode.UNORDERED;
            this.handler = handler;
            return this;
        }

        /** A poll at a time, outside transactions: the handler must be idempotent. */
        public Builder batch(BatchHandler handler) {
            this.mode = Mode.BATCH;
            this.batchHandler = handler;
            return this;
        }

        /**
         * Batch mode: before any event of a poll is parsed, {@code filter} gets the distinct Kafka
         * keys of the poll and returns those whose events the handler wants; the others are
         * skipped unparsed (search-service skips a million-row import of a table nothing links
         * to this way). The filter must not skip what the handler would act on; if it throws, the
         * poll is read again after a backoff, like a transient failure of the handler.
         */
        public Builder keysWanted(java.util.function.Function<Set<String>, Set<String>> filter) {
            this.keysWanted = filter;
            return this;
        }

        /** Only these event types reach the handler; the rest are skipped by their header, unparsed. */
        public Builder eventTypes(Set<String> types) {
            this.eventTypes = types;
            return this;
        }

        /** Failures the kit cannot judge by itself that are transient (e.g. a search engine's 503). */
        public Builder transientWhen(Predicate<Throwable> test) {
            this.transientWhen = test;
            return this;
        }

        /**
         * A step run by the supervised loop before each (re)start of polling, e.g. creating the
         * index the handler writes to: a server down at start makes it fail and be retried with
         * the loop's capped backoff (health DOWN with the reason meanwhile), never kill the
         * service's startup or end the consumer. Must be idempotent.
         */
        public Builder prepare(Preparation step) {
            this.preparation = step;
            return this;
        }

        public Builder maxPollRecords(int records) {
            this.maxPollRecords = records;
            return this;
        }

        public Builder maxAttempts(int attempts) {
            this.maxAttempts = attempts;
            return this;
        }

        public EventConsumer build() {
            return new EventConsumer(this);
        }
    }

    public String name() {
        return name;
    }

    public Mode mode() {
        return mode;
    }

    public List<String> topics() {
        return topics;
    }

    public synchronized void start() {
        if (running) {
            return;
        }
        running = true;
        kafka.consumers().register(this);
        registerMeters();
        thread = new Thread(this::supervise, "consumer-" + name);
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public synchronized void close() {
        running = false;
        KafkaConsumer<String, byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        Thread t = thread;
        if (t != null) {
            t.interrupt(); // ends a backoff sleep at once
            try {
                t.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            thread = null;
        }
    }

    // ---------------------------------------------------------------- applying one event

    /** Applies one event exactly once (used by the poll loop; public so tests can redeliver). */
    public AppliedVersions.Verdict deliver(EventEnvelope event) {
        try (MDC.MDCCloseable t = MDC.putCloseable("tenant", event.getTenantId());
             MDC.MDCCloseable k = MDC.putCloseable("correlation_id", event.getCorrelationId());
             MDC.MDCCloseable e = MDC.putCloseable("event", event.getEventType() + " " + event.getEventId())) {
            return apply(event);
        }
    }

    private AppliedVersions.Verdict apply(EventEnvelope event) {
        if (mode == Mode.BATCH) {
            applyBatchOrThrow(List.of(event));
            return AppliedVersions.Verdict.APPLY;
        }
        return db.inTransaction(c -> {
            if (mode == Mode.UNORDERED) {
                if (!handler.apply(c, event)) {
                    park(c, event, "not understood by " + name);
                }
                return AppliedVersions.Verdict.APPLY;
            }
            AppliedVersions.Verdict verdict = AppliedVersions.judge(c, name, event);
            if (verdict != AppliedVersions.Verdict.APPLY) {
                return verdict;
            }
            if (!handler.apply(c, event)) {
                park(c, event, "not understood by " + name);
            }
            AppliedVersions.record(c, name, event);
            return verdict;
        });
    }

    /**
     * An operator's replay of an event this consumer parked: runs the handler on it once more
     * (in ordered mode without the applied-version check: the event was recorded as applied when
     * it was parked) and deletes the parked row, in one transaction. Throws if the handler fails
     * again (the row stays); false when no such event is parked here.
     */
    public boolean replay(UUID eventId) {
        boolean replayed = db.inTransaction(c -> {
            var bytes = ParkedEvents.take(c, name, eventId);
            if (bytes.isEmpty()) {
                return false;
            }
            EventEnvelope event = Envelopes.parse(bytes.get());
            LOG.info("consumer {} replays parked {} {} of {}/{}", name, event.getEventType(), event.getEventId(),
                event.getTenantId(), event.getAggregateId());
            if (mode == Mode.BATCH) {
                applyBatchOrThrow(List.of(event));
            } else if (!handler.apply(c, event)) {
                throw new IllegalStateException(event.getEventType() + " is still not understood by " + name);
            }
            return true;
        });
        countParked(true);
        return replayed;
    }

    private void applyBatchOrThrow(List<EventEnvelope> events) {
        Map<Integer, String> refused;
        try {
            refused = batchHandler.apply(events);
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        if (refused != null && !refused.isEmpty()) {
            throw new IllegalStateException("refused: " + refused.values().iterator().next());
        }
    }

    // ---------------------------------------------------------------- supervision

    private void supervise() {
        while (running) {
            // until its first poll, a (re)started loop has been failing since it began trying
            attemptStart = Instant.now();
            try {
                loop();
            } catch (WakeupException | InterruptedException e) {
                if (running) {
                    failing(e);
                    LOG.warn("consumer {} interrupted while running; restarting", name);
                }
            } catch (VirtualMachineError e) {
                failing(e);
                throw e; // the thread ends; the health check reports it
            } catch (Throwable e) {
                if (!running) {
                    break; // closing: the consumer was woken up or interrupted on purpose
                }
                Instant since = attemptStart;
                if (since != null && failingSince == null) {
                    failingSince = since;
                }
                failing(e);
                restarts++;
                loopBackoff = nextBackoff(loopBackoff);
                LOG.error("consumer {} loop failed, restarting in {} ms: {}", name, loopBackoff, Failures.reason(e), e);
                try {
                    Thread.sleep(loopBackoff);
                } catch (InterruptedException stop) {
                    // close() interrupts; the while condition decides
                }
            }
        }
        Thread.interrupted();
    }

    private void loop() throws Exception {
        kafka.ensureTopics();
        if (preparation != null) {
            preparation.run();
        }
        KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(kafka.consumer(name, maxPollRecords));
        consumer = c;
        try {
            c.subscribe(topics, new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    forget(partitions);
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                }

                @Override
                public void onPartitionsLost(Collection<TopicPartition> partitions) {
                    forget(partitions);
                }
            });
            while (running) {
                resumeDue(c);
                ConsumerRecords<String, byte[]> records = c.poll(Duration.ofMillis(250));
                loopBackoff = 0;
                attemptStart = null;
                boolean failed = mode == Mode.BATCH ? pollBatch(c, records) : pollEach(c, records);
                updateLag(c);
                if (!failed && (lag.get() == 0 || !records.isEmpty())) {
                    progressed();
                }
                countParked(false);
                if (failed && mode == Mode.BATCH) {
                    Thread.sleep(nextFailureBackoff());
                } else if (!failed) {
                    failureBackoff = 0;
                }
            }
        } finally {
            consumer = null;
            pending.clear();
            pausedUntil.clear();
            partitionBackoff.clear();
            partitionFailingSince.clear();
            try {
                c.close(Duration.ofSeconds(5));
            } catch (RuntimeException e) {
                LOG.debug("consumer {}: closing: {}", name, e.toString());
            }
        }
    }

    private long failureBackoff;

    private long nextFailureBackoff() {
        failureBackoff = nextBackoff(failureBackoff);
        return failureBackoff;
    }

    private long nextBackoff(long previous) {
        return Math.min(previous == 0 ? 100 : previous * 2, maxBackoffMs);
    }

    private void forget(Collection<TopicPartition> partitions) {
        for (TopicPartition p : partitions) {
            pending.remove(p);
            pausedUntil.remove(p);
            partitionBackoff.remove(p);
            partitionFailingSince.remove(p);
            AtomicLong l = partitionLag.get(p);
            if (l != null) {
                l.set(0);
            }
        }
    }

    /** Commits offsets; a commit lost to a rebalance or a broker away is not fatal (redelivery is a no-op). */
    private void commit(KafkaConsumer<String, byte[]> c, Map<TopicPartition, OffsetAndMetadata> done) {
        if (done.isEmpty()) {
            return;
        }
        try {
            c.commitSync(done);
        } catch (CommitFailedException | org.apache.kafka.common.errors.RebalanceInProgressException e) {
            LOG.info("consumer {}: commit lost to a rebalance, the new owner re-reads: {}", name, e.toString());
        } catch (WakeupException e) {
            throw e;
        } catch (KafkaException e) {
            if (!Failures.isTransient(e, null)) {
                throw e;
            }
            LOG.warn("consumer {}: commit failed, will commit later offsets: {}", name, e.toString());
        }
    }

    /**
     * Holds a failing partition back for its backoff (100 ms doubling to max-backoff) while the
     * consumer's other partitions go on: an event waiting for another partition's event (e.g. a
     * link to a table created on another partition) gets it applied meanwhile.
     */
    private void pause(KafkaConsumer<String, byte[]> c, TopicPartition partition) {
        long backoff = nextBackoff(partitionBackoff.getOrDefault(partition, 0L));
        partitionBackoff.put(partition, backoff);
        partitionFailingSince.putIfAbsent(partition, Instant.now());
        pausedUntil.put(partition, System.nanoTime() + backoff * 1_000_000);
        c.pause(List.of(partition));
    }

    private void resumeDue(KafkaConsumer<String, byte[]> c) {
        if (pausedUntil.isEmpty()) {
            return;
        }
        long now = System.nanoTime();
        List<TopicPartition> due = new ArrayList<>();
        pausedUntil.forEach((p, until) -> {
            if (now - until >= 0) {
                due.add(p);
            }
        });
        due.forEach(pausedUntil::remove);
        due.retainAll(c.assignment());
        if (!due.isEmpty()) {
            c.resume(due);
        }
    }

    /** Deterministic failures of one event so far. */
    private static final class Attempts {
        final long firstNanos = System.nanoTime();
        int count;
    }

    // ---------------------------------------------------------------- one event at a time

    private boolean pollEach(KafkaConsumer<String, byte[]> c, ConsumerRecords<String, byte[]> records)
        throws InterruptedException {
        Map<TopicPartition, OffsetAndMetadata> done = new HashMap<>();
        boolean failed = false;
        for (TopicPartition partition : records.partitions()) {
            Map<String, TreeMap<Long, ConsumerRecord<String, byte[]>>> waiting =
                pending.computeIfAbsent(partition, p -> new HashMap<>());
            for (ConsumerRecord<String, byte[]> record : records.records(partition)) {
                Outcome outcome = handle(record);
                if (outcome == Outcome.FAILED) {
                    c.seek(partition, Math.min(record.offset(), oldestOffset(waiting, record.offset())));
                    waiting.clear();
                    pause(c, partition);
                    failed = true;
                    break;
                }
                partitionFailingSince.remove(partition);
                partitionBackoff.remove(partition);
                if (outcome instanceof Outcome.Gap gap) {
                    waiting.computeIfAbsent(gap.aggregate(), k -> new TreeMap<>()).put(gap.version(), record);
                } else if (outcome instanceof Outcome.Applied applied
                    && !drain(waiting, applied.aggregate(), applied.version())) {
                    done.put(partition, new OffsetAndMetadata(Math.min(record.offset() + 1,
                        oldestOffset(waiting, record.offset() + 1))));
                    c.seek(partition, oldestOffset(waiting, record.offset() + 1));
                    waiting.clear();
                    pause(c, partition);
                    failed = true;
                    break;
                }
                done.put(partition, new OffsetAndMetadata(Math.min(record.offset() + 1,
                    oldestOffset(waiting, record.offset() + 1))));
            }
        }
        commit(c, done);
        return failed;
    }

    /** Applies the waiting successors of an aggregate whose version just moved to {@code version}. */
    private boolean drain(Map<String, TreeMap<Long, ConsumerRecord<String, byte[]>>> waiting, String aggregate,
                          long version) throws InterruptedException {
        TreeMap<Long, ConsumerRecord<String, byte[]>> queue = waiting.get(aggregate);
        long next = version + 1;
        boolean ok = true;
        while (queue != null && queue.containsKey(next)) {
            ConsumerRecord<String, byte[]> record = queue.remove(next);
            Outcome outcome = handle(record);
            if (outcome == Outcome.FAILED) {
                queue.put(next, record);
                ok = false;
                break;
            }
            if (!(outcome instanceof Outcome.Applied)) {
                break;
            }
            next++;
        }
        if (queue != null && queue.isEmpty()) {
            waiting.remove(aggregate);
        }
        return ok;
    }

    private static long oldestOffset(Map<String, TreeMap<Long, ConsumerRecord<String, byte[]>>> waiting, long otherwise) {
        long oldest = otherwise;
        for (TreeMap<Long, ConsumerRecord<String, byte[]>> queue : waiting.values()) {
            for (ConsumerRecord<String, byte[]> r : queue.values()) {
                oldest = Math.min(oldest, r.offset());
            }
        }
        return oldest;
    }

    /** What became of one record. */
    private sealed interface Outcome {
        Outcome DONE = new Done();
        Outcome FAILED = new Failed();

        record Done() implements Outcome {
        }

        record Failed() implements Outcome {
        }

        record Applied(String aggregate, long version) implements Outcome {
        }

        record Gap(String aggregate, long version) implements Outcome {
        }
    }

    /** Whether the event-type filter lets this record through, judged by its header when it has one. */
    private boolean wanted(ConsumerRecord<String, byte[]> record) {
        if (eventTypes == null) {
            return true;
        }
        // Front to back: the type is the second header (Envelopes.headers), so this decodes two
        // header names where lastHeader would decode seven (it was 43% of a consumer skipping a
        // million-row import, docs/benchmarks.md).
        for (Header h : record.headers()) {
            if (Envelopes.H_EVENT_TYPE.equals(h.key())) {
                return eventTypes.contains(new String(h.value(), StandardCharsets.UTF_8));
            }
        }
        return true;
    }

    private Outcome handle(ConsumerRecord<String, byte[]> record) throws InterruptedException {
        if (!wanted(record)) {
            return Outcome.DONE;
        }
        EventEnvelope event;
        try {
            event = Envelopes.parse(record.value());
        } catch (IllegalArgumentException e) {
            return parkUnreadable(record, e) ? Outcome.DONE : Outcome.FAILED;
        }
        if (eventTypes != null && !eventTypes.contains(event.getEventType())) {
            return Outcome.DONE;
        }
        String aggregate = event.getTenantId() + "/" + event.getAggregateId();
        try {
            AppliedVersions.Verdict verdict = deliver(event);
            attempts.remove(event.getEventId());
            return switch (verdict) {
                case APPLY -> mode == Mode.ORDERED
                    ? new Outcome.Applied(aggregate, event.getAggregateVersion()) : Outcome.DONE;
                case DUPLICATE -> Outcome.DONE;
                case GAP -> {
                    LOG.warn("consumer {}: {} v{} of {} arrived before its predecessor; holding it",
                        name, event.getEventType(), event.getAggregateVersion(), aggregate);
                    yield new Outcome.Gap(aggregate, event.getAggregateVersion());
                }
            };
        } catch (RuntimeException e) {
            failing(e);
            if (waitsForAnother(e)) {
                Attempts a = attempts.computeIfAbsent(event.getEventId(), k -> new Attempts());
                a.count++;
                if (System.nanoTime() - a.firstNanos >= waitLimitNanos) {
                    attempts.remove(event.getEventId());
                    return parkFailed(event, aggregate, e, a.count);
                }
                LOG.warn("consumer {}: {} v{} of {} waits for another event (parked after {} s), will retry: {}", name,
                    event.getEventType(), event.getAggregateVersion(), aggregate, waitLimitNanos / 1_000_000_000L,
                    Failures.reason(e));
                return Outcome.FAILED;
            }
            if (Failures.isTransient(e, transientWhen)) {
                LOG.warn("consumer {}: {} v{} of {} failed transiently, will retry: {}", name,
                    event.getEventType(), event.getAggregateVersion(), aggregate, Failures.reason(e));
                return Outcome.FAILED;
            }
            Attempts a = attempts.computeIfAbsent(event.getEventId(), k -> new Attempts());
            a.count++;
            if (a.count >= maxAttempts && System.nanoTime() - a.firstNanos >= parkAfterNanos) {
                attempts.remove(event.getEventId());
                return parkFailed(event, aggregate, e, a.count);
            }
            LOG.warn("consumer {}: {} v{} of {} failed (attempt {}; parked after {} and {} s), will retry: {}",
                name, event.getEventType(), event.getAggregateVersion(), aggregate, a.count, maxAttempts,
                parkAfterNanos / 1_000_000_000L, Failures.reason(e));
            return Outcome.FAILED;
        }
    }

    private static boolean waitsForAnother(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof NotYetException) {
                return true;
            }
        }
        return false;
    }

    /** Parks an event that failed {@code maxAttempts} times; in ordered mode its version counts as applied. */
    private Outcome parkFailed(EventEnvelope event, String aggregate, RuntimeException failure, int times) {
        String reason = "failed " + times + " times: " + Failures.reason(failure);
        try {
            AppliedVersions.Verdict verdict = db.inTransaction(c -> {
                if (mode != Mode.ORDERED) {
                    park(c, event, reason);
                    return AppliedVersions.Verdict.APPLY;
                }
                AppliedVersions.Verdict v = AppliedVersions.judge(c, name, event);
                if (v == AppliedVersions.Verdict.APPLY) {
                    park(c, event, reason);
                    AppliedVersions.record(c, name, event);
                }
                return v;
            });
            countParked(true);
            return switch (verdict) {
                case APPLY -> mode == Mode.ORDERED
                    ? new Outcome.Applied(aggregate, event.getAggregateVersion()) : Outcome.DONE;
                case DUPLICATE -> Outcome.DONE;
                case GAP -> new Outcome.Gap(aggregate, event.getAggregateVersion());
            };
        } catch (RuntimeException e) {
            failing(e);
            LOG.warn("consumer {}: could not park {} {}, will retry: {}", name, event.getEventType(),
                event.getEventId(), Failures.reason(e));
            return Outcome.FAILED;
        }
    }

    private boolean parkUnreadable(ConsumerRecord<String, byte[]> record, IllegalArgumentException why) {
        try {
            db.inTransaction(c -> {
                park(c, EventEnvelope.newBuilder().setEventId(unreadableId(record).toString())
                        .setEventType("Unreadable").build(),
                    "unreadable at " + record.topic() + "-" + record.partition() + "@" + record.offset() + ": "
                        + why.getMessage(), record.value());
                return null;
            });
            countParked(true);
            return true;
        } catch (RuntimeException e) {
            failing(e);
            LOG.warn("consumer {}: could not park an unreadable record, will retry: {}", name, Failures.reason(e));
            return false;
        }
    }

    /** The same id for the same unreadable record, so a redelivery does not park it twice. */
    private static UUID unreadableId(ConsumerRecord<String, byte[]> record) {
        return UUID.nameUUIDFromBytes((record.topic() + "/" + record.partition() + "@" + record.offset())
            .getBytes(StandardCharsets.UTF_8));
    }

    private void park(Connection c, EventEnvelope event, String reason) throws SQLException {
        park(c, event, reason, event.toByteArray());
    }

    private void park(Connection c, EventEnvelope event, String reason, byte[] bytes) throws SQLException {
        LOG.warn("consumer {} parked {} {} of {}/{} v{}: {}", name, event.getEventType(), event.getEventId(),
            event.getTenantId(), event.getAggregateId(), event.getAggregateVersion(), reason);
        ParkedEvents.park(c, name, UUID.fromString(event.getEventId()), event.getEventType(), reason, bytes);
    }

    // ---------------------------------------------------------------- a poll at a time

    /** One polled record, parsed. */
    private record Item(ConsumerRecord<String, byte[]> record, EventEnvelope event) {
    }

    private boolean pollBatch(KafkaConsumer<String, byte[]> c, ConsumerRecords<String, byte[]> records)
        throws InterruptedException {
        if (records.isEmpty()) {
            return false;
        }
        Set<String> keys = null;
        if (keysWanted != null) {
            Set<String> distinct = new java.util.HashSet<>();
            for (ConsumerRecord<String, byte[]> record : records) {
                if (record.key() != null) {
                    distinct.add(record.key()); // the type filter comes after: keys are cheaper
                }
            }
            try {
                keys = keysWanted.apply(distinct);
            } catch (RuntimeException e) {
                failing(e);
                LOG.warn("consumer {}: choosing the keys of a poll failed, will retry: {}", name, Failures.reason(e));
                rewind(c, records);
                return true;
            }
        }
        List<Item> items = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> record : records) {
            if (keys != null && record.key() != null && !keys.contains(record.key()) || !wanted(record)) {
                continue;
            }
            try {
                EventEnvelope event = Envelopes.parse(record.value());
                if (eventTypes == null || eventTypes.contains(event.getEventType())) {
                    items.add(new Item(record, event));
                }
            } catch (IllegalArgumentException e) {
                if (!parkUnreadable(record, e)) {
                    rewind(c, records);
                    return true;
                }
            }
        }
        if (!items.isEmpty() && !applyBatch(items)) {
            rewind(c, records);
            return true;
        }
        Map<TopicPartition, OffsetAndMetadata> done = new LinkedHashMap<>();
        for (TopicPartition p : records.partitions()) {
            List<ConsumerRecord<String, byte[]>> rs = records.records(p);
            done.put(p, new OffsetAndMetadata(rs.get(rs.size() - 1).offset() + 1));
        }
        commit(c, done);
        return false;
    }

    private int batchFailures;

    /** False when the batch must be re-read (a transient failure, or attempts left). */
    private boolean applyBatch(List<Item> items) throws InterruptedException {
        try {
            parkRefused(items, batchHandler.apply(events(items)));
            batchFailures = 0;
            return true;
        } catch (Exception e) {
            failing(e);
            if (e instanceof InterruptedException ie) {
                throw ie;
            }
            if (Failures.isTransient(e, transientWhen)) {
                LOG.warn("consumer {}: a batch of {} failed transiently, will retry: {}", name, items.size(),
                    Failures.reason(e));
                return false;
            }
            if (++batchFailures < maxAttempts) {
                LOG.warn("consumer {}: a batch of {} failed (attempt {}/{}), will retry: {}", name, items.size(),
                    batchFailures, maxAttempts, Failures.reason(e));
                return false;
            }
            batchFailures = 0;
            LOG.warn("consumer {}: a batch of {} failed {} times; applying it event by event: {}", name,
                items.size(), maxAttempts, Failures.reason(e));
            return applyOneByOne(items);
        }
    }

    private boolean applyOneByOne(List<Item> items) throws InterruptedException {
        for (Item item : items) {
            int n = 0;
            while (true) {
                try {
                    parkRefused(List.of(item), batchHandler.apply(List.of(item.event())));
                    break;
                } catch (InterruptedException e) {
                    throw e;
                } catch (Exception e) {
                    failing(e);
                    if (Failures.isTransient(e, transientWhen)) {
                        return false; // the whole batch again (idempotent)
                    }
                    if (++n >= maxAttempts) {
                        if (parkFailed(item.event(), "", e instanceof RuntimeException re ? re
                            : new IllegalStateException(e), n) == Outcome.FAILED) {
                            return false;
                        }
                        break;
                    }
                    Thread.sleep(Math.min(100L << Math.min(n - 1, 20), maxBackoffMs));
                }
            }
        }
        return true;
    }

    private void parkRefused(List<Item> items, Map<Integer, String> refused) {
        if (refused == null || refused.isEmpty()) {
            return;
        }
        db.inTransaction(c -> {
            for (Map.Entry<Integer, String> r : refused.entrySet()) {
                park(c, items.get(r.getKey()).event(), r.getValue());
            }
            return null;
        });
        countParked(true);
    }

    private static List<EventEnvelope> events(List<Item> items) {
        List<EventEnvelope> events = new ArrayList<>(items.size());
        for (Item item : items) {
            events.add(item.event());
        }
        return events;
    }

    private static void rewind(KafkaConsumer<String, byte[]> c, ConsumerRecords<String, byte[]> records) {
        for (TopicPartition p : records.partitions()) {
            c.seek(p, records.records(p).get(0).offset());
        }
    }

    // ---------------------------------------------------------------- state, metrics, health

    private void failing(Throwable e) {
        if (failingSince == null) {
            failingSince = Instant.now();
        }
        lastError = Failures.reason(e);
    }

    private void progressed() {
        lastProgress = Instant.now();
        failingSince = null;
    }

    private void updateLag(KafkaConsumer<String, byte[]> c) {
        long total = 0;
        for (TopicPartition p : c.assignment()) {
            long l = c.currentLag(p).orElse(0);
            total += l;
            partitionLag.computeIfAbsent(p, this::partitionGauge).set(l);
        }
        lag.set(total);
    }

    private AtomicLong partitionGauge(TopicPartition p) {
        AtomicLong value = new AtomicLong();
        Gauge.builder("linkbase.consumer.partition.lag", value, AtomicLong::get)
            .description("events published but not yet applied by this consumer, per partition it owns")
            .tag("consumer", name).tag("topic", p.topic()).tag("partition", Integer.toString(p.partition()))
            .register(kafka.meters());
        return value;
    }

    private synchronized void registerMeters() {
        if (metersRegistered) {
            return;
        }
        metersRegistered = true;
        MeterRegistry meters = kafka.meters();
        Gauge.builder("linkbase.consumer.lag", lag, AtomicLong::get)
            .description("events published but not yet applied by this consumer")
            .tag("consumer", name).register(meters);
        Gauge.builder("linkbase.consumer.parked", parked, AtomicLong::get)
            .description("events this consumer parked (rows in parked_events), awaiting an operator")
            .tag("consumer", name).register(meters);
    }

    /** Refreshes the parked count from the database, at most every 15 s unless {@code now}. */
    private long countParked(boolean now) {
        long t = System.nanoTime();
        if (!now && t - parkedCountedAt < 15_000_000_000L && parkedCountedAt != 0) {
            return parked.get();
        }
        parkedCountedAt = t;
        try {
            parked.set(db.read(c -> ParkedEvents.count(c, name)));
        } catch (RuntimeException e) {
            LOG.debug("consumer {}: counting parked events: {}", name, e.toString());
        }
        return parked.get();
    }

    /** What the health check and operators see of this consumer. */
    public record Status(String name, boolean running, boolean alive, long lag, Map<String, Long> partitionLag,
                         long parked, Instant lastProgress, Instant failingSince, String lastError, long restarts) {
    }

    public Status status() {
        Thread t = thread;
        Map<String, Long> partitions = new TreeMap<>();
        partitionLag.forEach((p, l) -> {
            if (l.get() > 0) {
                partitions.put(p.toString(), l.get());
            }
        });
        Instant since = failingSince;
        for (Instant p : partitionFailingSince.values()) {
            since = since == null || p.isBefore(since) ? p : since;
        }
        return new Status(name, running, t != null && t.isAlive(), lag.get(), partitions, parked.get(),
            lastProgress, since, lastError, restarts);
    }
}
