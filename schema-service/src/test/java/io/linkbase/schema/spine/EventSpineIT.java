package io.linkbase.schema.spine;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.linkbase.devstack.ServiceWiring;
import io.linkbase.devstack.TestServers;
import io.linkbase.kit.db.Db;
import io.linkbase.kit.events.Envelopes;
import io.linkbase.kit.events.Topics;
import io.linkbase.kit.grpc.ApiException;
import io.linkbase.kit.grpc.Tenants;
import io.linkbase.kit.kafka.KafkaSettings;
import io.linkbase.kit.outbox.OutboxRelay;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.internal.v1.ProvisionTenantRequest;
import io.linkbase.proto.internal.v1.SchemaServiceGrpc;
import io.linkbase.proto.v1.AddColumnRequest;
import io.linkbase.proto.v1.CreateTableRequest;
import io.linkbase.proto.v1.GetTableRequest;
import io.linkbase.proto.v1.NewColumn;
import io.linkbase.proto.v1.Table;
import io.linkbase.proto.v1.TableEvent;
import io.linkbase.proto.v1.TableEventsRequest;
import io.linkbase.proto.v1.UpdateTableRequest;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import io.micronaut.test.support.TestPropertyProvider;
import jakarta.inject.Inject;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The event spine on real PostgreSQL and Kafka: commands through the gRPC API land in the event
 * store and the outbox in one transaction and reach Kafka once, in order, fully enveloped.
 */
