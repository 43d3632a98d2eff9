package io.linkbase.search;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.linkbase.search.opensearch.IndexFailure;
import io.linkbase.devstack.ServiceWiring;
import io.linkbase.devstack.TestServers;
import io.linkbase.kit.db.Db;
import io.linkbase.kit.events.Envelopes;
import io.linkbase.kit.events.Topics;
import io.linkbase.kit.grpc.ApiException;
import io.linkbase.kit.grpc.ServiceCredentials;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.events.v1.LinkTargetIndexed;
import io.linkbase.proto.internal.v1.RebuildRequest;
import io.linkbase.proto.internal.v1.RebuildResponse;
import io.linkbase.proto.internal.v1.RebuildStatus;
import io.linkbase.proto.internal.v1.RebuildStatusRequest;
import io.linkbase.proto.internal.v1.SearchServiceGrpc;
import io.linkbase.proto.v1.SuggestRequest;
import io.linkbase.proto.v1.SuggestResponse;
import io.linkbase.proto.v1.Suggestion;
import io.linkbase.proto.v1.Value;
import io.linkbase.search.autocomplete.SearchGrpcService;
import io.linkbase.search.index.IndexMigrations;
import io.linkbase.search.index.IndexReads;
import io.linkbase.search.index.IndexWrites;
import io.linkbase.search.index.RecordsIndex;
import io.linkbase.search.targets.SchemaView;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import io.micronaut.test.support.TestPropertyProvider;
import jakarta.inject.Inject;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * search-service against real OpenSearch, Kafka and PostgreSQL: schema and record events go
 * through Kafka, backfills stream from a real gRPC ExportRecords server, suggestions come back
 * over the service's real gRPC port.
 */
