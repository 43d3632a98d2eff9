package io.linkbase.kit.consumer;

import io.linkbase.kit.db.Db;
import io.linkbase.kit.events.Envelopes;
import io.linkbase.kit.kafka.KafkaSettings;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.micrometer.core.instrument.Gauge;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.UUID;

/**
 * An idempotent Kafka consumer of enveloped events (the Eventuate pattern, by aggregate version):
 * each event is applied in one database transaction together with the consumer's applied version
 * for its aggregate. A redelivered event is a no-op; an event whose predecessor has not been
 * applied (a gap) is not skipped: it is held until its predecessor is applied, and offsets are
 * never committed past it. Offsets are committed only after the transaction, so a crash
 * re-delivers, never loses; a failing event is retried with backoff, never dropped.
 */
public final class EventConsumer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EventConsumer.class);

    private final String name;
    private final List<String> topics;
    private final Db db;
    private final EventHandler handler;
    private final KafkaSettings kafka;
    private final AtomicLong lag = new AtomicLong();
    private volatile boolean running;
    private volatile KafkaConsumer<String, byte[]> consumer;
    private Thread thread;

    /**
     * @param name the consumer's identity: its Kafka group id and its key in applied_versions
     */
    public EventConsumer(String name, List<String> topics, KafkaSettings kafka, Db db, EventHandler handler) {
        this.name = name;
        this.topics = List.copyOf(topics);
        this.kafka = kafka;
        this.db = db;
        this.handler = handler;
    }

    public String name() {
        return name;
    }

    public synchronized void start() {
        if (running) {
            return;
        }
        running = true;
        thread = new Thread(this::run, "consumer-" + name);
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
        if (thread != null) {
            try {
                thread.join(10_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            thread = null;
        }
    }

    /** Applies one event exactly once (used by the poll loop; public so tests can redeliver). */
    public AppliedVersions.Verdict deliver(EventEnvelope event) {
        try (MDC.MDCCloseable t = MDC.putCloseable("tenant", event.getTenantId());
             MDC.MDCCloseable k = MDC.putCloseable("correlation_id", event.getCorrelationId());
             MDC.MDCCloseable e = MDC.putCloseable("event", event.getEventType() + " " + event.getEventId())) {
            return apply(event);
        }
    }

    private AppliedVersions.Verdict apply(EventEnvelope event) {
        return db.inTransaction(c -> {
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

    private void run() {
        int backoff = 0;
        // Events that arrived before their predecessor, per partition and aggregate. They are
        // applied as soon as the predecessor is; offsets are never committed past them, so a
        // restart re-reads them (and the already applied ones are no-ops).
        Map<TopicPartition, Map<String, TreeMap<Long, ConsumerRecord<String, byte[]>>>> pending = new HashMap<>();
        try {
            kafka.ensureTopics();
            consumer = new KafkaConsumer<>(properties());
            consumer.subscribe(topics);
            Gauge.builder("linkbase.consumer.lag", lag, AtomicLong::get)
                .description("events published but not yet applied by this consumer")
                .tag("consumer", name).register(kafka.meters());
            while (running) {
                ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(250));
                Map<TopicPartition, OffsetAndMetadata> done = new HashMap<>();
                boolean failed = false;
                for (TopicPartition partition : records.partitions()) {
                    Map<String, TreeMap<Long, ConsumerRecord<String, byte[]>>> waiting =
                        pending.computeIfAbsent(partition, p -> new HashMap<>());
                    for (ConsumerRecord<String, byte[]> record : records.records(partition)) {
                        Outcome outcome = handle(record);
                        if (outcome == Outcome.FAILED) {
                            consumer.seek(partition, Math.min(record.offset(), oldestOffset(waiting, record.offset())));
                            waiting.clear();
                            failed = true;
                            break;
                        }
                        if (outcome instanceof Outcome.Gap gap) {
                            waiting.computeIfAbsent(gap.aggregate(), k -> new TreeMap<>()).put(gap.version(), record);
                        } else if (outcome instanceof Outcome.Applied applied) {
                            drain(waiting, applied.aggregate(), applied.version());
                        }
                        done.put(partition, new OffsetAndMetadata(Math.min(record.offset() + 1,
                            oldestOffset(waiting, record.offset() + 1))));
                    }
                }
                if (!done.isEmpty()) {
                    consumer.commitSync(done);
                }
                lag.set(currentLag());
                if (failed) {
                    backoff = Math.min(backoff == 0 ? 50 : backoff * 2, 5_000);
                    Thread.sleep(backoff);
                } else {
                    backoff = 0;
                }
            }
        } catch (WakeupException e) {
            // closing
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.error("consumer {} stopped: {}", name, e.toString(), e);
        } finally {
            KafkaConsumer<String, byte[]> c = consumer;
            consumer = null;
            if (c != null) {
                c.close(Duration.ofSeconds(5));
            }
        }
    }

    private long currentLag() {
        long total = 0;
        for (TopicPartition p : consumer.assignment()) {
            total += consumer.currentLag(p).orElse(0);
        }
        return total;
    }

    /** Applies the waiting successors of an aggregate whose version just moved to {@code version}. */
    private void drain(Map<String, TreeMap<Long, ConsumerRecord<String, byte[]>>> waiting, String aggregate, long version) {
        TreeMap<Long, ConsumerRecord<String, byte[]>> queue = waiting.get(aggregate);
        long next = version + 1;
        while (queue != null && queue.containsKey(next)) {
            ConsumerRecord<String, byte[]> record = queue.remove(next);
            if (!(handle(record) instanceof Outcome.Applied)) {
                queue.put(next, record);
                break;
            }
            next++;
        }
        if (queue != null && queue.isEmpty()) {
            waiting.remove(aggregate);
        }
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

    private Outcome handle(ConsumerRecord<String, byte[]> record) {
        EventEnvelope event;
        try {
            event = Envelopes.parse(record.value());
        } catch (IllegalArgumentException e) {
            db.inTransaction(c -> {
                park(c, EventEnvelope.newBuilder().setEventId(UUID.randomUUID().toString())
                    .setEventType("Unreadable").build(), "unreadable at " + record.topic() + "@" + record.offset(),
                    record.value());
                return null;
            });
            return Outcome.DONE;
        }
        String aggregate = event.getTenantId() + "/" + event.getAggregateId();
        try {
            AppliedVersions.Verdict verdict = deliver(event);
            return switch (verdict) {
                case APPLY -> new Outcome.Applied(aggregate, event.getAggregateVersion());
                case DUPLICATE -> Outcome.DONE;
                case GAP -> {
                    LOG.warn("consumer {}: {} v{} of {} arrived before its predecessor; holding it",
                        name, event.getEventType(), event.getAggregateVersion(), aggregate);
                    yield new Outcome.Gap(aggregate, event.getAggregateVersion());
                }
            };
        } catch (RuntimeException e) {
            LOG.warn("consumer {} failed on {} v{} of {}, will retry: {}", name, event.getEventType(),
                event.getAggregateVersion(), aggregate, e.toString());
            return Outcome.FAILED;
        }
    }

    private void park(java.sql.Connection c, EventEnvelope event, String reason) throws java.sql.SQLException {
        park(c, event, reason, event.toByteArray());
    }

    private void park(java.sql.Connection c, EventEnvelope event, String reason, byte[] bytes) throws java.sql.SQLException {
        LOG.warn("consumer {} parked {} {}: {}", name, event.getEventType(), event.getEventId(), reason);
        try (PreparedStatement insert = c.prepareStatement(
            "INSERT INTO parked_events (consumer, event_id, event_type, reason, envelope) VALUES (?, ?, ?, ?, ?) "
                + "ON CONFLICT DO NOTHING")) {
            insert.setString(1, name);
            insert.setObject(2, UUID.fromString(event.getEventId()));
            insert.setString(3, event.getEventType());
            insert.setString(4, reason);
            insert.setBytes(5, bytes);
            insert.executeUpdate();
        }
    }

    private Properties properties() {
        Properties p = kafka.common();
        p.put(ConsumerConfig.GROUP_ID_CONFIG, name);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "500");
        // Topics are created by KafkaSettings with their partition count, never implicitly.
        p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
        return p;
    }
}
