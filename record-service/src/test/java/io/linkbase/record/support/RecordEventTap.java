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

/** Reads what record-service published to {@code linkbase.records.v1} on real Kafka. */
public final class RecordEventTap implements AutoCloseable {
    private final KafkaConsumer<String, byte[]> consumer;
    private final List<EventEnvelope> seen = new ArrayList<>();

    public RecordEventTap(String bootstrapServers) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "record-tap-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        consumer = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
        consumer.subscribe(List.of(Topics.RECORDS));
    }

    /** Everything published so far for {@code tenant}, in Kafka order per table. */
    public synchronized List<EventEnvelope> events(String tenant) {
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
            seen.add(Envelopes.parse(r.value()));
        }
        return seen.stream().filter(e -> e.getTenantId().equals(tenant)).toList();
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