@MicronautTest(transactional = false)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EventSpineIT implements TestPropertyProvider {
    private static final int GRPC_PORT = ServiceWiring.freePort();

    @Inject
    OutboxRelay relay;
    @Inject
    Db db;
    @Inject
    KafkaSettings kafkaSettings;

    private ManagedChannel channel;
    private KafkaConsumer<String, byte[]> kafka;
    private final List<ConsumerRecord<String, byte[]>> seen = new ArrayList<>();

    @Override
    public Map<String, String> getProperties() {
        return ServiceWiring.service()
            .database(TestServers.postgres(), "schema_spine_it")
            .kafka(TestServers.kafka())
            .httpPort(ServiceWiring.freePort())
            .grpcPort(GRPC_PORT)
            .properties();
    }

    @BeforeAll
    void connect() {
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", GRPC_PORT).usePlaintext().build();
        kafkaSettings.ensureTopics();
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, TestServers.kafka().bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "spine-it-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        kafka = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
        kafka.subscribe(List.of(Topics.SCHEMA));
    }

    @AfterAll
    void disconnect() {
        channel.shutdownNow();
        kafka.close();
    }

    @Test
    void eventsOfATableArriveOnceInOrderWithTheEnvelopeFilled() {
        String tenant = provisioned("spine-order");
        SchemaServiceGrpc.SchemaServiceBlockingStub api = api(tenant);
        Table t = api.createTable(CreateTableRequest.newBuilder().setName("Track").build());
        api.addColumn(AddColumnRequest.newBuilder().setTableId(t.getId()).setColumn(NewColumn.getDefaultInstance()).build());
        api.updateTable(UpdateTableRequest.newBuilder().setTableId(t.getId()).setName("Tracks").build());

        List<ConsumerRecord<String, byte[]>> published = awaitRecords(tenant + "/" + t.getId(), 3);
        List<EventEnvelope> events = published.stream().map(r -> Envelopes.parse(r.value())).toList();

        assertThat(events).extracting(EventEnvelope::getEventType)
            .containsExactly("TableCreated", "ColumnAdded", "TableRenamed");
        assertThat(events).extracting(EventEnvelope::getAggregateVersion).containsExactly(1L, 2L, 3L);
        for (int i = 0; i < events.size(); i++) {
            EventEnvelope e = events.get(i);
            assertThat(UUID.fromString(e.getEventId())).isNotNull();
            assertThat(e.getTenantId()).isEqualTo(tenant);
            assertThat(e.getAggregateId()).isEqualTo(t.getId());
            assertThat(e.getOccurredAt().getSeconds()).isPositive();
            assertThat(e.getCorrelationId()).isNotEmpty();
            assertThat(e.getSchemaVersion()).isEqualTo(1);
            assertThat(header(published.get(i), Envelopes.H_EVENT_ID)).isEqualTo(e.getEventId());
            assertThat(header(published.get(i), Envelopes.H_EVENT_TYPE)).isEqualTo(e.getEventType());
            assertThat(header(published.get(i), Envelopes.H_TENANT_ID)).isEqualTo(tenant);
            assertThat(header(published.get(i), Envelopes.H_AGGREGATE_VERSION)).isEqualTo(Long.toString(i + 1));
        }
        // The published stream is the stored stream: same events, same order.
        List<TableEvent> stored = api.listTableEvents(TableEventsRequest.newBuilder().setTableId(t.getId()).build())
            .getEventsList();
        assertThat(stored).extracting(TableEvent::getType)
            .containsExactlyElementsOf(events.stream().map(EventEnvelope::getEventType).toList());
        assertThat(stored).extracting(TableEvent::getVersion).containsExactly(1L, 2L, 3L);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(outboxSize()).isZero());
    }

    @Test
    void aRelayStoppedBetweenCommitAndPublishStillPublishesOnRestart() {
        String tenant = provisioned("spine-relay");
        awaitRecords(tenant + "/" + Envelopes.TENANT_AGGREGATE, 1);
        relay.stop();
        Table t;
        try {
            t = api(tenant).createTable(CreateTableRequest.newBuilder().setName("Album").build());
            assertThat(outboxSize()).isEqualTo(1);
            assertThat(pollFor(tenant + "/" + t.getId(), Duration.ofMillis(1500))).isEmpty();
        } finally {
            relay.start();
        }
        List<ConsumerRecord<String, byte[]>> published = awaitRecords(tenant + "/" + t.getId(), 1);
        assertThat(Envelopes.parse(published.get(0).value()).getEventType()).isEqualTo("TableCreated");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(outboxSize()).isZero());
    }

    @Test
    void ofTwoConcurrentWritersOneWinsAndTheOtherGetsAVersionConflict() throws Exception {
        String tenant = provisioned("spine-race");
        SchemaServiceGrpc.SchemaServiceBlockingStub api = api(tenant);
        Table t = api.createTable(CreateTableRequest.newBuilder().setName("Race").build());
        CountDownLatch go = new CountDownLatch(1);
        List<CompletableFuture<String>> writers = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            String name = "col" + i;
            writers.add(CompletableFuture.supplyAsync(() -> {
                try {
                    go.await();
                    api.addColumn(AddColumnRequest.newBuilder().setTableId(t.getId()).setExpectedVersion(1)
                        .setColumn(NewColumn.newBuilder().setName(name)).build());
                    return "ok";
                } catch (StatusRuntimeException e) {
                    return ApiException.infoOf(e).getCode();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }));
        }
        go.countDown();
        List<String> outcomes = new ArrayList<>();
        for (CompletableFuture<String> w : writers) {
            outcomes.add(w.get(30, TimeUnit.SECONDS));
        }
        assertThat(outcomes).containsExactlyInAnyOrder("ok", "version_conflict");
        List<TableEvent> stored = api.listTableEvents(TableEventsRequest.newBuilder().setTableId(t.getId()).build())
            .getEventsList();
        assertThat(stored).extracting(TableEvent::getVersion).containsExactly(1L, 2L);
        assertThat(api.getTable(GetTableRequest.newBuilder().setTableId(t.getId()).build()).getVersion()).isEqualTo(2);
    }

    @Test
    void badInputIsRefusedWithItsCodeAndAppendsNothing() {
        String tenant = provisioned("spine-bad");
        SchemaServiceGrpc.SchemaServiceBlockingStub api = api(tenant);
        long before = eventCount(tenant);
        assertThatThrownBy(() -> api.createTable(CreateTableRequest.newBuilder().setName(" ").build()))
            .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                assertThat(ApiException.infoOf(e).getCode()).isEqualTo("validation_failed");
            });
        Table t = api.createTable(CreateTableRequest.newBuilder().setName("Artist").build());
        assertThatThrownBy(() -> api.createTable(CreateTableRequest.newBuilder().setName("ARTIST").build()))
            .isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(ApiException.infoOf(e).getCode()).isEqualTo("conflict"));
        assertThat(eventCount(tenant)).isEqualTo(before + 1);
        // Another tenant's ids are simply not found.
        String other = provisioned("spine-other");
        assertThatThrownBy(() -> api(other).getTable(GetTableRequest.newBuilder().setTableId(t.getId()).build()))
            .isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
    }

    private String provisioned(String prefix) {
        String tenant = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
        SchemaServiceGrpc.newBlockingStub(channel)
            .provisionTenant(ProvisionTenantRequest.newBuilder().setTenantId(tenant).build());
        return tenant;
    }

    private SchemaServiceGrpc.SchemaServiceBlockingStub api(String tenant) {
        Metadata md = new Metadata();
        md.put(Tenants.METADATA_KEY, tenant);
        return SchemaServiceGrpc.newBlockingStub(channel)
            .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
            .withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    /** Waits for {@code count} records with {@code key}, then polls a little longer to catch duplicates. */
    private List<ConsumerRecord<String, byte[]>> awaitRecords(String key, int count) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (matching(key).size() < count && System.nanoTime() < deadline) {
            poll(Duration.ofMillis(200));
        }
        poll(Duration.ofMillis(500));
        List<ConsumerRecord<String, byte[]>> found = matching(key);
        assertThat(found).as("records with key %s", key).hasSize(count);
        return found;
    }

    private List<ConsumerRecord<String, byte[]>> pollFor(String key, Duration duration) {
        long deadline = System.nanoTime() + duration.toNanos();
        while (System.nanoTime() < deadline) {
            poll(Duration.ofMillis(100));
        }
        return matching(key);
    }

    private void poll(Duration d) {
        kafka.poll(d).forEach(seen::add);
    }

    private List<ConsumerRecord<String, byte[]>> matching(String key) {
        return seen.stream().filter(r -> key.equals(r.key())).toList();
    }

    private static String header(ConsumerRecord<String, byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    private long outboxSize() {
        return count("SELECT count(*) FROM outbox", null);
    }

    private long eventCount(String tenant) {
        return count("SELECT count(*) FROM events WHERE tenant_id = ?", tenant);
    }

    private long count(String sql, String arg) {
        return db.read(c -> {
            try (PreparedStatement s = c.prepareStatement(sql)) {
                if (arg != null) {
                    s.setString(1, arg);
                }
                try (ResultSet rs = s.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
    }
}