@MicronautTest(transactional = false)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SearchServiceIT implements TestPropertyProvider {
    private static final Duration WAIT = Duration.ofSeconds(60);
    private static final int STREAMS_PER_TENANT = 3;
    private static final int IDLE_SECONDS = 3;
    private static ExportServer export;
    private static int grpcPort;

    @Inject
    IndexReads index;

    @Inject
    IndexMigrations migrations;

    @Inject
    IndexWrites writes;

    @Inject
    SearchGrpcService service;

    @Inject
    SchemaView catalog;

    @Inject
    Db db;

    private World world;
    private ManagedChannel channel;
    private KafkaConsumer<String, byte[]> searchEvents;
    private final List<EventEnvelope> published = new CopyOnWriteArrayList<>();

    @Override
    public Map<String, String> getProperties() {
        if (export == null) {
            export = new ExportServer(ServiceWiring.freePort());
            grpcPort = ServiceWiring.freePort();
        }
        return ServiceWiring.service()
            .database(TestServers.postgres(), "search_it")
            .kafka(TestServers.kafka())
            .openSearch(TestServers.openSearch())
            .httpPort(ServiceWiring.freePort())
            .grpcPort(grpcPort)
            .property("linkbase.services.record", "127.0.0.1:" + export.port())
            .property("linkbase.search.streams.per-tenant", String.valueOf(STREAMS_PER_TENANT))
            .property("linkbase.search.streams.idle-timeout", IDLE_SECONDS + "s")
            .properties();
    }

    @BeforeAll
    void connect() {
        world = new World(TestServers.kafka(), export);
        channel = ServiceCredentials.channel("127.0.0.1:" + grpcPort, ServiceWiring.SERVICE_SECRET, "test").build();
        Properties p = new Properties();
        p.putAll(TestServers.kafka().clientProperties());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "search-it-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        searchEvents = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
        searchEvents.subscribe(List.of(Topics.SEARCH));
    }

    @AfterAll
    void disconnect() {
        searchEvents.close();
        channel.shutdownNow();
        world.close();
        export.close();
    }

    // ------------------------------------------------------------------ scenarios

    @Test
    void aFirstLinkBackfillsTheTargetThenReportsItIndexed() {
        String tenant = World.tenant("backfill");
        World.Table artist = world.table(tenant, "artist-" + UUID.randomUUID(), "Name", "Country");
        World.Table track = world.table(tenant, "track-" + UUID.randomUUID(), "Title", "Artist");
        for (int i = 1; i <= 300; i++) {
            world.existing(artist, i, 1, "Name", "Artist " + i, "Country", "Nowhere");
        }
        world.existing(artist, 301, 4, "Name", "Beyoncé", "Country", "USA");
        long linkVersion = world.link(track, track.col("Artist"), artist);

        LinkTargetIndexed indexed = awaitIndexed(tenant, track.id(), linkVersion);
        assertThat(indexed.getColumnId()).isEqualTo(track.col("Artist"));
        assertThat(indexed.getTargetTableId()).isEqualTo(artist.id());
        assertThat(indexed.getIndexedCount()).isEqualTo(301);
        EventEnvelope envelope = published.stream().filter(e -> e.getLinkTargetIndexed().equals(indexed)).findFirst().orElseThrow();
        assertThat(envelope.getTenantId()).isEqualTo(tenant);
        assertThat(envelope.getEventType()).isEqualTo("LinkTargetIndexed");

        SuggestResponse r = suggest(tenant, track, "Artist", "beyonce", 10);
        assertThat(r.getSuggestionsList()).hasSize(1);
        Suggestion s = r.getSuggestions(0);
        assertThat(s.getRecordId()).isEqualTo(301);
        assertThat(s.getSummary()).isEqualTo("Beyoncé");
        assertThat(s.getValue()).isEqualTo(Value.newBuilder().setInteger(301).build());
        assertThat(s.getHighlight()).isEqualTo("<em>Beyoncé</em>");
        assertThat(r.hasCreateOption()).isFalse();
        // any text column matches, not only the display column
        assertThat(World.names(suggest(tenant, track, "Artist", "us", 10))).containsExactly("Beyoncé");
        assertThat(index.count(RecordsIndex.ALIAS, tenant, artist.id())).isEqualTo(301);
    }

    @Test
    void liveChangesAreSuggestibleWithinTwoSecondsAndDeletesDisappear() {
        String tenant = World.tenant("live");
        World.Table artist = world.table(tenant, "artist-" + UUID.randomUUID(), "Name");
        World.Table track = world.table(tenant, "track-" + UUID.randomUUID(), "Title", "Artist");
        world.existing(artist, 1, 1, "Name", "Abba");
        awaitIndexed(tenant, track.id(), world.link(track, track.col("Artist"), artist));

        long t0 = System.nanoTime();
        world.upsert(artist, 2, 1, "Name", "Motörhead");
        await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(20)).until(() ->
            World.names(suggest(tenant, track, "Artist", "motor", 10)).contains("Motörhead"));
        System.out.printf("freshness: created -> suggestible in %d ms%n", (System.nanoTime() - t0) / 1_000_000);

        world.upsert(artist, 2, 2, "Name", "Lemmy");
        await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(20)).until(() ->
            World.names(suggest(tenant, track, "Artist", "lem", 10)).contains("Lemmy"));
        assertThat(suggest(tenant, track, "Artist", "motor", 10).getSuggestionsList()).isEmpty();

        world.delete(artist, 2, 3);
        await().atMost(Duration.ofSeconds(2)).pollInterval(Duration.ofMillis(20)).until(() ->
            suggest(tenant, track, "Artist", "lem", 10).getSuggestionsCount() == 0);
        assertThat(World.names(suggest(tenant, track, "Artist", "", 10))).containsExactly("Abba");
    }

    @Test
    void outOfOrderAndDuplicateRecordEventsLeaveTheNewestValue() {
        String tenant = World.tenant("order");
        World.Table artist = world.table(tenant, "artist-" + UUID.randomUUID(), "Name");
        World.Table track = world.table(tenant, "track-" + UUID.randomUUID(), "Title", "Artist");
        awaitIndexed(tenant, track.id(), world.link(track, track.col("Artist"), artist));

        world.upsertEventOnly(artist, 7, 3, "Name", "Newest");
        world.upsertEventOnly(artist, 7, 2, "Name", "Older");
        world.upsertEventOnly(artist, 7, 3, "Name", "Newest");
        world.upsertEventOnly(artist, 7, 1, "Name", "Oldest");
        // a record deleted (v5) whose earlier update (v4) arrives late stays deleted
        world.upsertEventOnly(artist, 8, 1, "Name", "Gone Soon");
        world.delete(artist, 8, 5);
        world.upsertEventOnly(artist, 8, 4, "Name", "Gone Late");
        world.upsertEventOnly(artist, 9, 1, "Name", "Marker");
        await().atMost(WAIT).until(() -> World.names(suggest(tenant, track, "Artist", "marker", 10)).contains("Marker"));
        assertThat(World.names(suggest(tenant, track, "Artist", "", 50))).containsExactly("Marker", "Newest");
        assertThat(suggest(tenant, track, "Artist", "older", 10).getSuggestionsList()).isEmpty();
        assertThat(suggest(tenant, track, "Artist", "gone", 10).getSuggestionsList()).isEmpty();
    }

    @Test
    void aTenantNeverSeesAnotherTenantsRecordsEvenWithTheSameTableIds() {
        String a = World.tenant("tenant-a");
        String b = World.tenant("tenant-b");
        String artistId = "artist-" + UUID.randomUUID();
        String trackId = "track-" + UUID.randomUUID();
        World.Table artistA = world.table(a, artistId, "Name");
        World.Table trackA = world.table(a, trackId, "Title", "Artist");
        World.Table artistB = world.table(b, artistId, "Name");
        World.Table trackB = world.table(b, trackId, "Title", "Artist");
        world.existing(artistA, 1, 1, "Name", "Alpha Secret");
        world.existing(artistB, 1, 1, "Name", "Bravo Secret");
        awaitIndexed(a, trackA.id(), world.link(trackA, trackA.col("Artist"), artistA));
        world.upsert(artistB, 2, 1, "Name", "Bravo Second Secret"); // before B's link: covered by B's backfill
        awaitIndexed(b, trackB.id(), world.link(trackB, trackB.col("Artist"), artistB));
        world.upsert(artistA, 3, 1, "Name", "Alpha Later Secret");
        await().atMost(WAIT).until(() -> suggest(a, trackA, "Artist", "secret", 10).getSuggestionsCount() == 2);

        assertThat(World.names(suggest(a, trackA, "Artist", "secret", 50)))
            .containsExactlyInAnyOrder("Alpha Secret", "Alpha Later Secret");
        assertThat(World.names(suggest(b, trackB, "Artist", "secret", 50)))
            .containsExactlyInAnyOrder("Bravo Secret", "Bravo Second Secret");
        assertThat(suggest(a, trackA, "Artist", "bravo", 50).getSuggestionsList()).isEmpty();
        assertThat(World.names(suggest(a, trackA, "Artist", "", 50))).allMatch(n -> n.startsWith("Alpha"));
        // a tenant without that link gets not_found, never another tenant's link
        String c = World.tenant("tenant-c");
        assertThatThrownBy(() -> suggest(c, trackA, "Artist", "secret", 10))
            .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.NOT_FOUND));
    }

    @Test
    void ranksExactThenSummaryPrefixThenWordPrefixThenShorterAndIgnoresCaseAndAccents() {
        String tenant = World.tenant("rank");
        World.Table artist = world.table(tenant, "artist-" + UUID.randomUUID(), "Name", "Genre");
        World.Table track = world.table(tenant, "track-" + UUID.randomUUID(), "Title", "Artist");
        String[] names = {"The Motors", "Motor City Madness", "Motörhead", "Mot", "Beyoncé", "Ella Fitzgerald",
            "Motorpsycho and the Very Long Name", "Sigur Rós", "Àlex Ubago", "Pop Will Eat Itself"};
        for (int i = 0; i < names.length; i++) {
            world.existing(artist, i + 1, 1, "Name", names[i], "Genre", i == 7 ? "Post-rock" : i == 9 ? "Rock" : "Pop");
        }
        awaitIndexed(tenant, track.id(), world.link(track, track.col("Artist"), artist));

        assertThat(World.names(suggest(tenant, track, "Artist", "mot", 10)))
            .containsExactly("Mot", "Motörhead", "Motor City Madness", "Motorpsycho and the Very Long Name", "The Motors");
        assertThat(World.names(suggest(tenant, track, "Artist", "MOTOR", 10)))
            .containsExactly("Motörhead", "Motor City Madness", "Motorpsycho and the Very Long Name", "The Motors");
        assertThat(World.names(suggest(tenant, track, "Artist", "beyonce", 10))).containsExactly("Beyoncé");
        assertThat(World.names(suggest(tenant, track, "Artist", "BEYONCÉ", 10))).containsExactly("Beyoncé");
        assertThat(World.names(suggest(tenant, track, "Artist", "ros", 10))).containsExactly("Sigur Rós");
        assertThat(World.names(suggest(tenant, track, "Artist", "alex", 10))).containsExactly("Àlex Ubago");
        assertThat(World.names(suggest(tenant, track, "Artist", "city mad", 10))).containsExactly("Motor City Madness");
        assertThat(World.names(suggest(tenant, track, "Artist", "post", 10))).containsExactly("Sigur Rós");
        // a summary match outranks every record that matches only in another column; those fill
        // the rest of the page, shorter summaries first
        assertThat(World.names(suggest(tenant, track, "Artist", "pop", 10))).containsExactly("Pop Will Eat Itself",
            "Mot", "Beyoncé", "Motörhead", "Àlex Ubago", "The Motors", "Ella Fitzgerald", "Motor City Madness",
            "Motorpsycho and the Very Long Name");
        assertThat(World.names(suggest(tenant, track, "Artist", "pop", 3))).hasSize(3).startsWith("Pop Will Eat Itself");
        assertThat(World.names(suggest(tenant, track, "Artist", "pop", 1))).containsExactly("Pop Will Eat Itself");
        // words may match in different columns
        assertThat(World.names(suggest(tenant, track, "Artist", "sigur post", 10))).containsExactly("Sigur Rós");
        assertThat(suggest(tenant, track, "Artist", "motor", 10).getSuggestions(1).getHighlight())
            .isEqualTo("<em>Motor</em> City Madness");
        assertThat(suggest(tenant, track, "Artist", "motor", 10).getSuggestions(0).getHighlight())
            .isEqualTo("<em>Motör</em>head");
        assertThat(suggest(tenant, track, "Artist", "motor", 2).getSuggestionsCount()).isEqualTo(2);
        // empty q: the first records by display value (accent-insensitive order)
        assertThat(World.names(suggest(tenant, track, "Artist", "", 3))).containsExactly("Àlex Ubago", "Beyoncé", "Ella Fitzgerald");
        assertThat(World.names(suggest(tenant, track, "Artist", "  ", 0))).hasSize(10);
        // createOption exactly when nothing matches and q is not blank
        SuggestResponse none = suggest(tenant, track, "Artist", "zzqxv", 10);
        assertThat(none.getSuggestionsList()).isEmpty();
        assertThat(none.getCreateOption().getText()).isEqualTo("zzqxv");
        assertThat(suggest(tenant, track, "Artist", "", 10).hasCreateOption()).isFalse();
        assertThat(suggest(tenant, track, "Artist", "mot", 10).hasCreateOption()).isFalse();
    }

    @Test
    void theRankingHoldsOverThousandsOfMatchesNotOnlyAScoredTopFew() {
        String tenant = World.tenant("rank-scale");
        World.Table artist = world.table(tenant, "artist-" + UUID.randomUUID(), "Name");
        World.Table track = world.table(tenant, "track-" + UUID.randomUUID(), "Title", "Artist");
        int many = 3_000;
        for (int i = 1; i <= many; i++) {
            world.existing(artist, i, 1, "Name", String.format("Al Bey %04d", i));
        }
        // Written last and longer than the thousands of short word-prefix matches: a relevance
        // score (BM25 length norms) ranks these below all of them.
        world.existing(artist, many + 1, 1, "Name", "Beyond the Very Long Name of a Band That Starts With Bey");
        world.existing(artist, many + 2, 1, "Name", "Xy bey");
        world.existing(artist, many + 3, 1, "Name", "Bey");
        world.existing(artist, many + 4, 1, "Name", "Zz");
        awaitIndexed(tenant, track.id(), world.link(track, track.col("Artist"), artist));

        assertThat(World.names(suggest(tenant, track, "Artist", "bey", 5))).containsExactly("Bey",
            "Beyond the Very Long Name of a Band That Starts With Bey", "Xy bey", "Al Bey 0001", "Al Bey 0002");
        assertThat(World.names(suggest(tenant, track, "Artist", "BEY", 2))).containsExactly("Bey",
            "Beyond the Very Long Name of a Band That Starts With Bey");
        assertThat(World.names(suggest(tenant, track, "Artist", "bey 29", 3)))
            .containsExactly("Al Bey 2900", "Al Bey 2901", "Al Bey 2902");
    }

    @Test
    void aOneOrTwoLetterQueryAnswersTheSameOrderWhetherTheSummariesStartingWithItFillThePageOrNot() {
        String tenant = World.tenant("short-q");
        World.Table artist = world.table(tenant, "artist-" + UUID.randomUUID(), "Name", "Genre");
        World.Table track = world.table(tenant, "track-" + UUID.randomUUID(), "Title", "Artist");
        // five summaries start with "b" (one is "b"), three shorter or equal ones only have a word
        // starting with "b", one matches "b" only in another column
        String[] names = {"Bob Dylan", "A b", "Bea Lane", "B", "Xy bo", "Björk", "Zed", "The Band", "Ben"};
        for (int i = 0; i < names.length; i++) {
            world.existing(artist, i + 1, 1, "Name", names[i], "Genre", names[i].equals("Zed") ? "Blues" : "Pop");
        }
        awaitIndexed(tenant, track.id(), world.link(track, track.col("Artist"), artist));

        // filled by the summaries starting with q: exact first, then shorter; never "A b" or "Xy bo"
        assertThat(World.names(suggest(tenant, track, "Artist", "b", 4))).containsExactly("B", "Ben", "Björk", "Bea Lane");
        assertThat(World.names(suggest(tenant, track, "Artist", "B", 5)))
            .containsExactly("B", "Ben", "Björk", "Bea Lane", "Bob Dylan");
        assertThat(World.names(suggest(tenant, track, "Artist", "bj", 1))).containsExactly("Björk");
        assertThat(suggest(tenant, track, "Artist", "bj", 1).getSuggestions(0).getHighlight()).isEqualTo("<em>Bj</em>örk");
        // not filled: the whole order, word prefixes and then the other columns after them
        assertThat(World.names(suggest(tenant, track, "Artist", "b", 6)))
            .containsExactly("B", "Ben", "Björk", "Bea Lane", "Bob Dylan", "A b");
        assertThat(World.names(suggest(tenant, track, "Artist", "b", 10)))
            .containsExactly("B", "Ben", "Björk", "Bea Lane", "Bob Dylan", "A b", "Xy bo", "The Band", "Zed");
        assertThat(World.names(suggest(tenant, track, "Artist", "bo", 10))).containsExactly("Bob Dylan", "Xy bo");
        assertThat(World.names(suggest(tenant, track, "Artist", "x", 10))).containsExactly("Xy bo");
    }

    @Test
    void badRequestsAreRefusedWithACode() {
        String tenant = World.tenant("bad");
        World.Table artist = world.table(tenant, "artist-" + UUID.randomUUID(), "Name");
        World.Table track = world.table(tenant, "track-" + UUID.randomUUID(), "Title", "Artist");
        awaitIndexed(tenant, track.id(), world.link(track, track.col("Artist"), artist));
        for (int limit : new int[] {-1, 51, 1000}) {
            assertThatThrownBy(() -> suggest(tenant, track, "Artist", "a", limit)).satisfies(e -> {
                assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                assertThat(ApiException.infoOf((StatusRuntimeException) e).getCode()).isEqualTo("validation_failed");
            });
        }
        assertThatThrownBy(() -> suggest(tenant, track, "Title", "a", 10)) // not linked
            .satisfies(e -> assertThat(ApiException.infoOf((StatusRuntimeException) e).getCode()).isEqualTo("not_found"));
        assertThatThrownBy(() -> World.search(channel, tenant).suggest(SuggestRequest.newBuilder().setQ("a").build()))
            .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
        assertThatThrownBy(() -> SearchServiceGrpc.newBlockingStub(channel).suggest(SuggestRequest.newBuilder()
            .setTableId(track.id()).setColumnId(track.col("Artist")).build()))
            .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
    }

    @Test
    void theLastUnlinkRemovesTheTargetsDocumentsAndRelinkingBackfillsAgain() {
        String tenant = World.tenant("unlink");
        World.Table artist = world.table(tenant, "artist-" + UUID.randomUUID(), "Name");
        World.Table track = world.table(tenant, "track-" + UUID.randomUUID(), "Title", "Artist", "Producer");
        world.existing(artist, 1, 1, "Name", "Kraftwerk");
        awaitIndexed(tenant, track.id(), world.link(track, track.col("Artist"), artist));
        long second = world.link(track, track.col("Producer"), artist); // already indexed: reported at once
        awaitIndexed(tenant, track.id(), second);
        assertThat(index.count(RecordsIndex.ALIAS, tenant, artist.id())).isEqualTo(1);

        world.unlink(track, track.col("Artist"), artist);
        await().atMost(WAIT).untilAsserted(() -> assertThatThrownBy(() -> suggest(tenant, track, "Artist", "kraft", 10))
            .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.NOT_FOUND)));
        assertThat(index.count(RecordsIndex.ALIAS, tenant, artist.id())).isEqualTo(1); // the Producer link remains
        assertThat(World.names(suggest(tenant, track, "Producer", "kraft", 10))).containsExactly("Kraftwerk");

        world.unlink(track, track.col("Producer"), artist);
        await().atMost(WAIT).until(() -> index.count(RecordsIndex.ALIAS, tenant, artist.id()) == 0);
        // record events for a table that is no longer a target are not indexed
        world.upsert(artist, 2, 1, "Name", "Kraftklub");
        world.upsert(artist, 3, 1, "Name", "Marker");
        long relinked = world.link(track, track.col("Artist"), artist);
        awaitIndexed(tenant, track.id(), relinked);
        assertThat(World.names(suggest(tenant, track, "Artist", "kraft", 10))).containsExactlyInAnyOrder("Kraftwerk", "Kraftklub");
    }

    @Test
    void droppingTheLinkedColumnOrDeletingTheLinkingTableAlsoRemovesTheDocuments() {
        String tenant = World.tenant("drop");
        World.Table artist = world.table(tenant, "artist-" + UUID.randomUUID(), "Name");
        World.Table label = world.table(tenant, "label-" + UUID.randomUUID(), "Name");
        World.Table track = world.table(tenant, "track-" + UUID.randomUUID(), "Title", "Artist", "Label");
        world.existing(artist, 1, 1, "Name", "Nina Simone");
        world.existing(label, 1, 1, "Name", "Verve");
        awaitIndexed(tenant, track.id(), world.link(track, track.col("Artist"), artist));
        awaitIndexed(tenant, track.id(), world.link(track, track.col("Label"), label));
        assertThat(index.count(RecordsIndex.ALIAS, tenant, artist.id())).isEqualTo(1);

        world.schema(tenant, track.id(), EventEnvelope.newBuilder().setColumnDropped(
            io.linkbase.proto.events.v1.ColumnDropped.newBuilder().setColumnId(track.col("Artist"))));
        await().atMost(WAIT).until(() -> index.count(RecordsIndex.ALIAS, tenant, artist.id()) == 0);
        assertThat(index.count(RecordsIndex.ALIAS, tenant, label.id())).isEqualTo(1);

        world.schema(tenant, track.id(), EventEnvelope.newBuilder().setTableDeleted(
            io.linkbase.proto.events.v1.TableDeleted.getDefaultInstance()));
        await().atMost(WAIT).until(() -> index.count(RecordsIndex.ALIAS, tenant, label.id()) == 0);
    }

    @Test
    void aNewDisplayColumnReexportsTheSummaries() {
        String tenant = World.tenant("display");
        World.Table artist = world.table(tenant, "artist-" + UUID.randomUUID(), "Name", "Alias");
        World.Table track = world.table(tenant, "track-" + UUID.randomUUID(), "Title", "Artist");
        world.existing(artist, 1, 1, "Name", "Reginald Dwight", "Alias", "Elton John");
        awaitIndexed(tenant, track.id(), world.link(track, track.col("Artist"), artist));
        assertThat(World.names(suggest(tenant, track, "Artist", "elton", 10))).containsExactly("Reginald Dwight");
        world.displayColumn(artist, artist.col("Alias"));
        await().atMost(WAIT).until(() -> World.names(suggest(tenant, track, "Artist", "elton", 10)).equals(List.of("Elton John")));
    }

    @Test
    void theStreamAnswersOnlyTheNewestQuery() throws Exception {
        String tenant = World.tenant("stream");
        World.Table artist = world.table(tenant, "artist-" + UUID.randomUUID(), "Name");
        World.Table track = world.table(tenant, "track-" + UUID.randomUUID(), "Title", "Artist");
        world.existing(artist, 1, 1, "Name", "Motörhead");
        world.existing(artist, 2, 1, "Name", "Mott the Hoople");
        awaitIndexed(tenant, track.id(), world.link(track, track.col("Artist"), artist));

        List<SuggestResponse> answers = new CopyOnWriteArrayList<>();
        CountDownLatch done = new CountDownLatch(1);
        StreamObserver<SuggestRequest> keystrokes = World.searchAsync(channel, tenant).suggestStream(new StreamObserver<>() {
            @Override
            public void onNext(SuggestResponse value) {
                answers.add(value);
            }

            @Override
            public void onError(Throwable t) {
                done.countDown();
            }

            @Override
            public void onCompleted() {
                done.countDown();
            }
        });
        String typed = "motorhead";
        for (int i = 1; i <= typed.length(); i++) {
            keystrokes.onNext(SuggestRequest.newBuilder().setTableId(track.id()).setColumnId(track.col("Artist"))
                .setQ(typed.substring(0, i)).build());
        }
        keystrokes.onCompleted();
        assertThat(done.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(answers).isNotEmpty();
        assertThat(answers.size()).isLessThan(typed.length()); // older in-flight queries were dropped
        SuggestResponse last = answers.get(answers.size() - 1);
        assertThat(last.getQ()).isEqualTo(typed);
        assertThat(World.names(last)).containsExactly("Motörhead");
        List<Integer> lengths = answers.stream().map(a -> a.getQ().length()).toList();
        assertThat(lengths).isSorted(); // never an older answer after a newer one
    }

    @Test
    void openStreamsPerTenantAreLimitedAndEveryEndGivesTheSlotBack() throws Exception {
        String tenant = World.tenant("slots");
        String other = World.tenant("slots-other");
        World.Table artist = world.table(tenant, "artist-" + UUID.randomUUID(), "Name");
        World.Table track = world.table(tenant, "track-" + UUID.randomUUID(), "Title", "Artist");
        world.existing(artist, 1, 1, "Name", "Motörhead");
        awaitIndexed(tenant, track.id(), world.link(track, track.col("Artist"), artist));
        SuggestRequest query = SuggestRequest.newBuilder().setTableId(track.id()).setColumnId(track.col("Artist"))
            .setQ("mot").build();

        List<Probe> open = new ArrayList<>();
        for (int i = 0; i < STREAMS_PER_TENANT; i++) {
            Probe p = Probe.open(channel, tenant);
            p.requests.onNext(query);
            await().atMost(WAIT).until(() -> !p.answers.isEmpty());
            open.add(p);
        }
        assertThat(service.openStreams(tenant)).isEqualTo(STREAMS_PER_TENANT);

        Probe refused = Probe.open(channel, tenant);
        StatusRuntimeException over = refused.failure();
        assertThat(over.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(ApiException.infoOf(over).getCode()).isEqualTo("limit_exceeded");
        assertThat(over.getStatus().getDescription()).contains("at most " + STREAMS_PER_TENANT + " per tenant");
        assertThat(service.openStreams(tenant)).isEqualTo(STREAMS_PER_TENANT); // a refusal holds no slot

        Probe elsewhere = Probe.open(channel, other); // another tenant is not affected
        await().atMost(WAIT).until(() -> service.openStreams(other) == 1);
        elsewhere.cancel();
        await().atMost(WAIT).until(() -> service.openStreams(other) == 0);

        // every end gives its slot back: the client's end, a cancel, an error, the idle timeout
        open.get(0).requests.onCompleted();
        assertThat(open.get(0).end.get(30, TimeUnit.SECONDS)).isNull();
        await().atMost(WAIT).until(() -> service.openStreams(tenant) == STREAMS_PER_TENANT - 1);
        open.get(1).cancel();
        await().atMost(WAIT).until(() -> service.openStreams(tenant) == STREAMS_PER_TENANT - 2);
        open.get(2).requests.onNext(query.toBuilder().setLimit(1000).build());
        assertThat(open.get(2).failure().getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        await().atMost(WAIT).until(() -> service.openStreams(tenant) == 0);

        Probe idle = Probe.open(channel, tenant);
        idle.requests.onNext(query);
        StatusRuntimeException timedOut = idle.failure();
        assertThat(timedOut.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        assertThat(ApiException.infoOf(timedOut).getCode()).isEqualTo("idle_timeout");
        await().atMost(WAIT).until(() -> service.openStreams(tenant) == 0);

        // and the tenant has all its slots again
        List<Probe> again = new ArrayList<>();
        for (int i = 0; i < STREAMS_PER_TENANT; i++) {
            Probe p = Probe.open(channel, tenant);
            p.requests.onNext(query);
            await().atMost(WAIT).until(() -> !p.answers.isEmpty());
            again.add(p);
        }
        again.forEach(Probe::cancel);
        await().atMost(WAIT).until(() -> service.openStreams(tenant) == 0);
    }

    @Test
    void aStreamIsClosedOnlyAfterTheIdleTimeoutWithoutAQuery() throws Exception {
        String tenant = World.tenant("idle");
        World.Table artist = world.table(tenant, "artist-" + UUID.randomUUID(), "Name");
        World.Table track = world.table(tenant, "track-" + UUID.randomUUID(), "Title", "Artist");
        world.existing(artist, 1, 1, "Name", "Motörhead");
        awaitIndexed(tenant, track.id(), world.link(track, track.col("Artist"), artist));
        SuggestRequest query = SuggestRequest.newBuilder().setTableId(track.id()).setColumnId(track.col("Artist"))
            .setQ("mot").build();

        Probe typing = Probe.open(channel, tenant);
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(IDLE_SECONDS * 2L);
        while (System.nanoTime() < until) { // a query every second keeps it open past the timeout
            typing.requests.onNext(query);
            Thread.sleep(1000);
            assertThat(typing.end).isNotDone();
        }
        long lastQuery = System.nanoTime();
        typing.requests.onNext(query);
        StatusRuntimeException closed = typing.failure();
        long quietMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastQuery);
        assertThat(closed.getStatus().getCode()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
        assertThat(closed.getStatus().getDescription()).contains("no query for " + IDLE_SECONDS + " s");
        assertThat(quietMillis).isBetween(IDLE_SECONDS * 1000L - 100, IDLE_SECONDS * 1000L + 5000);
        assertThat(typing.answers).isNotEmpty();
        await().atMost(WAIT).until(() -> service.openStreams(tenant) == 0);
    }

    @Test
    void invalidIdsAreRefusedBeforeAnyCacheOrSearchWork() throws Exception {
        String tenant = World.tenant("ids");
        String uuid = UUID.randomUUID().toString();
        catalog.forget();
        List<SuggestRequest> bad = List.of(
            SuggestRequest.newBuilder().setTableId("artist-1").setColumnId(uuid).build(),
            SuggestRequest.newBuilder().setTableId(uuid).setColumnId("x".repeat(100_000)).build(),
            SuggestRequest.newBuilder().setTableId(uuid + "0").setColumnId(uuid).build(),
            SuggestRequest.newBuilder().setTableId(uuid).setColumnId("").build());
        for (SuggestRequest r : bad) {
            assertThatThrownBy(() -> World.search(channel, tenant).suggest(r)).satisfies(e -> {
                assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                assertThat(ApiException.infoOf((StatusRuntimeException) e).getCode()).isEqualTo("validation_failed");
            });
            Probe p = Probe.open(channel, tenant);
            p.requests.onNext(r);
            assertThat(p.failure().getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
            await().atMost(WAIT).until(() -> service.openStreams(tenant) == 0);
        }
        for (String badTenant : List.of("Not_Valid", "x".repeat(41), "a b")) {
            Metadata md = new Metadata();
            md.put(io.linkbase.kit.grpc.Tenants.METADATA_KEY, badTenant);
            SuggestRequest r = SuggestRequest.newBuilder().setTableId(uuid).setColumnId(uuid).build();
            assertThatThrownBy(() -> SearchServiceGrpc.newBlockingStub(channel)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md)).suggest(r))
                .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
        }
        assertThat(catalog.sizes()).containsExactly(0, 0); // nothing the callers sent became a cache key
        assertThat(service.openStreams(tenant)).isZero();
        // a well-formed id that does not exist is simply not found
        assertThatThrownBy(() -> World.search(channel, tenant).suggest(SuggestRequest.newBuilder().setTableId(uuid)
            .setColumnId(uuid).build()))
            .satisfies(e -> assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.NOT_FOUND));
    }

    @Test
    void theLinkCacheIsBoundedInSizeAndTime() {
        String tenant = World.tenant("cache");
        String table = UUID.randomUUID().toString();
        List<String> linked = new ArrayList<>();
        for (int i = 0; i < 80; i++) {
            linked.add(UUID.randomUUID().toString());
        }
        db.inTransaction(c -> {
            try (var s = c.prepareStatement("INSERT INTO links (tenant_id, table_id, column_id, target_table_id, "
                + "target_column_id, link_version) VALUES (?, ?, ?, ?, ?, 1)")) {
                for (String column : linked) {
                    s.setString(1, tenant);
                    s.setString(2, table);
                    s.setString(3, column);
                    s.setString(4, UUID.randomUUID().toString());
                    s.setString(5, UUID.randomUUID().toString());
                    s.addBatch();
                }
                s.executeBatch();
            }
            return null;
        });
        AtomicLong now = new AtomicLong();
        SchemaView small = new SchemaView(db, 50, 20, now::get);

        for (String column : linked.subList(0, 40)) {
            assertThat(small.link(tenant, table, column)).isPresent();
        }
        assertThat(small.sizes()).containsExactly(40, 0);
        for (String column : linked) {
            assertThat(small.link(tenant, table, column)).isPresent();
        }
        assertThat(small.sizes()[0]).isEqualTo(50); // 80 links looked up, 50 kept
        for (int i = 0; i < 1000; i++) { // misses, e.g. a caller guessing ids: bounded on their own
            assertThat(small.link(tenant, table, UUID.randomUUID().toString())).isEmpty();
        }
        assertThat(small.sizes()).containsExactly(50, 20); // and they pushed no link out

        now.addAndGet(SchemaView.TTL.toNanos() + 1); // time limit
        assertThat(small.sizes()).containsExactly(0, 0);

        small.link(tenant, table, linked.get(0));
        small.link(tenant, table, UUID.randomUUID().toString());
        assertThat(small.sizes()).containsExactly(1, 1);
        small.forget(); // a schema event
        assertThat(small.sizes()).containsExactly(0, 0);
        assertThatThrownBy(() -> small.link(tenant, "not-a-uuid", linked.get(0))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> small.link("Bad Tenant", table, linked.get(0))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aRebuiltIndexAnswersExactlyLikeTheLiveOne() {
        String a = World.tenant("rebuild-a");
        String b = World.tenant("rebuild-b");
        List<World.Table> tracks = new ArrayList<>();
        for (String tenant : List.of(a, b)) {
            World.Table artist = world.table(tenant, "artist-" + UUID.randomUUID(), "Name", "Country");
            World.Table track = world.table(tenant, "track-" + UUID.randomUUID(), "Title", "Artist");
            String[] names = {"Abba", "AC/DC", "Aphex Twin", "Beyoncé", "Björk", "Blur", "Motörhead", "Massive Attack",
                "Mötley Crüe", "Sigur Rós", "Stereolab", "The Beatles", "The Beach Boys", "Tame Impala"};
            for (int i = 0; i < names.length; i++) {
                world.existing(artist, i + 1, 1, "Name", names[i] + (tenant.equals(b) ? " B" : ""), "Country", "C" + (i % 3));
            }
            awaitIndexed(tenant, track.id(), world.link(track, track.col("Artist"), artist));
            // live changes after the backfill: an update, a delete, a new record
            world.upsert(artist, 2, 2, "Name", "AC/DC Live", "Country", "C9");
            world.delete(artist, 6, 3);
            world.upsert(artist, 20, 1, "Name", "Muse", "Country", "C1");
            tracks.add(track);
            targetsByTenant.put(tenant, artist);
        }
        await().atMost(WAIT).until(() -> World.names(suggest(b, tracks.get(1), "Artist", "muse", 10)).size() == 1
            && World.names(suggest(a, tracks.get(0), "Artist", "muse", 10)).size() == 1);
        await().atMost(WAIT).until(() -> suggest(b, tracks.get(1), "Artist", "blur", 10).getSuggestionsCount() == 0);
        List<String> queries = List.of("", "a", "ab", "the", "the bea", "mo", "motor", "mötley", "c1", "c9", "blur", "zzz", "s");
        Map<String, List<SuggestResponse>> before = Map.of(a, answers(a, tracks.get(0), queries), b, answers(b, tracks.get(1), queries));
        String oldIndex = migrations.aliasedIndex();

        RebuildResponse rebuilt = World.search(channel, a).rebuild(RebuildRequest.newBuilder().setTenantId(a).build());
        assertThat(rebuilt.getIndex()).isNotEqualTo(oldIndex);
        assertThat(migrations.aliasedIndex()).isEqualTo(rebuilt.getIndex());
        assertThat(rebuilt.getDocuments()).isEqualTo(index.count(rebuilt.getIndex(), a, null));
        assertThat(answers(a, tracks.get(0), queries)).isEqualTo(before.get(a));
        assertThat(answers(b, tracks.get(1), queries)).isEqualTo(before.get(b));

        // and every tenant at once
        RebuildResponse all = World.search(channel, a).rebuild(RebuildRequest.getDefaultInstance());
        assertThat(migrations.aliasedIndex()).isEqualTo(all.getIndex());
        // its status: done, every exported document counted against the exports' totals
        RebuildStatus status = World.search(channel, a).getRebuildStatus(RebuildStatusRequest.getDefaultInstance());
        assertThat(status.getRunning()).isFalse();
        assertThat(status.getPhase()).isEqualTo("DONE");
        assertThat(status.getIndex()).isEqualTo(all.getIndex());
        assertThat(status.getDone()).isEqualTo(all.getDocuments()).isPositive();
        assertThat(status.getTotal()).isEqualTo(all.getDocuments());
        assertThat(answers(a, tracks.get(0), queries)).isEqualTo(before.get(a));
        assertThat(answers(b, tracks.get(1), queries)).isEqualTo(before.get(b));
        // the rebuilt index keeps following live events
        world.upsert(tracksTarget(a), 21, 1, "Name", "Portishead");
        await().atMost(Duration.ofSeconds(5)).until(() -> World.names(suggest(a, tracks.get(0), "Artist", "portis", 10)).size() == 1);
    }

    /**
     * A rebuild running on another instance is a row in the shared database: this instance then
     * writes its live changes to that rebuild's index too, refuses a rebuild of its own, and once
     * the other's heartbeat is stale takes the lease over, deletes what it left and rebuilds.
     */
    @Test
    void aRebuildOfAnotherInstanceIsFollowedRefusedAndTakenOverOnceItDied() throws Exception {
        String tenant = World.tenant("lease");
        World.Table artist = world.table(tenant, "artist-" + UUID.randomUUID(), "Name", "Country");
        World.Table track = world.table(tenant, "track-" + UUID.randomUUID(), "Title", "Artist");
        world.existing(artist, 1, 1, "Name", "Nina", "Country", "C1");
        awaitIndexed(tenant, track.id(), world.link(track, track.col("Artist"), artist));
        String live = migrations.aliasedIndex();
        String theirs = migrations.newIndexName() + "-other";
        migrations.createIndex(theirs);
        db.inTransaction(c -> {
            try (var s = c.prepareStatement("INSERT INTO index_rebuild (alias, owner, old_index, new_index) VALUES (?, ?, ?, ?)")) {
                s.setString(1, RecordsIndex.ALIAS);
                s.setString(2, "other-instance/1");
                s.setString(3, live);
                s.setString(4, theirs);
                return s.executeUpdate();
            }
        });
        try {
            world.upsert(artist, 2, 1, "Name", "Nick", "Country", "C2");
            await().atMost(WAIT).until(() -> {
                writes.refresh(theirs);
                return index.count(theirs, tenant, artist.id()) == 1;
            });
            writes.refresh(live); // searchable only after a refresh, like the other index above
            assertThat(index.count(live, tenant, artist.id())).isEqualTo(2);
            assertThatThrownBy(() -> World.search(channel, tenant).rebuild(RebuildRequest.newBuilder().setTenantId(tenant).build()))
                .satisfies(e -> {
                    assertThat(Status.fromThrowable(e).getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
                    assertThat(ApiException.infoOf((StatusRuntimeException) e).getCode()).isEqualTo("rebuild_in_progress");
                });
            assertThat(migrations.aliasedIndex()).isEqualTo(live);

            // the other instance died: its heartbeat goes stale
            db.inTransaction(c -> c.createStatement().executeUpdate(
                "UPDATE index_rebuild SET heartbeat_at = now() - interval '1 hour'"));
            RebuildResponse rebuilt = World.search(channel, tenant).rebuild(RebuildRequest.newBuilder().setTenantId(tenant).build());
            assertThat(migrations.aliasedIndex()).isEqualTo(rebuilt.getIndex()).isNotIn(live, theirs);
            assertThat(rebuilt.getDocuments()).isEqualTo(2);
            assertThatThrownBy(() -> index.count(theirs, tenant, null)).isInstanceOf(IndexFailure.class);
            assertThatThrownBy(() -> index.count(live, tenant, null)).isInstanceOf(IndexFailure.class);
            long leases = db.read(c -> {
                try (var rs = c.createStatement().executeQuery("SELECT count(*) FROM index_rebuild")) {
                    rs.next();
                    return rs.getLong(1);
                }
            });
            assertThat(leases).as("the lease is released").isZero();
        } finally {
            db.inTransaction(c -> c.createStatement().executeUpdate("DELETE FROM index_rebuild WHERE owner = 'other-instance/1'"));
            migrations.deleteIndexIfExists(theirs);
        }
    }

    // ------------------------------------------------------------------ helpers

    /** A client SuggestStream that records its answers and how it ended (null: OK). */
    private static final class Probe implements StreamObserver<SuggestResponse> {
        final List<SuggestResponse> answers = new CopyOnWriteArrayList<>();
        final CompletableFuture<StatusRuntimeException> end = new CompletableFuture<>();
        StreamObserver<SuggestRequest> requests;

        static Probe open(ManagedChannel channel, String tenant) {
            Probe p = new Probe();
            p.requests = World.searchAsync(channel, tenant).suggestStream(p);
            return p;
        }

        StatusRuntimeException failure() throws Exception {
            StatusRuntimeException e = end.get(30, TimeUnit.SECONDS);
            assertThat(e).as("the stream failed").isNotNull();
            return e;
        }

        void cancel() {
            ((ClientCallStreamObserver<SuggestRequest>) requests).cancel("the test is done with it", null);
        }

        @Override
        public void onNext(SuggestResponse value) {
            answers.add(value);
        }

        @Override
        public void onError(Throwable t) {
            end.complete(t instanceof StatusRuntimeException e ? e : Status.fromThrowable(t).asRuntimeException());
        }

        @Override
        public void onCompleted() {
            end.complete(null);
        }
    }

    private final Map<String, World.Table> targetsByTenant = new java.util.concurrent.ConcurrentHashMap<>();

    private World.Table tracksTarget(String tenant) {
        return targetsByTenant.get(tenant);
    }

    private List<SuggestResponse> answers(String tenant, World.Table track, List<String> queries) {
        List<SuggestResponse> out = new ArrayList<>();
        for (String q : queries) {
            out.add(suggest(tenant, track, "Artist", q, 50));
        }
        return out;
    }

    private SuggestResponse suggest(String tenant, World.Table table, String column, String q, int limit) {
        return World.search(channel, tenant).suggest(SuggestRequest.newBuilder().setTableId(table.id())
            .setColumnId(table.col(column)).setQ(q).setLimit(limit).build());
    }

    private LinkTargetIndexed awaitIndexed(String tenant, String table, long linkVersion) {
        List<LinkTargetIndexed> found = Collections.synchronizedList(new ArrayList<>());
        await().atMost(WAIT).until(() -> {
            synchronized (searchEvents) {
                for (ConsumerRecord<String, byte[]> r : searchEvents.poll(Duration.ofMillis(100))) {
                    published.add(Envelopes.parse(r.value()));
                }
            }
            published.stream().filter(e -> e.getTenantId().equals(tenant) && e.hasLinkTargetIndexed()
                    && e.getLinkTargetIndexed().getTableId().equals(table)
                    && e.getLinkTargetIndexed().getLinkVersion() == linkVersion)
                .findFirst().ifPresent(e -> found.add(e.getLinkTargetIndexed()));
            return !found.isEmpty();
        });
        return found.get(0);
    }
}
