package io.linkbase.search.indexing;

import io.linkbase.kit.events.Envelopes;
import io.linkbase.kit.events.Topics;
import io.linkbase.kit.kafka.KafkaSettings;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.events.v1.RecordDeleted;
import io.linkbase.proto.events.v1.RecordUpserted;
import io.linkbase.search.index.Doc;
import io.linkbase.search.index.Documents;
import io.linkbase.search.index.RecordsIndex;
import io.linkbase.search.targets.Catalog;
import io.micronaut.context.annotation.Requires;
import io.micronaut.context.event.ShutdownEvent;
import io.micronaut.context.event.StartupEvent;
import io.micronaut.runtime.event.annotation.EventListener;
import jakarta.inject.Singleton;
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

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Keeps the documents of target tables current from {@code linkbase.records.v1}. Each polled
 * batch becomes one bulk write with external versioning on record_version, so redelivered,
 * duplicated or reordered events can never put an older value over a newer one; this is why
 * the consumer needs no applied-versions bookkeeping of its own. Offsets are committed only
 * after OpenSearch accepted the batch; a failed batch is re-read and retried with backoff.
 * Events of tables that are not targets are skipped (a later backfill covers them).
 */
@Singleton
@Requires(property = "linkbase.consumers.enabled", notEquals = "false")
public class RecordEventFollower {
    private static final Logger LOG = LoggerFactory.getLogger(RecordEventFollower.class);
    public static final String CONSUMER = "search-service.records";

    private final KafkaSettings kafka;
    private final Catalog catalog;
    private final RecordsIndex index;
    private volatile boolean running;
    private volatile KafkaConsumer<String, byte[]> consumer;
    private Thread thread;

    public RecordEventFollower(KafkaSettings kafka, Catalog catalog, RecordsIndex index) {
        this.kafka = kafka;
        this.catalog = catalog;
        this.index = index;
    }

    @EventListener
    synchronized void onStartup(StartupEvent event) {
        running = true;
        thread = new Thread(this::run, "consumer-" + CONSUMER);
        thread.setDaemon(true);
        thread.start();
    }

    @EventListener
    synchronized void onShutdown(ShutdownEvent event) {
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
        }
    }

    private void run() {
        long backoff = 0;
        try {
            kafka.ensureTopics();
            index.ensure();
            consumer = new KafkaConsumer<>(properties());
            consumer.subscribe(List.of(Topics.RECORDS));
            while (running) {
                ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(100));
                if (records.isEmpty()) {
                    continue;
                }
                try {
                    apply(records);
                    Map<TopicPartition, OffsetAndMetadata> done = new HashMap<>();
                    for (TopicPartition p : records.partitions()) {
                        List<ConsumerRecord<String, byte[]>> rs = records.records(p);
                        done.put(p, new OffsetAndMetadata(rs.get(rs.size() - 1).offset() + 1));
                    }
                    consumer.commitSync(done);
                    backoff = 0;
                } catch (RuntimeException e) {
                    for (TopicPartition p : records.partitions()) {
                        consumer.seek(p, records.records(p).get(0).offset());
                    }
                    backoff = Math.min(backoff == 0 ? 100 : backoff * 2, 5_000);
                    LOG.warn("indexing record events failed, retrying in {} ms: {}", backoff, e.toString());
                    Thread.sleep(backoff);
                }
            }
        } catch (WakeupException e) {
            // closing
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.error("consumer {} stopped: {}", CONSUMER, e.toString(), e);
        } finally {
            KafkaConsumer<String, byte[]> c = consumer;
            consumer = null;
            if (c != null) {
                c.close(Duration.ofSeconds(5));
            }
        }
    }

    private void apply(ConsumerRecords<String, byte[]> records) {
        List<EventEnvelope> events = new ArrayList<>();
        Map<String, String[]> tables = new LinkedHashMap<>();
        for (ConsumerRecord<String, byte[]> r : records) {
            EventEnvelope e;
            try {
                e = Envelopes.parse(r.value());
            } catch (IllegalArgumentException bad) {
                LOG.warn("skipping unreadable record event at {}@{}", r.topic(), r.offset());
                continue;
            }
            String table = switch (e.getPayloadCase()) {
                case RECORD_UPSERTED -> e.getRecordUpserted().getTableId();
                case RECORD_DELETED -> e.getRecordDeleted().getTableId();
                default -> null; // LinkReconciled and the like are not about documents
            };
            if (table != null) {
                events.add(e);
                tables.putIfAbsent(Catalog.key(e.getTenantId(), table), new String[] {e.getTenantId(), table});
            }
        }
        Map<String, Catalog.TableShape> targets = catalog.targetShapes(new ArrayList<>(tables.values()));
        if (targets.isEmpty()) {
            return;
        }
        List<Doc> docs = new ArrayList<>();
        for (EventEnvelope e : events) {
            if (e.hasRecordUpserted()) {
                RecordUpserted u = e.getRecordUpserted();
                Catalog.TableShape shape = targets.get(Catalog.key(e.getTenantId(), u.getTableId()));
                if (shape != null) {
                    docs.add(Documents.of(e.getTenantId(), u.getTableId(), u.getRecordId(), u.getRecordVersion(),
                        u.getValuesMap(), shape.displayColumnId(), shape.primaryKeyColumnId()));
                }
            } else {
                RecordDeleted d = e.getRecordDeleted();
                if (targets.containsKey(Catalog.key(e.getTenantId(), d.getTableId()))) {
                    docs.add(new Doc.Delete(e.getTenantId(), d.getTableId(), d.getRecordId(), d.getRecordVersion()));
                }
            }
        }
        index.write(docs, RecordsIndex.Versioning.EXTERNAL);
    }

    private Properties properties() {
        Properties p = kafka.common();
        p.put(ConsumerConfig.GROUP_ID_CONFIG, CONSUMER);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "2000");
        p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
        return p;
    }
}
