package io.linkbase.kit.outbox;

import io.linkbase.devstack.TestServers;
import io.linkbase.kit.events.Envelopes;
import io.linkbase.kit.events.Topics;
import io.linkbase.kit.kafka.KafkaSettings;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import io.micronaut.test.support.TestPropertyProvider;
import jakarta.inject.Inject;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The relay's throughput (issue 12): N record-sized events (~300 bytes) are written to the
 * outbox while the relay is stopped, then the relay drains them; the floor is a bare
 * KafkaProducer with the same settings sending the same keys, values and headers. Each lane is
 * measured after a warm-up round of a tenth of the rows. Not part of
 * the default build. Run:
 *
 * <pre>./mvnw -B -q -pl service-kit -am verify -Dtest=NONE -Dsurefire.failIfNoSpecifiedTests=false \
 *   -Dit.test=OutboxRelayBenchmarkIT -Dfailsafe.failIfNoSpecifiedTests=false -Dlinkbase.bench=true \
 *   [-Dlinkbase.bench.rows=200000]</pre>
 */
@EnabledIfSystemProperty(named = "linkbase.bench", matches = "true")
@MicronautTest(transactional = false)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OutboxRelayBenchmarkIT implements TestPropertyProvider {
    private static final String DATABASE = "kit_outbox_bench";

    @Inject
    OutboxRelay relay;
    @Inject
    KafkaSettings kafkaSettings;

    @Override
    public Map<String, String> getProperties() {
        return OutboxFixtures.kitService(TestServers.postgres(), DATABASE, TestServers.kafka(), Map.of());
    }

    @Test
    void benchmark() throws Exception {
        int rows = Integer.getInteger("linkbase.bench.rows", 200_000);
        kafkaSettings.ensureTopics();
        // a warm-up round of a tenth of the rows per lane (JIT, connections, topic metadata), then the measured one
        for (int round = 0; round < 4; round++) {
            String topic = round % 2 == 0 ? Topics.RECORDS : Topics.RECORDS_BULK;
            boolean warmUp = round < 2;
            int n = warmUp ? Math.max(1, rows / 10) : rows;
            String lane = Lane.of(topic).tag();
            List<EventEnvelope> events = events("bench-" + lane + "-" + UUID.randomUUID(), n);
            double bare = bareProducer(topic, events);
            relay.stop();
            long t0 = System.nanoTime();
            copyIn(topic, events);
            double copySeconds = (System.nanoTime() - t0) / 1e9;
            long before = relay.publishedCount();
            t0 = System.nanoTime();
            relay.start();
            while (relay.publishedCount() - before < n) {
                Thread.sleep(5);
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            double relayRate = n / seconds;
            System.out.printf("[outbox-relay bench] %s%s lane: %,d events of ~%d bytes | relay %,.0f events/s (%.2f s)"
                    + " | bare KafkaProducer %,.0f events/s | relay/bare %.2f | (outbox COPY of the rows %.2f s)%n",
                warmUp ? "warm-up, " : "", lane, n, events.get(0).getSerializedSize(), relayRate, seconds, bare,
                relayRate / bare, copySeconds);
            assertThat(relay.publishedCount() - before).isEqualTo(n);
        }
    }

    /** Record-sized events: 1,000 aggregates, versions in order. */
    private static List<EventEnvelope> events(String tenant, int n) {
        List<EventEnvelope> events = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            events.add(OutboxFixtures.envelope(tenant, "agg" + (i % 1000), i / 1000 + 1, 150));
        }
        return events;
    }

    /** The floor: the same bytes through a bare producer with the relay's settings. */
    private double bareProducer(String topic, List<EventEnvelope> events) {
        List<ProducerRecord<byte[], byte[]>> records = new ArrayList<>(events.size());
        for (EventEnvelope e : events) {
            List<Header> headers = new ArrayList<>();
            Envelopes.headers(e).forEach((k, v) -> headers.add(new RecordHeader(k, v)));
            records.add(new ProducerRecord<>(topic, null, Envelopes.kafkaKey(e).getBytes(StandardCharsets.UTF_8),
                e.toByteArray(), headers));
        }
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(relay.producerProperties())) {
            producer.partitionsFor(topic);
            long t0 = System.nanoTime();
            for (ProducerRecord<byte[], byte[]> r : records) {
                producer.send(r);
            }
            producer.flush();
            return events.size() / ((System.nanoTime() - t0) / 1e9);
        }
    }

    private static void copyIn(String topic, List<EventEnvelope> events) throws Exception {
        try (Connection c = OutboxFixtures.connect(TestServers.postgres(), DATABASE)) {
            CopyIn copy = c.unwrap(PGConnection.class).getCopyAPI()
                .copyIn("COPY outbox (topic, kafka_key, event_id, event_type, envelope) FROM STDIN");
            HexFormat hex = HexFormat.of();
            StringBuilder chunk = new StringBuilder();
            for (int i = 0; i < events.size(); i++) {
                EventEnvelope e = events.get(i);
                chunk.append(topic).append('\t').append(Envelopes.kafkaKey(e)).append('\t').append(e.getEventId())
                    .append('\t').append(e.getEventType()).append("\t\\\\x").append(hex.formatHex(e.toByteArray())).append('\n');
                if (chunk.length() > 1 << 20 || i == events.size() - 1) {
                    byte[] bytes = chunk.toString().getBytes(StandardCharsets.UTF_8);
                    copy.writeToCopy(bytes, 0, bytes.length);
                    chunk.setLength(0);
                }
            }
            copy.endCopy();
        }
    }
}
