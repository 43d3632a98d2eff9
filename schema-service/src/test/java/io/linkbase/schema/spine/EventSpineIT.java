package io.linkbase.schema.spine;

import io.grpc.ManagedChannel;
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
import io.linkbase.kit.grpc.ServiceCredentials;
import io.linkbase.kit.grpc.Tenants;
import io.linkbase.kit.kafka.KafkaSettings;
import io.linkbase.kit.outbox.OutboxRelay;
import io.linkbase.proto.events.v1.ColumnLinked;
import io.linkbase.proto.events.v1.ColumnUnlinked;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.events.v1.LinkReconciled;
import io.linkbase.proto.events.v1.LinkProgressed;
import io.linkbase.proto.events.v1.LinkTargetIndexed;
import io.linkbase.proto.internal.v1.SchemaServiceGrpc;
import io.linkbase.proto.v1.AddColumnRequest;
import io.linkbase.proto.v1.Column;
import io.linkbase.proto.v1.ColumnType;
import io.linkbase.proto.v1.CreateTableRequest;
import io.linkbase.proto.v1.DeleteTableRequest;
import io.linkbase.proto.v1.DropColumnRequest;
import io.linkbase.proto.v1.GetLinkRequest;
import io.linkbase.proto.v1.GetTableRequest;
import io.linkbase.proto.v1.Link;
import io.linkbase.proto.v1.LinkCandidateColumn;
import io.linkbase.proto.v1.LinkCandidateTable;
import io.linkbase.proto.v1.LinkCandidatesRequest;
import io.linkbase.proto.v1.LinkCandidatesResponse;
import io.linkbase.proto.v1.LinkColumnRequest;
import io.linkbase.proto.v1.LinkProgress;
import io.linkbase.proto.v1.LinkState;
import io.linkbase.proto.v1.ListTablesRequest;
import io.linkbase.proto.v1.NewColumn;
import io.linkbase.proto.v1.OnDelete;
import io.linkbase.proto.v1.ProvisionTenantRequest;
import io.linkbase.proto.v1.Table;
import io.linkbase.proto.v1.TableEvent;
import io.linkbase.proto.v1.TableEventsRequest;
import io.linkbase.proto.v1.UnlinkColumnRequest;
import io.linkbase.proto.v1.UpdateColumnRequest;
import io.linkbase.proto.v1.UpdateTableRequest;
import io.linkbase.schema.store.EventStore;
import io.linkbase.schema.store.TableViews;
import io.linkbase.schema.table.TableAggregate;
import io.linkbase.schema.table.TableState;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import io.micronaut.test.support.TestPropertyProvider;
import jakarta.inject.Inject;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
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
        channel = ServiceCredentials.channel("127.0.0.1:" + GRPC_PORT, ServiceWiring.SERVICE_SECRET, "test").build();
        kafkaSettings.ensureTopics();
        Properties p = new Properties();
        p.putAll(TestServers.kafka().clientProperties());
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
        SchemaServiceGrpc.SchemaServiceBlockingStub api = api(tenant);
        Table t = api.createTable(CreateTableRequest.newBuilder().setName("Album").build());
        api.addColumn(AddColumnRequest.newBuilder().setTableId(t.getId()).setColumn(NewColumn.getDefaultInstance()).build());
        awaitRecords(tenant + "/" + t.getId(), 2);
        relay.stop(); // mid-way through the table's stream: two events out, the next ones not yet
        try {
            api.addColumn(AddColumnRequest.newBuilder().setTableId(t.getId()).setColumn(NewColumn.getDefaultInstance()).build());
            api.updateTable(UpdateTableRequest.newBuilder().setTableId(t.getId()).setName("Albums").build());
            assertThat(outboxSize()).isEqualTo(2);
            assertThat(pollFor(tenant + "/" + t.getId(), Duration.ofMillis(1500))).hasSize(2);
        } finally {
            relay.start();
        }
        List<ConsumerRecord<String, byte[]>> published = awaitRecords(tenant + "/" + t.getId(), 4);
        // The published stream equals the stored stream: same event ids, same order, no duplicates.
        assertThat(published.stream().map(r -> Envelopes.parse(r.value()).getEventId()).toList())
            .containsExactlyElementsOf(storedEventIds(tenant, t.getId()));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(outboxSize()).isZero());
    }

    private List<String> storedEventIds(String tenant, String tableId) {
        return db.read(c -> {
            List<String> ids = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement(
                "SELECT event_id::text FROM events WHERE tenant_id = ? AND aggregate_id = ? ORDER BY version")) {
                s.setString(1, tenant);
                s.setString(2, tableId);
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        ids.add(rs.getString(1));
                    }
                }
            }
            return ids;
        });
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
        assertRefused(() -> api.createTable(CreateTableRequest.newBuilder().setName("x".repeat(121)).build()),
            Status.Code.INVALID_ARGUMENT, "validation_failed");
        assertRefused(() -> api.createTable(CreateTableRequest.newBuilder().setName("Typed")
            .addColumns(NewColumn.newBuilder().setName("c").setTypeValue(99)).build()),
            Status.Code.INVALID_ARGUMENT, "validation_failed");
        assertRefused(() -> api.addColumn(AddColumnRequest.newBuilder().setTableId(t.getId())
            .setColumn(NewColumn.newBuilder().setName("c").setTypeValue(99)).build()),
            Status.Code.INVALID_ARGUMENT, "validation_failed");
        assertRefused(() -> api.addColumn(AddColumnRequest.newBuilder().setTableId("not a table id")
            .setColumn(NewColumn.getDefaultInstance()).build()), Status.Code.NOT_FOUND, "not_found");
        assertRefused(() -> api.updateTable(UpdateTableRequest.newBuilder().setTableId(t.getId()).setName("").build()),
            Status.Code.INVALID_ARGUMENT, "validation_failed");
        assertThat(eventCount(tenant)).isEqualTo(before + 1);
        // Another tenant's ids are simply not found.
        String other = provisioned("spine-other");
        assertThatThrownBy(() -> api(other).getTable(GetTableRequest.newBuilder().setTableId(t.getId()).build()))
            .isInstanceOfSatisfying(StatusRuntimeException.class,
                e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
    }

    @Test
    void linkThenUnlinkPublishesColumnLinkedAndColumnUnlinkedAsStored() {
        String tenant = provisioned("spine-link");
        SchemaServiceGrpc.SchemaServiceBlockingStub api = api(tenant);
        Table artist = api.createTable(CreateTableRequest.newBuilder().setName("Artist")
            .addColumns(NewColumn.newBuilder().setName("Name"))
            .addColumns(NewColumn.newBuilder().setName("Code").setType(ColumnType.UUID).setUnique(true)).build());
        Table track = api.createTable(CreateTableRequest.newBuilder().setName("track")
            .addColumns(NewColumn.newBuilder().setName("Title"))
            .addColumns(NewColumn.newBuilder().setName("Artist")).build());
        String artistColumn = col(track, "Artist").getId();

        // Candidates: every table, itself included, sorted by name, with PK and unique columns.
        LinkCandidatesResponse candidates = api.getLinkCandidates(LinkCandidatesRequest.newBuilder()
            .setTableId(track.getId()).setColumnId(artistColumn).build());
        assertThat(candidates.getTablesList()).extracting(LinkCandidateTable::getName).containsExactly("Artist", "track");
        LinkCandidateTable artistCandidate = candidates.getTables(0);
        assertThat(artistCandidate.getDefaultColumnId()).isEqualTo(artist.getPrimaryKeyColumnId());
        assertThat(artistCandidate.getColumnsList()).extracting(LinkCandidateColumn::getName).containsExactly("id", "Code");
        assertThat(candidates.getTables(1).getColumnsList()).extracting(LinkCandidateColumn::getName).containsExactly("id");

        long before = eventCount(tenant);
        assertRefused(() -> api.linkColumn(LinkColumnRequest.newBuilder().setTableId(track.getId())
            .setColumnId(artistColumn).setTargetTableId(artist.getId())
            .setTargetColumnId(col(artist, "Name").getId()).build()), Status.Code.INVALID_ARGUMENT, "link_target_not_unique");
        assertThat(eventCount(tenant)).isEqualTo(before);

        Link link = api.linkColumn(LinkColumnRequest.newBuilder().setTableId(track.getId()).setColumnId(artistColumn)
            .setTargetTableId(artist.getId()).build());
        assertThat(link.getTargetColumnId()).isEqualTo(artist.getPrimaryKeyColumnId());
        assertThat(link.getOnDelete()).isEqualTo(OnDelete.SET_NULL);
        assertThat(link.getState()).isEqualTo(LinkState.RECONCILING);
        assertThat(api.getLink(GetLinkRequest.newBuilder().setTableId(track.getId()).setColumnId(artistColumn).build()))
            .isEqualTo(link);
        Table linked = api.getTable(GetTableRequest.newBuilder().setTableId(track.getId()).build());
        assertThat(col(linked, "Artist").getType()).isEqualTo(ColumnType.INTEGER);

        assertRefused(() -> api.linkColumn(LinkColumnRequest.newBuilder().setTableId(track.getId())
            .setColumnId(artistColumn).setTargetTableId(artist.getId()).build()), Status.Code.FAILED_PRECONDITION, "conflict");
        // Another tenant's ids are not found, as the linking table and as the target.
        String other = provisioned("spine-link-other");
        Table foreign = api(other).createTable(CreateTableRequest.newBuilder().setName("Foreign").build());
        assertRefused(() -> api(other).linkColumn(LinkColumnRequest.newBuilder().setTableId(track.getId())
            .setColumnId(col(track, "Title").getId()).setTargetTableId(foreign.getId()).build()),
            Status.Code.NOT_FOUND, "not_found");
        assertRefused(() -> api.linkColumn(LinkColumnRequest.newBuilder().setTableId(track.getId())
            .setColumnId(col(track, "Title").getId()).setTargetTableId(foreign.getId()).build()),
            Status.Code.NOT_FOUND, "not_found");
        assertThat(eventCount(tenant)).isEqualTo(before + 1);

        api.unlinkColumn(UnlinkColumnRequest.newBuilder().setTableId(track.getId()).setColumnId(artistColumn).build());
        assertRefused(() -> api.getLink(GetLinkRequest.newBuilder().setTableId(track.getId()).setColumnId(artistColumn)
            .build()), Status.Code.NOT_FOUND, "not_found");
        assertRefused(() -> api.unlinkColumn(UnlinkColumnRequest.newBuilder().setTableId(track.getId())
            .setColumnId(artistColumn).build()), Status.Code.NOT_FOUND, "not_found");
        Column unlinked = col(api.getTable(GetTableRequest.newBuilder().setTableId(track.getId()).build()), "Artist");
        assertThat(unlinked.hasLink()).isFalse();
        assertThat(unlinked.getType()).isEqualTo(ColumnType.INTEGER);

        List<EventEnvelope> published = awaitRecords(tenant + "/" + track.getId(), 3).stream()
            .map(r -> Envelopes.parse(r.value())).toList();
        assertThat(published).extracting(EventEnvelope::getEventType)
            .containsExactly("TableCreated", "ColumnLinked", "ColumnUnlinked");
        ColumnLinked linkedEvent = published.get(1).getColumnLinked();
        assertThat(linkedEvent.getColumnId()).isEqualTo(artistColumn);
        assertThat(linkedEvent.getTargetTableId()).isEqualTo(artist.getId());
        assertThat(linkedEvent.getTargetColumnId()).isEqualTo(artist.getPrimaryKeyColumnId());
        assertThat(linkedEvent.getTargetColumnType()).isEqualTo(ColumnType.INTEGER);
        assertThat(linkedEvent.getPreviousType()).isEqualTo(ColumnType.TEXT);
        assertThat(linkedEvent.getOnDelete()).isEqualTo(OnDelete.SET_NULL);
        ColumnUnlinked unlinkedEvent = published.get(2).getColumnUnlinked();
        assertThat(unlinkedEvent.getColumnId()).isEqualTo(artistColumn);
        assertThat(unlinkedEvent.getTargetTableId()).isEqualTo(artist.getId());
        assertThat(unlinkedEvent.getTargetColumnId()).isEqualTo(artist.getPrimaryKeyColumnId());
        assertThat(unlinkedEvent.getRestoredType()).isEqualTo(ColumnType.INTEGER);
        // The published stream is the stored stream, event for event.
        List<EventEnvelope> stored = db.read(c -> EventStore.load(c, tenant, track.getId()));
        assertThat(stored).isEqualTo(published);
    }

    @Test
    void aLinkTargetCannotBeDeletedAndTheRefusalAppendsNothing() {
        String tenant = provisioned("spine-in-use");
        SchemaServiceGrpc.SchemaServiceBlockingStub api = api(tenant);
        Table artist = api.createTable(CreateTableRequest.newBuilder().setName("Artist")
            .addColumns(NewColumn.newBuilder().setName("Code").setType(ColumnType.UUID).setUnique(true)).build());
        Table track = api.createTable(CreateTableRequest.newBuilder().setName("Track")
            .addColumns(NewColumn.newBuilder().setName("Artist"))
            .addColumns(NewColumn.newBuilder().setName("Parent")).build());
        String code = col(artist, "Code").getId();
        api.linkColumn(LinkColumnRequest.newBuilder().setTableId(track.getId()).setColumnId(col(track, "Artist").getId())
            .setTargetTableId(artist.getId()).setTargetColumnId(code).setOnDelete(OnDelete.CASCADE).build());
        // A table may link to itself.
        api.linkColumn(LinkColumnRequest.newBuilder().setTableId(track.getId()).setColumnId(col(track, "Parent").getId())
            .setTargetTableId(track.getId()).build());

        long before = eventCount(tenant);
        assertRefused(() -> api.deleteTable(DeleteTableRequest.newBuilder().setTableId(artist.getId()).build()),
            Status.Code.FAILED_PRECONDITION, "link_target_in_use");
        assertRefused(() -> api.dropColumn(DropColumnRequest.newBuilder().setTableId(artist.getId()).setColumnId(code)
            .build()), Status.Code.FAILED_PRECONDITION, "link_target_in_use");
        assertRefused(() -> api.updateColumn(UpdateColumnRequest.newBuilder().setTableId(artist.getId())
            .setColumnId(code).setUnique(false).build()), Status.Code.FAILED_PRECONDITION, "link_target_in_use");
        assertRefused(() -> api.dropColumn(DropColumnRequest.newBuilder().setTableId(artist.getId())
            .setColumnId(artist.getPrimaryKeyColumnId()).build()), Status.Code.INVALID_ARGUMENT, "validation_failed");
        assertRefused(() -> api.updateColumn(UpdateColumnRequest.newBuilder().setTableId(artist.getId())
            .setColumnId(artist.getPrimaryKeyColumnId()).setType(ColumnType.TEXT).build()),
            Status.Code.INVALID_ARGUMENT, "validation_failed");
        assertRefused(() -> api.deleteTable(DeleteTableRequest.newBuilder().setTableId(artist.getId())
            .setExpectedVersion(7).build()), Status.Code.ABORTED, "version_conflict");
        assertThat(eventCount(tenant)).isEqualTo(before);
        assertThat(api.getTable(GetTableRequest.newBuilder().setTableId(artist.getId()).build()).getVersion()).isEqualTo(1);

        // Once the link is gone the target can go; a table linking only to itself can go at once.
        api.unlinkColumn(UnlinkColumnRequest.newBuilder().setTableId(track.getId())
            .setColumnId(col(track, "Artist").getId()).build());
        api.deleteTable(DeleteTableRequest.newBuilder().setTableId(artist.getId()).setExpectedVersion(1).build());
        api.deleteTable(DeleteTableRequest.newBuilder().setTableId(track.getId()).build());
        assertRefused(() -> api.getTable(GetTableRequest.newBuilder().setTableId(artist.getId()).build()),
            Status.Code.NOT_FOUND, "not_found");
        assertRefused(() -> api.updateTable(UpdateTableRequest.newBuilder().setTableId(artist.getId()).setName("Back")
            .build()), Status.Code.NOT_FOUND, "not_found");
        assertThat(api.listTables(ListTablesRequest.getDefaultInstance()).getTablesList()).isEmpty();
        // The name is free again.
        assertThat(api.createTable(CreateTableRequest.newBuilder().setName("artist").build()).getName()).isEqualTo("artist");
    }

    @Test
    void rebuildingEveryTableFromItsEventsEqualsTheReadModel() {
        String tenant = provisioned("spine-rebuild");
        SchemaServiceGrpc.SchemaServiceBlockingStub api = api(tenant);
        Table album = api.createTable(CreateTableRequest.newBuilder().setName("Album")
            .addColumns(NewColumn.newBuilder().setName("Title")).build());
        Table song = api.createTable(CreateTableRequest.newBuilder().setName("Song")
            .addColumns(NewColumn.newBuilder().setName("Album"))
            .addColumns(NewColumn.newBuilder().setName("Length").setType(ColumnType.DURATION))
            .addColumns(NewColumn.newBuilder().setName("Notes")).build());
        api.updateTable(UpdateTableRequest.newBuilder().setTableId(album.getId()).setName("Albums")
            .setDisplayColumnId(album.getPrimaryKeyColumnId()).build());
        Column notes = api.updateColumn(UpdateColumnRequest.newBuilder().setTableId(song.getId())
            .setColumnId(col(song, "Notes").getId()).setName("Remarks").setType(ColumnType.INTEGER).setUnique(true).build());
        assertThat(notes.getName()).isEqualTo("Remarks");
        assertThat(notes.getType()).isEqualTo(ColumnType.INTEGER);
        assertThat(notes.getUnique()).isTrue();
        api.linkColumn(LinkColumnRequest.newBuilder().setTableId(song.getId()).setColumnId(col(song, "Album").getId())
            .setTargetTableId(album.getId()).setOnDelete(OnDelete.RESTRICT).build());
        api.dropColumn(DropColumnRequest.newBuilder().setTableId(song.getId()).setColumnId(col(song, "Length").getId())
            .build());
        api.addColumn(AddColumnRequest.newBuilder().setTableId(song.getId()).setColumn(NewColumn.getDefaultInstance()).build());
        Table gone = api.createTable(CreateTableRequest.newBuilder().setName("Gone").build());
        api.deleteTable(DeleteTableRequest.newBuilder().setTableId(gone.getId()).build());

        Table songNow = api.getTable(GetTableRequest.newBuilder().setTableId(song.getId()).build());
        assertThat(songNow.getColumnsList()).extracting(Column::getName)
            .containsExactly("id", "Album", "Remarks", "Column 1");
        assertThat(songNow.getVersion()).isEqualTo(7);

        record View(String tenant, String tableId, long version, boolean deleted, Table state) {
        }
        List<View> views = db.read(c -> {
            List<View> all = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement(
                "SELECT tenant_id, table_id, version, deleted, state FROM table_views");
                 ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    all.add(new View(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getBoolean(4),
                        Table.parseFrom(rs.getBytes(5))));
                }
            } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                throw new IllegalStateException(e);
            }
            return all;
        });
        assertThat(views).extracting(View::tableId).contains(album.getId(), song.getId(), gone.getId());
        assertThat(views).filteredOn(View::deleted).isNotEmpty();
        // The links read model holds exactly the links of the rebuilt tables.
        List<String> rebuiltLinks = new ArrayList<>();
        for (View v : views) {
            Table rebuilt = view(TableAggregate.replay(db.read(c -> EventStore.load(c, v.tenant(), v.tableId()))));
            if (rebuilt != null) {
                rebuilt.getColumnsList().stream().filter(Column::hasLink).forEach(col -> rebuiltLinks.add(
                    v.tenant() + "/" + v.tableId() + "/" + col.getId() + "->" + col.getLink().getTargetTableId()
                        + "/" + col.getLink().getTargetColumnId()));
            }
        }
        List<String> storedLinks = db.read(c -> {
            List<String> all = new ArrayList<>();
            try (PreparedStatement s = c.prepareStatement(
                "SELECT tenant_id, table_id, column_id, target_table_id, target_column_id FROM links");
                 ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    all.add(rs.getString(1) + "/" + rs.getString(2) + "/" + rs.getString(3) + "->"
                        + rs.getString(4) + "/" + rs.getString(5));
                }
            }
            return all;
        });
        assertThat(storedLinks).isNotEmpty().containsExactlyInAnyOrderElementsOf(rebuiltLinks);
        for (View v : views) {
            List<EventEnvelope> events = db.read(c -> EventStore.load(c, v.tenant(), v.tableId()));
            Table rebuilt = view(TableAggregate.replay(events));
            assertThat(v.version()).as("version of %s", v.tableId())
                .isEqualTo(events.get(events.size() - 1).getAggregateVersion());
            if (v.deleted()) {
                assertThat(rebuilt).as("deleted table %s", v.tableId()).isNull();
            } else {
                assertThat(rebuilt).as("table %s", v.tableId()).isEqualTo(v.state());
            }
        }
    }

    @Test
    void aLinkTurnsActiveOnceReconciledAndIndexedWithTheReconciledCounts() throws Exception {
        String tenant = provisioned("spine-state");
        SchemaServiceGrpc.SchemaServiceBlockingStub api = api(tenant);
        Table artist = api.createTable(CreateTableRequest.newBuilder().setName("Artist").build());
        Table track = api.createTable(CreateTableRequest.newBuilder().setName("Track")
            .addColumns(NewColumn.newBuilder().setName("Artist"))
            .addColumns(NewColumn.newBuilder().setName("Producer")).build());
        String column = col(track, "Artist").getId();
        String marker = col(track, "Producer").getId();
        GetLinkRequest getLink = GetLinkRequest.newBuilder().setTableId(track.getId()).setColumnId(column).build();
        LinkColumnRequest linkRequest = LinkColumnRequest.newBuilder().setTableId(track.getId()).setColumnId(column)
            .setTargetTableId(artist.getId()).build();
        api.linkColumn(linkRequest);
        long linkVersion = api.getTable(GetTableRequest.newBuilder().setTableId(track.getId()).build()).getVersion();
        api.linkColumn(linkRequest.toBuilder().setColumnId(marker).build());

        // As record-service would publish them, in order on one key: the answer, a report about an
        // earlier link of the column (ignored), the answer redelivered (a no-op), then a marker.
        String records = "records-" + UUID.randomUUID();
        EventEnvelope answer = Envelopes.seal(EventEnvelope.newBuilder().setLinkReconciled(
            reconciled(track, column, artist, linkVersion, 5, 2)), tenant, records, 1, "", "", Instant.now());
        publish(Topics.RECORDS, answer);
        publish(Topics.RECORDS, Envelopes.seal(EventEnvelope.newBuilder().setLinkReconciled(
            reconciled(track, column, artist, linkVersion - 1, 1000, 1000)), tenant, records, 2, "", "", Instant.now()));
        publish(Topics.RECORDS, answer);
        publish(Topics.RECORDS, Envelopes.seal(EventEnvelope.newBuilder().setLinkReconciled(
            reconciled(track, marker, artist, linkVersion + 1, 7, 0)), tenant, records, 3, "", "", Instant.now()));
        GetLinkRequest getMarker = getLink.toBuilder().setColumnId(marker).build();
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(api.getLink(getMarker).getKeptCount()).isEqualTo(7));
        Link reconciledOnly = api.getLink(getLink);
        assertThat(reconciledOnly.getKeptCount()).isEqualTo(5);
        assertThat(reconciledOnly.getClearedCount()).isEqualTo(2);
        // Reconciled, the target not indexed yet: INDEXING, with how far the indexing got.
        assertThat(reconciledOnly.getState()).isEqualTo(LinkState.INDEXING);
        assertThat(reconciledOnly.getProgress().getPhase()).isEqualTo(LinkState.INDEXING);
        publish(Topics.SEARCH, Envelopes.seal(EventEnvelope.newBuilder().setLinkProgressed(LinkProgressed.newBuilder()
                .setTableId(track.getId()).setColumnId(column).setLinkVersion(linkVersion)
                .setPhase(LinkState.INDEXING).setDone(2).setTotal(3)),
            tenant, "progress:" + track.getId(), System.currentTimeMillis(), "", "", Instant.now()));
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(api.getLink(getLink).getProgress())
            .isEqualTo(LinkProgress.newBuilder().setPhase(LinkState.INDEXING).setDone(2).setTotal(3).build()));

        // As search-service would: the target is indexed, so the link is ACTIVE.
        publish(Topics.SEARCH, Envelopes.seal(EventEnvelope.newBuilder().setLinkTargetIndexed(
                LinkTargetIndexed.newBuilder().setTableId(track.getId()).setColumnId(column)
                    .setTargetTableId(artist.getId()).setLinkVersion(linkVersion).setIndexedCount(3)),
            tenant, "search-" + UUID.randomUUID(), 1, "", "", Instant.now()));
        await().atMost(Duration.ofSeconds(20)).untilAsserted(
            () -> assertThat(api.getLink(getLink).getState()).isEqualTo(LinkState.ACTIVE));
        Column listed = col(api.listTables(ListTablesRequest.getDefaultInstance()).getTablesList().stream()
            .filter(t -> t.getId().equals(track.getId())).findFirst().orElseThrow(), "Artist");
        assertThat(listed.getLink().getState()).isEqualTo(LinkState.ACTIVE);
        assertThat(listed.getLink().getKeptCount()).isEqualTo(5);

        // Linking again starts over: the earlier link's reports do not carry over.
        api.unlinkColumn(UnlinkColumnRequest.newBuilder().setTableId(track.getId()).setColumnId(column).build());
        Link again = api.linkColumn(linkRequest);
        assertThat(again.getState()).isEqualTo(LinkState.RECONCILING);
        assertThat(api.getLink(getLink).getState()).isEqualTo(LinkState.RECONCILING);
        assertThat(api.getLink(getLink).getKeptCount()).isZero();
        assertThat(api.getLink(getLink).getProgress())
            .isEqualTo(LinkProgress.newBuilder().setPhase(LinkState.RECONCILING).build());
    }

    @Test
    void aLinkRacingTheDeletionOfItsTargetNeverDangles() throws Exception {
        String tenant = provisioned("spine-link-race");
        SchemaServiceGrpc.SchemaServiceBlockingStub api = api(tenant);
        for (int round = 0; round < 10; round++) {
            Table target = api.createTable(CreateTableRequest.newBuilder().setName("Target " + round).build());
            Table source = api.createTable(CreateTableRequest.newBuilder().setName("Source " + round)
                .addColumns(NewColumn.newBuilder().setName("Ref")).build());
            CountDownLatch go = new CountDownLatch(1);
            CompletableFuture<String> link = CompletableFuture.supplyAsync(() -> outcome(go, () ->
                api.linkColumn(LinkColumnRequest.newBuilder().setTableId(source.getId())
                    .setColumnId(col(source, "Ref").getId()).setTargetTableId(target.getId()).build())));
            CompletableFuture<String> delete = CompletableFuture.supplyAsync(() -> outcome(go, () ->
                api.deleteTable(DeleteTableRequest.newBuilder().setTableId(target.getId()).build())));
            go.countDown();
            List<String> outcomes = List.of(link.get(30, TimeUnit.SECONDS), delete.get(30, TimeUnit.SECONDS));
            // Either the link came first and holds the target, or the target was gone for the link.
            assertThat(outcomes).as("round %d", round).isIn(List.of("ok", "link_target_in_use"), List.of("not_found", "ok"));
        }
    }

    private static String outcome(CountDownLatch go, Runnable call) {
        try {
            go.await();
            call.run();
            return "ok";
        } catch (StatusRuntimeException e) {
            return ApiException.infoOf(e).getCode();
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    private static LinkReconciled.Builder reconciled(Table table, String column, Table target, long linkVersion,
                                                     long kept, long cleared) {
        return LinkReconciled.newBuilder().setTableId(table.getId()).setColumnId(column)
            .setTargetTableId(target.getId()).setTargetColumnId(target.getPrimaryKeyColumnId())
            .setLinkVersion(linkVersion).setKeptCount(kept).setClearedCount(cleared);
    }

    private static void publish(String topic, EventEnvelope e) throws Exception {
        Properties p = new Properties();
        p.putAll(TestServers.kafka().clientProperties());
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(p, new StringSerializer(),
            new ByteArraySerializer())) {
            ProducerRecord<String, byte[]> record = new ProducerRecord<>(topic, Envelopes.kafkaKey(e), e.toByteArray());
            Envelopes.headers(e).forEach((k, v) -> record.headers().add(k, v));
            producer.send(record).get(30, TimeUnit.SECONDS);
        }
    }

    private static void assertRefused(Runnable call, Status.Code status, String code) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
            assertThat(ApiException.infoOf(e).getCode()).isEqualTo(code);
            assertThat(e.getStatus().getCode()).isEqualTo(status);
        });
    }

    private static Column col(Table t, String name) {
        return t.getColumnsList().stream().filter(c -> c.getName().equals(name)).findFirst()
            .orElseThrow(() -> new AssertionError("no column " + name));
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

    private static Table view(TableState state) {
        return state == null ? null : TableViews.toProto(state);
    }
}
