package io.linkbase.record.support;

import io.linkbase.kit.events.Envelopes;
import io.linkbase.kit.events.Topics;
import io.linkbase.proto.events.v1.EventEnvelope;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;

/**
 * Reads what record-service published to both lanes of record events ({@code linkbase.records.v1}
 * and {@code linkbase.records.bulk.v1}) on real Kafka; each table's events are returned in
 * aggregate-version order (its commit order), whichever lane carried them.
 */
public final class RecordEventTap implements AutoCloseable {
    private final KafkaConsumer<String, byte[]> consumer;
    private final List<EventEnvelope> seen = new ArrayList<>();

    public RecordEventTap(io.linkbase.devstack.KafkaServer kafka) {
        Properties p = kafka.clientProperties();
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "record-tap-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        consumer = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
        consumer.subscribe(List.of(Topics.RECORDS, Topics.RECORDS_BULK));
    }

    /** Everything published so far for {@code tenant}, in Kafka order per table. */
    public synchronized List<EventEnvelope> events(String tenant) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
            seen.add(Envelopes.parse(r.value()));
        }
        List<EventEnvelope> mine = seen.stream().filter(e -> e.getTenantId().equals(tenant)).toList();
        // Each table's slots in arrival order, refilled with that table's events in version order.
        java.util.Map<String, java.util.PriorityQueue<EventEnvelope>> byTable = new java.util.HashMap<>();
        for (EventEnvelope e : mine) {
            byTable.computeIfAbsent(e.getAggregateId(), k -> new java.util.PriorityQueue<>(
                java.util.Comparator.comparingLong(EventEnvelope::getAggregateVersion))).add(e);
        }
        List<EventEnvelope> ordered = new ArrayList<>(mine.size());
        for (EventEnvelope e : mine) {
            ordered.add(byTable.get(e.getAggregateId()).poll());
        }
        return ordered;
    }

    public List<EventEnvelope> events(String tenant, String tableId, EventEnvelope.PayloadCase type) {
        return events(tenant).stream()
            .filter(e -> e.getAggregateId().equals(tableId) && e.getPayloadCase() == type).toList();
    }

    @Override
    public synchronized void close() {
        consumer.close();
    }
}
