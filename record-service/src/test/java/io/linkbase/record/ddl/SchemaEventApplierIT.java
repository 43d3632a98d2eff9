package io.linkbase.record.ddl;

import io.linkbase.devstack.ServiceWiring;
import io.linkbase.devstack.TestServers;
import io.linkbase.kit.consumer.AppliedVersions;
import io.linkbase.kit.db.Db;
import io.linkbase.kit.events.Envelopes;
import io.linkbase.kit.events.Topics;
import io.linkbase.proto.events.v1.ColumnAdded;
import io.linkbase.proto.events.v1.ColumnDef;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.events.v1.TableCreated;
import io.linkbase.proto.events.v1.TenantProvisioned;
import io.linkbase.proto.v1.ColumnType;
import io.linkbase.record.sql.PhysicalNames;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import io.micronaut.test.support.TestPropertyProvider;
import jakarta.inject.Inject;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * record-service consumes schema events from real Kafka and applies them to real PostgreSQL as
 * DDL, once per table version: redelivery changes nothing, an early event waits for its
 * predecessor.
 */
@MicronautTest(transactional = false)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SchemaEventApplierIT implements TestPropertyProvider {
    @Inject
    Db db;

    private KafkaProducer<String, byte[]> producer;

    @Override
    public Map<String, String> getProperties() {
        return ServiceWiring.service()
            .database(TestServers.postgres(), "record_schema_events_it")
            .kafka(TestServers.kafka())
            .httpPort(ServiceWiring.freePort())
            .grpcPort(ServiceWiring.freePort())
            .property("linkbase.consumers.park-after", "2s") // parks sooner than the 30 s default
            .properties();
    }

    @BeforeAll
    void connect() {
        Properties p = new Properties();
        p.putAll(TestServers.kafka().clientProperties());
        producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    }

    @AfterAll
    void disconnect() {
        producer.close();
    }

    @Test
    void aCreatedTableBecomesARealTableAndARedeliveryChangesNothing() {
        String tenant = "rec-" + UUID.randomUUID().toString().substring(0, 8);
        String table = UUID.randomUUID().toString();
        EventEnvelope provisioned = envelope(tenant, Envelopes.TENANT_AGGREGATE, 1,
            EventEnvelope.newBuilder().setTenantProvisioned(TenantProvisioned.getDefaultInstance()));
        EventEnvelope created = envelope(tenant, table, 1, tableCreated("Title"));
        publish(provisioned, created);

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
            assertThat(columnsOf(tenant, table)).hasSize(3)); // id, Title, _version

        // The same events again (a relay that re-published after a crash), then the next one.
        EventEnvelope added = envelope(tenant, table, 2, columnAdded(ColumnType.DURATION));
        publish(provisioned, created, added);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
            assertThat(appliedVersion(tenant, table)).isEqualTo(2));
        assertThat(columnsOf(tenant, table)).hasSize(4).contains("interval");
        assertThat(parked(provisioned, created, added)).isZero();
        // Delivering directly once more is judged a duplicate and does nothing.
        AppliedVersions.Verdict again = db.inTransaction(c -> AppliedVersions.judge(c, SchemaEventApplier.CONSUMER, created));
        assertThat(again).isEqualTo(AppliedVersions.Verdict.DUPLICATE);
    }

    @Test
    void anEventThatArrivesBeforeItsPredecessorWaitsForIt() {
        String tenant = "rec-" + UUID.randomUUID().toString().substring(0, 8);
        String table = UUID.randomUUID().toString();
        EventEnvelope created = envelope(tenant, table, 1, tableCreated("Name"));
        EventEnvelope added = envelope(tenant, table, 2, columnAdded(ColumnType.INTEGER));
        EventEnvelope addedAgain = envelope(tenant, table, 3, columnAdded(ColumnType.UUID));

        publish(addedAgain, added);
        await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            assertThat(appliedVersion(tenant, table)).isZero();
            assertThat(columnsOf(tenant, table)).isEmpty();
        });

        publish(created);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
            assertThat(appliedVersion(tenant, table)).isEqualTo(3));
        assertThat(columnsOf(tenant, table)).containsExactlyInAnyOrder("bigint", "text", "bigint", "uuid", "bigint");
    }

    @Test
    void physicalNamesAreGeneratedAndQuotedNeverUserText() {
        String tenant = "rec-" + UUID.randomUUID().toString().substring(0, 8);
        String table = UUID.randomUUID().toString();
        publish(envelope(tenant, table, 1, tableCreated("\"; DROP TABLE physical_tables; --")));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
            assertThat(columnsOf(tenant, table)).hasSize(3));
        long catalogued = db.read(c -> {
            try (ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM physical_tables")) {
                rs.next();
                return rs.getLong(1);
            }
        });
        assertThat(catalogued).isPositive();
    }

    @Test
    void aTableOverPostgresColumnLimitIsParkedAndTheNextTableOnItsPartitionIsCreated() {
        String tenant = "rec-" + UUID.randomUUID().toString().substring(0, 8);
        String wide = UUID.randomUUID().toString();
        String next = sameSchemaPartition(tenant, wide);
        EventEnvelope provisioned = envelope(tenant, Envelopes.TENANT_AGGREGATE, 1,
            EventEnvelope.newBuilder().setTenantProvisioned(TenantProvisioned.getDefaultInstance()));
        // 1,601 columns: PostgreSQL refuses the CREATE TABLE (54011), every time
        EventEnvelope.Builder tooWide = tableCreated("Title");
        for (int i = 0; i < 1_599; i++) {
            tooWide.getTableCreatedBuilder().addColumns(ColumnDef.newBuilder()
                .setColumnId(UUID.randomUUID().toString()).setName("c" + i).setType(ColumnType.BOOLEAN));
        }
        EventEnvelope wideCreated = envelope(tenant, wide, 1, tooWide);
        EventEnvelope nextCreated = envelope(tenant, next, 1, tableCreated("Name"));
        EventEnvelope nextAdded = envelope(tenant, next, 2, columnAdded(ColumnType.INTEGER));
        long t0 = System.nanoTime();
        publish(provisioned, wideCreated, nextCreated, nextAdded);

        await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
            assertThat(appliedVersion(tenant, next)).isEqualTo(2));
        System.out.printf("[parking] the 1,601-column table was parked and the next table on its partition "
            + "created in %d ms%n", (System.nanoTime() - t0) / 1_000_000);
        assertThat(columnsOf(tenant, next)).hasSize(4);
        assertThat(columnsOf(tenant, wide)).isEmpty();
        assertThat(appliedVersion(tenant, wide)).isEqualTo(1); // parked counts as applied: its successors go on
        String reason = db.read(c -> {
            try (PreparedStatement s = c.prepareStatement(
                "SELECT reason FROM parked_events WHERE consumer = ? AND event_id = ?")) {
                s.setString(1, SchemaEventApplier.CONSUMER);
                s.setObject(2, UUID.fromString(wideCreated.getEventId()));
                try (ResultSet rs = s.executeQuery()) {
                    return rs.next() ? rs.getString(1) : null;
                }
            }
        });
        assertThat(reason).contains("54011").contains("1600");
    }

    /** A table id whose schema events land on the same partition as {@code table}'s. */
    private String sameSchemaPartition(String tenant, String table) {
        int partitions = producer.partitionsFor(Topics.SCHEMA).size();
        int wanted = partitionOf(tenant + "/" + table, partitions);
        while (true) {
            String other = UUID.randomUUID().toString();
            if (partitionOf(tenant + "/" + other, partitions) == wanted) {
                return other;
            }
        }
    }

    private static int partitionOf(String key, int partitions) {
        return org.apache.kafka.common.utils.Utils.toPositive(
            org.apache.kafka.common.utils.Utils.murmur2(key.getBytes(java.nio.charset.StandardCharsets.UTF_8))) % partitions;
    }

    private void publish(EventEnvelope... events) {
        for (EventEnvelope e : events) {
            producer.send(new ProducerRecord<>(Topics.SCHEMA, Envelopes.kafkaKey(e), e.toByteArray()));
        }
        producer.flush();
    }

    private static EventEnvelope envelope(String tenant, String aggregate, long version, EventEnvelope.Builder payload) {
        return Envelopes.seal(payload, tenant, aggregate, version, "", "", Instant.now());
    }

    private static EventEnvelope.Builder tableCreated(String textColumnName) {
        String pk = UUID.randomUUID().toString();
        String text = UUID.randomUUID().toString();
        return EventEnvelope.newBuilder().setTableCreated(TableCreated.newBuilder()
            .setName("T").setPrimaryKeyColumnId(pk).setDisplayColumnId(text)
            .addColumns(ColumnDef.newBuilder().setColumnId(pk).setName("id").setType(ColumnType.INTEGER).setPrimaryKey(true))
            .addColumns(ColumnDef.newBuilder().setColumnId(text).setName(textColumnName).setType(ColumnType.TEXT)));
    }

    private static EventEnvelope.Builder columnAdded(ColumnType type) {
        return EventEnvelope.newBuilder().setColumnAdded(ColumnAdded.newBuilder().setColumn(
            ColumnDef.newBuilder().setColumnId(UUID.randomUUID().toString()).setName("c").setType(type)));
    }

    /** The data types of the real table's columns, from PostgreSQL's own catalog. */
    private List<String> columnsOf(String tenant, String table) {
        return db.read(c -> {
            List<String> types = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement(
                "SELECT data_type FROM information_schema.columns WHERE table_schema = ? AND table_name = ?")) {
                s.setString(1, PhysicalNames.schema(tenant));
                s.setString(2, PhysicalNames.table(table));
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        types.add(rs.getString(1));
                    }
                }
            }
            return types;
        });
    }

    private long appliedVersion(String tenant, String table) {
        return db.read(c -> AppliedVersions.current(c, SchemaEventApplier.CONSUMER, tenant, table));
    }

    private long parked(EventEnvelope... events) {
        return db.read(c -> {
            long n = 0;
            for (EventEnvelope e : events) {
                try (PreparedStatement s = c.prepareStatement("SELECT count(*) FROM parked_events WHERE event_id = ?")) {
                    s.setObject(1, UUID.fromString(e.getEventId()));
                    try (ResultSet rs = s.executeQuery()) {
                        rs.next();
                        n += rs.getLong(1);
                    }
                }
            }
            return n;
        });
    }
}
