package io.linkbase.search;

import io.grpc.ManagedChannel;
import io.linkbase.devstack.ServiceWiring;
import io.linkbase.devstack.TestServers;
import io.linkbase.kit.db.Db;
import io.linkbase.kit.events.Envelopes;
import io.linkbase.kit.events.Topics;
import io.linkbase.kit.grpc.ServiceCredentials;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.events.v1.RecordUpserted;
import io.linkbase.proto.v1.SuggestRequest;
import io.linkbase.proto.v1.Value;
import io.linkbase.search.index.IndexReads;
import io.linkbase.search.index.IndexWrites;
import io.linkbase.search.index.RecordsIndex;
import io.linkbase.search.recordevents.RecordEventFollower;
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

import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * search-service's record lanes on real Kafka, OpenSearch and PostgreSQL: an unreadable record
 * event is parked (not skipped, not retried forever), and an interactive write is suggestible
 * while a 50,000-event bulk import on the bulk topic is still being indexed.
 */
@MicronautTest(transactional = false)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RecordLanesIT implements TestPropertyProvider {
    private static final int BULK = Integer.getInteger("linkbase.test.bulk-events", 50_000);
    private static ExportServer export;
    private static int grpcPort;

    @Inject
    IndexReads index;

    @Inject
    IndexWrites writes;
    @Inject
    Db db;

    private World world;
    private ManagedChannel channel;
    private KafkaProducer<String, byte[]> producer;

    @Override
    public Map<String, String> getProperties() {
        if (export == null) {
            export = new ExportServer(ServiceWiring.freePort());
            grpcPort = ServiceWiring.freePort();
        }
        return ServiceWiring.service()
            .database(TestServers.postgres(), "search_lanes_it")
            .kafka(TestServers.kafka())
            .openSearch(TestServers.openSearch())
            .httpPort(ServiceWiring.freePort())
            .grpcPort(grpcPort)
            .property("linkbase.services.record", "127.0.0.1:" + export.port())
            .properties();
    }

    @BeforeAll
    void connect() {
        world = new World(TestServers.kafka(), export);
        channel = ServiceCredentials.channel("127.0.0.1:" + grpcPort, ServiceWiring.SERVICE_SECRET, "test").build();
        Properties p = new Properties();
        p.putAll(TestServers.kafka().clientProperties());
        p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        p.put(ProducerConfig.BATCH_SIZE_CONFIG, Integer.toString(256 * 1024));
        producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    }

    @AfterAll
    void disconnect() {
        producer.close();
        channel.shutdownNow();
        world.close();
        export.close();
    }

    @Test
    void anUnreadableRecordEventIsParkedAndTheLaneGoesOn() {
        String tenant = World.tenant("unreadable");
        World.Table artist = world.table(tenant, "artist-" + UUID.randomUUID(), "Name");
        World.Table track = world.table(tenant, "track-" + UUID.randomUUID(), "Title", "Artist");
        world.existing(artist, 1, 1, "Name", "Abba");
        world.link(track, track.col("Artist"), artist);
        awaitSuggestible(tenant, track, "abb", "Abba", Duration.ofSeconds(60));

        producer.send(new ProducerRecord<>(Topics.RECORDS, tenant + "/" + artist.id(),
            "this is not an envelope".getBytes(StandardCharsets.UTF_8)));
        producer.flush();
        world.upsert(artist, 2, 1, "Name", "Blondie");
        awaitSuggestible(tenant, track, "blon", "Blondie", Duration.ofSeconds(30));
        await().atMost(Duration.ofSeconds(30)).until(() -> parkedUnreadable() >= 1);
    }

    @Test
    void aDocumentOpenSearchRefusesParksItsEventAndTheOthersAreIndexed() {
        String tenant = World.tenant("refused");
        World.Table artist = world.table(tenant, "artist-" + UUID.randomUUID(), "Name");
        // Another tenant whose documents' ids (tenant:table:record) exceed OpenSearch's 512 bytes:
        // refused, every time (ids come from events, which search-service trusts; the gateway never
        // lets such a tenant exist: this stands for any document OpenSearch refuses on its own)
        String ghostTenant = "refused-" + "x".repeat(600);
        World.Table ghost = world.table(ghostTenant, "ghost-" + UUID.randomUUID(), "Name");
        World.Table ghostTrack = world.table(ghostTenant, "track-" + UUID.randomUUID(), "Title", "Ghost");
        World.Table track = world.table(tenant, "track-" + UUID.randomUUID(), "Title", "Artist");
        world.existing(artist, 1, 1, "Name", "Abba");
        world.link(ghostTrack, ghostTrack.col("Ghost"), ghost);
        world.link(track, track.col("Artist"), artist);
        awaitSuggestible(tenant, track, "abb", "Abba", Duration.ofSeconds(60));

        long t0 = System.nanoTime();
        world.upsert(ghost, 1, 1, "Name", "Casper");
        world.upsert(artist, 2, 1, "Name", "Blondie");
        awaitSuggestible(tenant, track, "blon", "Blondie", Duration.ofSeconds(60));
        System.out.printf("[lanes] a refused document's event parked; the next write suggestible after %d ms%n",
            (System.nanoTime() - t0) / 1_000_000);
        await().atMost(Duration.ofSeconds(30)).until(() -> parked("RecordUpserted", "%512%") >= 1);
    }

    @Test
    void anInteractiveWriteIsSuggestibleWhileABulkImportIsStillBeingIndexed() {
        String tenant = World.tenant("lanes");
        World.Table artist = world.table(tenant, "artist-" + UUID.randomUUID(), "Name");
        World.Table track = world.table(tenant, "track-" + UUID.randomUUID(), "Title", "Artist");
        world.existing(artist, 1, 1, "Name", "Abba");
        world.link(track, track.col("Artist"), artist);
        awaitSuggestible(tenant, track, "abb", "Abba", Duration.ofSeconds(60));

        // A bulk import of BULK records, all queued on the bulk lane before the interactive write.
        long t0 = System.nanoTime();
        for (int i = 0; i < BULK; i++) {
            long id = 1_000 + i;
            EventEnvelope e = Envelopes.seal(EventEnvelope.newBuilder().setRecordUpserted(RecordUpserted.newBuilder()
                    .setTableId(artist.id()).setRecordId(id).setRecordVersion(1)
                    .putValues(artist.pk(), Value.newBuilder().setInteger(id).build())
                    .putValues(artist.col("Name"), Value.newBuilder().setText("Imported artist " + id).build())),
                tenant, artist.id(), 10 + i, "", "", Instant.now());
            producer.send(new ProducerRecord<>(Topics.RECORDS_BULK, Envelopes.kafkaKey(e), e.toByteArray()));
        }
        producer.flush();
        long queuedMs = (System.nanoTime() - t0) / 1_000_000;

        long t1 = System.nanoTime();
        world.upsert(artist, 2, 1, "Name", "Motörhead");
        awaitSuggestible(tenant, track, "motor", "Motörhead", Duration.ofSeconds(30));
        long interactiveMs = (System.nanoTime() - t1) / 1_000_000;
        writes.refresh();
        long bulkIndexedThen = index.count(RecordsIndex.ALIAS, tenant, artist.id()) - 2;

        await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofMillis(250)).until(() ->
            index.count(RecordsIndex.ALIAS, tenant, artist.id()) >= BULK + 2);
        long bulkMs = (System.nanoTime() - t1) / 1_000_000;
        System.out.printf("[lanes] %,d bulk events queued in %,d ms; the interactive write was suggestible after "
                + "%,d ms, when %,d of them were indexed; the bulk lane finished after %,d ms (%,.0f events/s)%n",
            BULK, queuedMs, interactiveMs, bulkIndexedThen, bulkMs, BULK * 1000.0 / Math.max(1, bulkMs));
        assertThat(bulkIndexedThen).as("bulk events indexed when the interactive write was suggestible")
            .isLessThan(BULK);
    }

    private void awaitSuggestible(String tenant, World.Table track, String q, String name, Duration atMost) {
        await().atMost(atMost).pollInterval(Duration.ofMillis(20)).ignoreExceptions().until(() ->
            World.names(World.search(channel, tenant).suggest(SuggestRequest.newBuilder().setTableId(track.id())
                .setColumnId(track.col("Artist")).setQ(q).setLimit(10).build())).contains(name));
    }

    private long parkedUnreadable() {
        return parked("Unreadable", "unreadable at linkbase.records.v1%");
    }

    private long parked(String type, String reasonLike) {
        return db.read(c -> {
            try (PreparedStatement s = c.prepareStatement("SELECT count(*) FROM parked_events WHERE consumer = ? "
                + "AND event_type = ? AND reason LIKE ?")) {
                s.setString(1, RecordEventFollower.CONSUMER);
                s.setString(2, type);
                s.setString(3, reasonLike);
                try (ResultSet rs = s.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
    }
}
