package io.linkbase.kit.outbox;

import io.linkbase.devstack.KafkaServer;
import io.linkbase.devstack.PostgresServer;
import io.linkbase.devstack.ServiceWiring;
import io.linkbase.kit.events.Envelopes;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.events.v1.TableRenamed;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

/** Envelopes, rows and a Kafka reader for the relay's integration tests. */
final class OutboxFixtures {
    private OutboxFixtures() {
    }

    /** A kit-only service: the kit's migrations, the relay, HTTP (for /health) and gRPC on free ports. */
    static Map<String, String> kitService(PostgresServer postgres, String database, KafkaServer kafka,
                                          Map<String, String> extra) {
        ServiceWiring w = ServiceWiring.service()
            .database(postgres, database)
            .httpPort(ServiceWiring.freePort())
            .grpcPort(ServiceWiring.freePort())
            .kafka(kafka)
            .property("flyway.datasources.default.enabled", "true")
            .property("flyway.datasources.default.locations", "classpath:db/kit")
            .property("endpoints.health.enabled", "true")
            .property("endpoints.health.sensitive", "false")
            .property("endpoints.health.details-visible", "ANONYMOUS");
        extra.forEach(w::property);
        return w.properties();
    }

    /** A schema event of about {@code nameLength} + 150 bytes, version {@code version} of {@code tenant/aggregate}. */
    static EventEnvelope envelope(String tenant, String aggregate, long version, int nameLength) {
        String name = "n".repeat(Math.max(1, nameLength));
        return Envelopes.seal(EventEnvelope.newBuilder().setTableRenamed(TableRenamed.newBuilder().setName(name)),
            tenant, aggregate, version, null, null, Instant.now());
    }

    static Connection connect(PostgresServer postgres, String database) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", postgres.user());
        p.setProperty("password", postgres.password());
        return DriverManager.getConnection(postgres.jdbcUrl(database), p);
    }

    /** Inserts a row whose envelope is not an EventEnvelope (bypassing Outbox.append). */
    static long insertGarbage(Connection c, String topic, String key) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(
            "INSERT INTO outbox (topic, kafka_key, event_id, event_type, envelope) VALUES (?, ?, ?, 'Garbage', ?) RETURNING id")) {
            s.setString(1, topic);
            s.setString(2, key);
            s.setObject(3, UUID.randomUUID());
            s.setBytes(4, new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, 0x01});
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    static long count(Connection c, String sql) throws SQLException {
        try (PreparedStatement s = c.prepareStatement(sql); ResultSet rs = s.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    static KafkaConsumer<String, byte[]> consumer(KafkaServer kafka, Collection<String> topics) {
        Properties p = new Properties();
        p.putAll(kafka.clientProperties());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "outbox-relay-it-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
        consumer.subscribe(List.copyOf(topics));
        return consumer;
    }

    /** Polls until {@code count} records whose key starts with {@code keyPrefix} arrived (or the time is up). */
    static List<ConsumerRecord<String, byte[]>> await(KafkaConsumer<String, byte[]> consumer, String keyPrefix,
                                                      int count, Duration atMost) {
        List<ConsumerRecord<String, byte[]>> seen = new ArrayList<>();
        long deadline = System.nanoTime() + atMost.toNanos();
        while (seen.size() < count && System.nanoTime() < deadline) {
            for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                if (r.key() != null && r.key().startsWith(keyPrefix)) {
                    seen.add(r);
                }
            }
        }
        return seen;
    }
}
