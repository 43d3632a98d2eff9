package io.linkbase.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.grpc.ManagedChannel;
import io.linkbase.devstack.LinkbaseServices;
import io.linkbase.devstack.RestartableServers.Kind;
import io.linkbase.devstack.ServiceWiring;
import io.linkbase.kit.events.Envelopes;
import io.linkbase.kit.events.Topics;
import io.linkbase.kit.grpc.ServiceCredentials;
import io.linkbase.proto.events.v1.ClearedValue;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.events.v1.LinkReconciled;
import io.linkbase.proto.internal.v1.RebuildRequest;
import io.linkbase.proto.internal.v1.SearchServiceGrpc;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntFunction;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Fault injection on the real servers, each service in its own JVM (docs/reliability.md):
 * {@code kill -9} of a service in the middle of its work, then a restart on the same database
 * and ports; PostgreSQL, Kafka and OpenSearch stopped and started again on their data while
 * clients keep writing and searching. Each scenario checks what a user would: every
 * acknowledged write is there and reaches autocomplete, every value is right, every effect
 * happened exactly once, clients saw clean 503s (never a 500 or a hang) while a server was
 * away, and the system recovered by itself. It runs on a stack of its own ({@link FaultStack}).
 *
 * <p>Sizes: {@code -Dlinkbase.faults.rows} (linking table, default 100,000) and
 * {@code -Dlinkbase.faults.outage-seconds} (default 8) for a longer soak.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultsE2EIT {
    private static final String TENANT = "faults";
    private static final int ROWS = Integer.getInteger("linkbase.faults.rows", 100_000);
    private static final int TARGETS = 10_000;
    private static final int BACKFILL_ROWS = 20_000;
    private static final int OUTAGE_SECONDS = Integer.getInteger("linkbase.faults.outage-seconds", 8);
    /** A client that waits longer than this for an answer counts the request as hung. */
    private static final Duration CLIENT_TIMEOUT = Duration.ofSeconds(15);
    /** Acknowledged writes of an outage that are looked up through autocomplete one by one (all are checked in the index). */
    private static final int AUTOCOMPLETE_SAMPLE = 100;
    /** Each load writer's pause between writes: about 5 writes a second each. */
    private static final long WRITE_PAUSE_MS = 200;

    private FaultStack stack;
    private Api owner;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    /** artist (the link target of scenario A, then the table the load scenarios write to). */
    private String artist;
    private String artistName;
    private String track;
    private String trackArtist;

    @BeforeAll
    void start() {
        stack = FaultStack.start();
        try {
            Api admin = new Api(stack.gatewayUrl(), Stack.adminToken());
            assertThat(admin.put("/api/v1/tenants/" + TENANT, null).status()).isEqualTo(201);
            owner = new Api(stack.gatewayUrl(), Stack.token(TENANT, 24 * 3600, "owner"));
        } catch (RuntimeException | Error e) {
            stack.close();
            throw e;
        }
    }

    @AfterAll
    void stop() {
        if (stack != null) {
            stack.close();
        }
    }

    // ------------------------------------------------------------------ A: record-service

    @Test
    @Order(1)
    void recordServiceKilledInTheMiddleOfReconcilingALargeLinkFinishesItExactlyOnce() throws Exception {
        JsonNode artistTable = created(owner.post("/api/v1/tables", "{\"name\":\"artist\",\"columns\":[{\"name\":\"Name\"}]}"));
        artist = artistTable.get("id").asText();
        artistName = columnId(artistTable, "Name");
        List<Long> artists = importRows(artist, TARGETS, i -> "{\"" + artistName + "\":\"Artist " + i + "\"}");
        JsonNode trackTable = created(owner.post("/api/v1/tables",
            "{\"name\":\"track\",\"columns\":[{\"name\":\"Title\"},{\"name\":\"Artist\"}]}"));
        track = trackTable.get("id").asText();
        String title = columnId(trackTable, "Title");
        trackArtist = columnId(trackTable, "Artist");
        // every 10th value a near miss (a leading zero): cleared; the rest exact ids: kept
        List<Long> tracks = importRows(track, ROWS, i -> "{\"" + title + "\":\"t" + i + "\",\"" + trackArtist + "\":\""
            + (i % 10 == 9 ? "0" : "") + artists.get(i % TARGETS) + "\"}");
        Map<Long, Long> expected = new HashMap<>();
        for (int i = 0; i < ROWS; i++) {
            expected.put(tracks.get(i), i % 10 == 9 ? null : artists.get(i % TARGETS));
        }
        long expectedCleared = ROWS / 10;

        assertThat(owner.put(linkPath(track, trackArtist), "{\"targetTableId\":\"" + artist + "\"}").status()).isEqualTo(202);
        // the reconciliation holds SHARE ROW EXCLUSIVE on the table from its first statement to its commit
        String schema = "tenant_" + TENANT;
        String physical = "t_" + track.replace("-", "");
        await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(5)).until(() ->
            reconcileLockHeld(schema, physical));
        Thread.sleep(100); // into its statements (the lock is its first one)
        long killedAt = System.nanoTime();
        stack.services.kill(LinkbaseServices.RECORD);
        assertThat(physicalLinks(track, trackArtist)).as("the kill landed before the reconciliation committed").isZero();

        stack.services.restart(LinkbaseServices.RECORD);
        JsonNode link = awaitActive(track, trackArtist, Duration.ofSeconds(300));
        double recovery = (System.nanoTime() - killedAt) / 1e9;
        assertThat(link.get("keptCount").asLong()).isEqualTo(ROWS - expectedCleared);
        assertThat(link.get("clearedCount").asLong()).isEqualTo(expectedCleared);

        // every value, as a user reads it
        Map<Long, Long> actual = readColumn(track, trackArtist);
        assertThat(actual).hasSize(ROWS);
        long wrong = expected.entrySet().stream().filter(e -> !java.util.Objects.equals(e.getValue(), actual.get(e.getKey()))).count();
        assertThat(wrong).as("values that differ from a run without the crash").isZero();

        // each effect exactly once: one LinkReconciled (in parts), one RecordUpserted per cleared record
        String linkedEventId = eventIds(track, "ColumnLinked").get(0);
        Topic records = readTopics(Topics.RECORDS, Topics.RECORDS_BULK);
        List<EventEnvelope> reconciled = records.distinct().stream()
            .filter(e -> e.hasLinkReconciled() && e.getLinkReconciled().getTableId().equals(track)).toList();
        Set<Long> clearedIds = new HashSet<>();
        long clearedValues = 0;
        for (EventEnvelope e : reconciled) {
            LinkReconciled r = e.getLinkReconciled();
            assertThat(r.getKeptCount()).isEqualTo(ROWS - expectedCleared);
            assertThat(r.getClearedCount()).isEqualTo(expectedCleared);
            for (ClearedValue v : r.getClearedValuesList()) {
                clearedIds.add(v.getRecordId());
                clearedValues++;
            }
        }
        assertThat(clearedValues).as("cleared values reported by LinkReconciled").isEqualTo(expectedCleared);
        assertThat(clearedIds).hasSize((int) expectedCleared);
        List<EventEnvelope> clearedUpserts = records.distinct().stream()
            .filter(e -> e.hasRecordUpserted() && e.getCausationId().equals(linkedEventId)).toList();
        assertThat(clearedUpserts).hasSize((int) expectedCleared);
        assertThat(clearedUpserts.stream().map(e -> e.getRecordUpserted().getRecordId()).distinct().count())
            .isEqualTo(expectedCleared);
        report("A record-service kill -9 mid-reconcile", String.format(
            "rows %,d; kill -9 to ACTIVE %.1f s; values compared %,d, wrong 0; kept %,d cleared %,d; LinkReconciled parts %d "
                + "(distinct), cleared RecordUpserted %,d (distinct); events redelivered on the record topics %,d; "
                + "lost 0, duplicated effects 0", ROWS, recovery, expected.size(), ROWS - expectedCleared, expectedCleared,
            reconciled.size(), clearedUpserts.size(), records.duplicates()));
    }

    // ------------------------------------------------------------------ C: search-service

    @Test
    @Order(2)
    void searchServiceKilledInTheMiddleOfABackfillEndsWithTheIndexAFreshRebuildMakes() throws Exception {
        JsonNode albumTable = created(owner.post("/api/v1/tables", "{\"name\":\"album\",\"columns\":[{\"name\":\"Title\"}]}"));
        String album = albumTable.get("id").asText();
        String albumTitle = columnId(albumTable, "Title");
        importRows(album, BACKFILL_ROWS, i -> "{\"" + albumTitle + "\":\"Album " + i + "\"}");
        JsonNode single = created(owner.post("/api/v1/tables", "{\"name\":\"single\",\"columns\":[{\"name\":\"Album\"}]}"));
        String singleAlbum = columnId(single, "Album");

        assertThat(owner.put(linkPath(single.get("id").asText(), singleAlbum), "{\"targetTableId\":\"" + album + "\"}").status())
            .isEqualTo(202);
        AtomicLong seen = new AtomicLong();
        await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(20)).until(() -> {
            long n = indexCount(album);
            seen.set(n);
            return n > 0;
        });
        long killedAt = System.nanoTime();
        stack.services.kill(LinkbaseServices.SEARCH);
        long atKill = indexCount(album);
        assertThat(atKill).as("the kill landed in the middle of the backfill").isLessThan(BACKFILL_ROWS);

        stack.services.restart(LinkbaseServices.SEARCH);
        awaitActive(single.get("id").asText(), singleAlbum, Duration.ofSeconds(300));
        double recovery = (System.nanoTime() - killedAt) / 1e9;
        await().atMost(Duration.ofSeconds(60)).until(() -> indexCount(album) == BACKFILL_ROWS);

        Map<String, String> live = documents();
        ManagedChannel channel = ServiceCredentials.channel("127.0.0.1:" + stack.services.grpcPort(LinkbaseServices.SEARCH),
            ServiceWiring.SERVICE_SECRET, "test").build();
        try {
            SearchServiceGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.MINUTES)
                .rebuild(RebuildRequest.newBuilder().setTenantId(TENANT).build());
        } finally {
            channel.shutdownNow();
        }
        Map<String, String> rebuilt = documents();
        assertThat(live.keySet()).isEqualTo(rebuilt.keySet());
        long differ = live.entrySet().stream().filter(e -> !e.getValue().equals(rebuilt.get(e.getKey()))).count();
        assertThat(differ).as("documents that differ from a fresh rebuild").isZero();
        report("C search-service kill -9 mid-backfill", String.format(
            "target rows %,d; killed at %,d indexed; kill -9 to ACTIVE %.1f s; documents compared with a fresh rebuild %,d, "
                + "different 0, missing 0, extra 0", BACKFILL_ROWS, atKill, recovery, live.size()));
    }

    // ------------------------------------------------------------------ B: schema-service

    @Test
    @Order(3)
    void schemaServiceKilledBetweenAppendingAndPublishingPublishesEachEventOnceAfterRestart() throws Exception {
        // Kafka away, so the relay cannot publish: what schema-service acknowledges waits in its outbox
        stack.servers.stop(Kind.KAFKA);
        String table;
        try {
            JsonNode t = created(owner.post("/api/v1/tables", "{\"name\":\"offline\",\"columns\":[{\"name\":\"A\"}]}"));
            table = t.get("id").asText();
            created(owner.post("/api/v1/tables/" + table + "/columns", "{\"name\":\"B\",\"type\":\"integer\"}"));
            assertThat(owner.patch("/api/v1/tables/" + table, "{\"name\":\"offline renamed\"}").status()).isEqualTo(200);
            assertThat(outboxRows(table)).as("appended, not yet published").isEqualTo(3);
            stack.services.kill(LinkbaseServices.SCHEMA);
        } finally {
            stack.servers.start(Kind.KAFKA);
        }
        long restartedAt = System.nanoTime();
        stack.services.restart(LinkbaseServices.SCHEMA);
        await().atMost(Duration.ofSeconds(120)).until(() -> outboxRows(table) == 0);
        double published = (System.nanoTime() - restartedAt) / 1e9;
        List<String> stored = eventIds(table, null);
        assertThat(stored).hasSize(3);
        Topic schemaTopic = readTopics(Topics.SCHEMA);
        List<EventEnvelope> onTopic = schemaTopic.all().stream().filter(e -> e.getAggregateId().equals(table)).toList();
        assertThat(onTopic).extracting(EventEnvelope::getEventId).containsExactlyElementsOf(stored);
        assertThat(onTopic).extracting(EventEnvelope::getAggregateVersion).containsExactly(1L, 2L, 3L);
        // and applied: record-service made the table with both columns
        await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
            try (Connection c = stack.db(LinkbaseServices.RECORD);
                 PreparedStatement s = c.prepareStatement("SELECT count(*) FROM information_schema.columns "
                     + "WHERE table_schema = ? AND table_name = ?")) {
                s.setString(1, "tenant_" + TENANT);
                s.setString(2, "t_" + table.replace("-", ""));
                try (ResultSet rs = s.executeQuery()) {
                    rs.next();
                    assertThat(rs.getInt(1)).isEqualTo(4); // id, A, B and the row version
                }
            }
        });
        report("B schema-service kill -9 between append and publish", String.format(
            "events appended while Kafka was down 3; on the topic after restart 3 (each once, versions 1-3); published "
                + "%.1f s after the restart began; duplicated 0, lost 0", published));
    }

    // ------------------------------------------------------------------ D: servers restarted under load

    @Test
    @Order(4)
    void kafkaRestartedUnderWriteLoadLosesNoAcknowledgedWrite() throws Exception {
        Outage o = underLoad("kafka", Kind.KAFKA, false);
        o.assertClean();
        report("D Kafka restarted under write load", o.summary());
    }

    @Test
    @Order(5)
    void postgresRestartedUnderWriteLoadLosesNoAcknowledgedWriteAndNeverAnswers500() throws Exception {
        Outage o = underLoad("postgres", Kind.POSTGRES, false);
        // a write meeting the outage waits for a connection (the pool's timeout) and then answers
        // 503, or succeeds if PostgreSQL is back by then: either is clean, neither a 500 nor a hang
        o.assertClean();
        report("D PostgreSQL restarted under write load", o.summary());
    }

    @Test
    @Order(6)
    void openSearchRestartedUnderAutocompleteLoadAnswers503AndCatchesUp() throws Exception {
        // search-service is also killed while OpenSearch is down and must start without it
        Outage o = underLoad("opensearch", Kind.OPENSEARCH, true);
        o.assertClean();
        assertThat(o.searchStatuses).as("autocomplete while OpenSearch was down gets 503").containsKey(503);
        report("D OpenSearch restarted under autocomplete load", o.summary());
    }

    // ------------------------------------------------------------------ E: several instances

    @Test
    @Order(7)
    void twoInstancesOfEachBackendShareTheWorkAndNothingIsAppliedTwice() throws Exception {
        List<LinkbaseServices.Service> extra = new java.util.concurrent.CopyOnWriteArrayList<>();
        try {
            List<Thread> starts = new ArrayList<>();
            for (LinkbaseServices.Service s : LinkbaseServices.BACKENDS) {
                starts.add(started("start-another-" + s.name(), () -> extra.add(stack.services.startAnother(s))));
            }
            for (Thread t : starts) {
                t.join(300_000);
            }
            assertThat(extra).hasSize(3);
            // every consumer group has a member in each instance: the partitions are shared
            List<String> groups = List.of("record-service.schema", "search-service.schema", "search-service.records",
                "schema-service.link-state");
            long t0 = System.nanoTime();
            await().atMost(Duration.ofSeconds(120)).until(() -> groups.stream().allMatch(g -> members(g) == 2));
            double rebalanced = (System.nanoTime() - t0) / 1e9;

            // a link with clearing and live writes, while both instances consume
            int targets = 2_000;
            int rows = 20_000;
            JsonNode targetTable = created(owner.post("/api/v1/tables", "{\"name\":\"twin target\",\"columns\":[{\"name\":\"Name\"}]}"));
            String target = targetTable.get("id").asText();
            String targetName = columnId(targetTable, "Name");
            List<Long> targetIds = importRows(target, targets, i -> "{\"" + targetName + "\":\"Twin " + i + "\"}");
            JsonNode sourceTable = created(owner.post("/api/v1/tables", "{\"name\":\"twin\",\"columns\":[{\"name\":\"Ref\"}]}"));
            String source = sourceTable.get("id").asText();
            String ref = columnId(sourceTable, "Ref");
            importRows(source, rows, i -> "{\"" + ref + "\":\"" + (i % 10 == 9 ? "0" : "") + targetIds.get(i % targets) + "\"}");
            assertThat(owner.put(linkPath(source, ref), "{\"targetTableId\":\"" + target + "\"}").status()).isEqualTo(202);
            // while the link is worked on, the second record- and search-service die (kill -9: their
            // partitions move after the session timeout) and the second schema-service is stopped
            // (SIGTERM: its consumer leaves the group at once)
            LinkbaseServices.Service schema2 = null;
            for (LinkbaseServices.Service s : extra) {
                if (s.module().equals(LinkbaseServices.SCHEMA.module())) {
                    schema2 = s;
                } else {
                    stack.services.kill(s);
                }
            }
            long killed = System.nanoTime();
            stack.services.stop(schema2);
            long stopped = System.nanoTime();
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
                .until(() -> members("schema-service.link-state") == 1);
            double left = (System.nanoTime() - stopped) / 1e9;
            assertThat(left).as("a stopped instance leaves its group at once, not after the session timeout")
                .isLessThan(io.linkbase.kit.kafka.KafkaSettings.SESSION_TIMEOUT.toSeconds());
            JsonNode link = awaitActive(source, ref, Duration.ofSeconds(300));
            double recovery = (System.nanoTime() - killed) / 1e9;
            assertThat(link.get("keptCount").asLong()).isEqualTo(rows - rows / 10);
            assertThat(link.get("clearedCount").asLong()).isEqualTo(rows / 10);
            String linkedEventId = eventIds(source, "ColumnLinked").get(0);
            Topic records = readTopics(Topics.RECORDS, Topics.RECORDS_BULK);
            long reconciled = records.distinct().stream()
                .filter(e -> e.hasLinkReconciled() && e.getLinkReconciled().getTableId().equals(source)).count();
            List<EventEnvelope> clearedUpserts = records.distinct().stream()
                .filter(e -> e.hasRecordUpserted() && e.getCausationId().equals(linkedEventId)).toList();
            assertThat(reconciled).as("LinkReconciled events of the link").isEqualTo(1);
            assertThat(clearedUpserts).hasSize(rows / 10);
            assertThat(clearedUpserts.stream().map(e -> e.getRecordUpserted().getRecordId()).distinct().count())
                .isEqualTo(rows / 10);
            await().atMost(Duration.ofSeconds(60)).until(() -> indexCount(target) == targets);
            assertThat(readColumn(source, ref).values().stream().filter(java.util.Objects::isNull).count())
                .isEqualTo(rows / 10);
            report("E two instances of each backend", String.format("consumer groups %s each with 2 members %.1f s after "
                    + "the second instances started; a %,d-row link with the second record- and search-service killed and the "
                    + "second schema-service stopped during it (its group down to 1 member %.1f s after it exited): ACTIVE "
                    + "%.1f s after the kill, kept %,d, cleared %,d, 1 LinkReconciled, %,d cleared RecordUpserted (distinct), "
                    + "%,d target documents; duplicated effects 0", groups, rebalanced, rows, left, recovery, rows - rows / 10,
                rows / 10, clearedUpserts.size(), targets));
        } finally {
            for (LinkbaseServices.Service s : extra) {
                stack.services.stop(s);
            }
        }
    }

    private int members(String group) {
        Properties p = new Properties();
        p.put("bootstrap.servers", stack.servers.kafka().bootstrapServers());
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(p)) {
            return admin.describeConsumerGroups(List.of(group)).all().get(30, TimeUnit.SECONDS).get(group).members().size();
        } catch (Exception e) {
            return -1;
        }
    }

    // ------------------------------------------------------------------ graceful shutdown

    @Test
    @Order(8)
    void aRequestInFlightFinishesWhenTheGatewayIsToldToStop() throws Exception {
        // a link to the 100,000-row table: its backfill takes longer than the 8 s the caller waits,
        // so the request is in flight at the gateway for those 8 s and then answers 202
        JsonNode table = created(owner.post("/api/v1/tables", "{\"name\":\"graceful\",\"columns\":[{\"name\":\"Track\"}]}"));
        String id = table.get("id").asText();
        String col = columnId(table, "Track");
        long sent = System.nanoTime();
        java.util.concurrent.CompletableFuture<Result> inFlight = java.util.concurrent.CompletableFuture.supplyAsync(() ->
            send("PUT", linkPath(id, col) + "?wait=8", "{\"targetTableId\":\"" + track + "\"}"));
        Thread.sleep(1_000);
        assertThat(inFlight).as("still in flight when SIGTERM is sent").isNotDone();
        long t0 = System.nanoTime();
        stack.services.stop(LinkbaseServices.GATEWAY); // SIGTERM; returns once the process has exited
        double stopped = (System.nanoTime() - t0) / 1e9;
        Result r = inFlight.get(60, TimeUnit.SECONDS);
        double answered = (System.nanoTime() - sent) / 1e9;
        stack.services.restart(LinkbaseServices.GATEWAY);
        assertThat(r.timedOut()).as("the request in flight got its answer, not a broken connection").isFalse();
        assertThat(r.status()).isIn(200, 202);
        assertThat(owner.get(linkPath(id, col)).status()).isEqualTo(200);
        report("graceful shutdown of the gateway", String.format("PUT link?wait=8 in flight at SIGTERM answered %d after "
            + "%.1f s; the gateway exited %.1f s after SIGTERM", r.status(), answered, stopped));
    }

    /** What the clients saw during one server's outage. */
    private final class Outage {
        final String name;
        final Map<Integer, AtomicLong> statuses = new ConcurrentHashMap<>();
        final Map<Integer, AtomicLong> searchStatuses = new ConcurrentHashMap<>();
        final AtomicLong hangs = new AtomicLong();
        final AtomicLong searchHangs = new AtomicLong();
        final Map<Long, String> acknowledged = new ConcurrentHashMap<>();
        double downSeconds;
        long upAt;
        double recoverySeconds;
        double caughtUpSeconds;
        long missingAfterRecovery;
        int autocompleteChecked;
        boolean healthyAgain;

        Outage(String name) {
            this.name = name;
        }

        void assertClean() {
            String seen = name + ": " + summary();
            assertThat(healthyAgain).as("every service healthy again within 180 s; " + seen).isTrue();
            assertThat(hangs.get()).as("writes without an answer within " + CLIENT_TIMEOUT.toSeconds() + " s; " + seen).isZero();
            assertThat(searchHangs.get()).as("searches without an answer; " + seen).isZero();
            assertThat(statuses.keySet()).as("write answers; " + seen).allMatch(s -> s == 201 || s == 503);
            assertThat(searchStatuses.keySet()).as("search answers; " + seen).allMatch(s -> s == 200 || s == 503);
            assertThat(missingAfterRecovery).as("acknowledged writes missing from the table, the index or autocomplete; " + seen)
                .isZero();
        }

        String summary() {
            return String.format("down %.1f s; writes %s, %,d acknowledged; searches %s; hangs %d; back to healthy %.1f s "
                    + "after the server returned; every acknowledged write read back with its value and in the index, "
                    + "%d of them asked of autocomplete and found, %.1f s after it returned; missing %d", downSeconds,
                new TreeMap<>(statuses), acknowledged.size(), new TreeMap<>(searchStatuses), hangs.get() + searchHangs.get(),
                recoverySeconds, autocompleteChecked, caughtUpSeconds, missingAfterRecovery);
        }
    }

    /**
     * Two writers add target records and two readers ask autocomplete, before, during and after
     * the server is away; then every acknowledged write must be readable and found by autocomplete.
     */
    private Outage underLoad(String name, Kind server, boolean alsoKillSearchService) throws Exception {
        Outage o = new Outage(name);
        AtomicBoolean running = new AtomicBoolean(true);
        List<Thread> clients = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
            int writer = w;
            clients.add(started("faults-writer-" + w, () -> {
                for (int i = 0; running.get(); i++) {
                    String value = name + " w" + writer + " n" + i;
                    Result r = send("POST", "/api/v1/tables/" + artist + "/records",
                        "{\"values\":{\"" + artistName + "\":\"" + value + "\"}}");
                    if (r.timedOut) {
                        o.hangs.incrementAndGet();
                        continue;
                    }
                    o.statuses.computeIfAbsent(r.status, k -> new AtomicLong()).incrementAndGet();
                    if (r.status == 201) {
                        o.acknowledged.put(r.body.get("id").asLong(), value);
                    }
                    pause(WRITE_PAUSE_MS);
                }
            }));
        }
        for (int q = 0; q < 2; q++) {
            clients.add(started("faults-reader-" + q, () -> {
                while (running.get()) {
                    Result r = send("GET", suggestionsPath("Artist 1"), null);
                    if (r.timedOut) {
                        o.searchHangs.incrementAndGet();
                        continue;
                    }
                    o.searchStatuses.computeIfAbsent(r.status, k -> new AtomicLong()).incrementAndGet();
                    pause(r.status == 200 ? 20 : 100);
                }
            }));
        }
        try {
            Thread.sleep(2_000);
            long down = System.nanoTime();
            stack.servers.stop(server);
            try {
                if (alsoKillSearchService) {
                    stack.services.kill(LinkbaseServices.SEARCH);
                    stack.services.restartWithoutWaitingForHealth(LinkbaseServices.SEARCH);
                }
                Thread.sleep(OUTAGE_SECONDS * 1000L);
            } finally {
                stack.servers.start(server);
            }
            long up = System.nanoTime();
            o.upAt = up;
            o.downSeconds = (up - down) / 1e9;
            try {
                await().atMost(Duration.ofSeconds(180)).until(this::allHealthy);
                o.healthyAgain = true;
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                o.healthyAgain = false; // reported by assertClean, with what the clients saw
            }
            o.recoverySeconds = (System.nanoTime() - up) / 1e9;
            Thread.sleep(2_000);
        } finally {
            running.set(false);
            for (Thread t : clients) {
                t.join(CLIENT_TIMEOUT.toMillis() + 5_000);
            }
        }
        long up = o.upAt;
        // every acknowledged write is there with its value (read back through the API), is in the
        // index (one query for all of them), and autocomplete finds it (asked for a sample of them)
        List<Long> sample = new ArrayList<>(o.acknowledged.keySet());
        Collections.shuffle(sample, new java.util.Random(42));
        sample = sample.subList(0, Math.min(AUTOCOMPLETE_SAMPLE, sample.size()));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        long missing;
        while (true) {
            Map<Long, String> stored = readTexts(artist, artistName);
            missing = o.acknowledged.entrySet().stream().filter(e -> !e.getValue().equals(stored.get(e.getKey()))).count();
            if (missing == 0) {
                missing = o.acknowledged.size() - indexedAmong(artist, o.acknowledged.keySet());
            }
            if (missing == 0) {
                missing = sample.stream().filter(id -> {
                    Api.Response s = owner.get(suggestionsPath(o.acknowledged.get(id)) + "&limit=5");
                    return !(s.status() == 200 && s.body().path("suggestions").findValuesAsText("recordId").contains(id.toString()));
                }).count();
            }
            if (missing == 0 || System.nanoTime() > deadline) {
                break;
            }
            Thread.sleep(500);
        }
        o.autocompleteChecked = sample.size();
        o.caughtUpSeconds = (System.nanoTime() - up) / 1e9;
        o.missingAfterRecovery = missing;
        return o;
    }

    // ------------------------------------------------------------------ helpers

    private record Result(int status, JsonNode body, boolean timedOut) {
    }

    private Result send(String method, String path, String json) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(stack.gatewayUrl() + path))
            .timeout(CLIENT_TIMEOUT)
            .header("Authorization", "Bearer " + owner.token())
            .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        if (json != null) {
            b.header("Content-Type", "application/json");
        }
        try {
            HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
            JsonNode body = r.body() == null || r.body().isBlank() ? Api.JSON.nullNode() : Api.JSON.readTree(r.body());
            return new Result(r.statusCode(), body, false);
        } catch (HttpTimeoutException e) {
            return new Result(0, null, true);
        } catch (IOException e) {
            // the gateway itself is never stopped here: a broken connection counts as a hang
            return new Result(0, null, true);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(0, null, true);
        }
    }

    private static Thread started(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private static void pause(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private boolean allHealthy() {
        for (LinkbaseServices.Service s : List.of(LinkbaseServices.SCHEMA, LinkbaseServices.RECORD, LinkbaseServices.SEARCH,
            LinkbaseServices.GATEWAY)) {
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                    + stack.services.httpPort(s) + "/health")).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() != 200) {
                    return false;
                }
            } catch (IOException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    private String suggestionsPath(String q) {
        return "/api/v1/tables/" + track + "/columns/" + trackArtist + "/suggestions?q="
            + URLEncoder.encode(q, StandardCharsets.UTF_8);
    }

    private static String linkPath(String table, String column) {
        return "/api/v1/tables/" + table + "/columns/" + column + "/link";
    }

    private JsonNode awaitActive(String table, String column, Duration atMost) {
        JsonNode[] link = new JsonNode[1];
        await().atMost(atMost).pollInterval(Duration.ofMillis(500)).until(() -> {
            Api.Response r = owner.get(linkPath(table, column));
            link[0] = r.body();
            return r.status() == 200 && "ACTIVE".equals(r.body().path("state").asText());
        });
        return link[0];
    }

    /** Imports through the public batch API, 10,000 records a request; the ids in order. */
    private List<Long> importRows(String table, int rows, IntFunction<String> values) {
        List<Long> ids = new ArrayList<>(rows);
        for (int from = 0; from < rows; from += 10_000) {
            StringBuilder body = new StringBuilder("{\"records\":[");
            for (int i = from; i < Math.min(rows, from + 10_000); i++) {
                body.append(i == from ? "" : ",").append("{\"values\":").append(values.apply(i)).append('}');
            }
            body.append("]}");
            Api.Response r = owner.post("/api/v1/tables/" + table + "/records/batch", body.toString());
            assertThat(r.status()).as(r.toString()).isEqualTo(201);
            r.body().get("ids").forEach(id -> ids.add(id.asLong()));
        }
        return ids;
    }

    /** The column of every record, paging through the public API. */
    private Map<Long, Long> readColumn(String table, String column) {
        Map<Long, Long> values = new HashMap<>();
        String after = null;
        do {
            Api.Response r = owner.get("/api/v1/tables/" + table + "/records?limit=1000" + (after == null ? "" : "&after=" + after));
            assertThat(r.status()).isEqualTo(200);
            for (JsonNode rec : r.body().get("records")) {
                JsonNode v = rec.path("values").path(column);
                values.put(rec.get("id").asLong(), v.isMissingNode() || v.isNull() ? null : v.asLong());
            }
            after = r.body().path("next").isNull() || r.body().path("next").isMissingNode() ? null : r.body().get("next").asText();
        } while (after != null);
        return values;
    }

    /** A text column of every record, paging through the public API. */
    private Map<Long, String> readTexts(String table, String column) {
        Map<Long, String> values = new HashMap<>();
        String after = null;
        do {
            Api.Response r = owner.get("/api/v1/tables/" + table + "/records?limit=1000" + (after == null ? "" : "&after=" + after));
            assertThat(r.status()).isEqualTo(200);
            for (JsonNode rec : r.body().get("records")) {
                values.put(rec.get("id").asLong(), rec.path("values").path(column).asText(null));
            }
            after = r.body().path("next").isNull() || r.body().path("next").isMissingNode() ? null : r.body().get("next").asText();
        } while (after != null);
        return values;
    }

    /** How many of these records of the table have a document in the index. */
    private long indexedAmong(String table, Set<Long> records) throws IOException, InterruptedException {
        ObjectNode q = Api.JSON.createObjectNode();
        ArrayNode filter = q.putObject("query").putObject("bool").putArray("filter");
        filter.addObject().putObject("term").put("tenant", TENANT);
        filter.addObject().putObject("term").put("table", table);
        ArrayNode ids = filter.addObject().putObject("terms").putArray("record");
        records.forEach(ids::add);
        return Api.JSON.readTree(post("/linkbase-records/_count", q.toString())).get("count").asLong();
    }

    private static JsonNode created(Api.Response r) {
        assertThat(r.status()).as(r.toString()).isEqualTo(201);
        return r.body();
    }

    private static String columnId(JsonNode table, String name) {
        for (JsonNode c : table.get("columns")) {
            if (c.get("name").asText().equals(name)) {
                return c.get("id").asText();
            }
        }
        throw new AssertionError("no column " + name + " in " + table);
    }

    private boolean reconcileLockHeld(String schema, String table) throws SQLException {
        try (Connection c = stack.db(LinkbaseServices.RECORD);
             PreparedStatement s = c.prepareStatement("SELECT count(*) FROM pg_locks l JOIN pg_class t ON t.oid = l.relation "
                 + "JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = ? AND t.relname = ? "
                 + "AND l.mode = 'ShareRowExclusiveLock' AND l.granted")) {
            s.setString(1, schema);
            s.setString(2, table);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1) > 0;
            }
        }
    }

    private long physicalLinks(String table, String column) throws SQLException {
        try (Connection c = stack.db(LinkbaseServices.RECORD);
             PreparedStatement s = c.prepareStatement(
                 "SELECT count(*) FROM physical_links WHERE tenant_id = ? AND table_id = ? AND column_id = ?")) {
            s.setString(1, TENANT);
            s.setString(2, table);
            s.setString(3, column);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** Event ids in schema-service's event store for a table (of one type, or all), by version. */
    private List<String> eventIds(String table, String type) throws SQLException {
        try (Connection c = stack.db(LinkbaseServices.SCHEMA);
             PreparedStatement s = c.prepareStatement("SELECT event_id::text FROM events WHERE tenant_id = ? AND aggregate_id = ? "
                 + "AND (event_type = ? OR ?::text IS NULL) ORDER BY version")) {
            s.setString(1, TENANT);
            s.setString(2, table);
            s.setString(3, type);
            s.setString(4, type);
            List<String> ids = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getString(1));
                }
            }
            return ids;
        }
    }

    private long outboxRows(String table) throws SQLException {
        try (Connection c = stack.db(LinkbaseServices.SCHEMA);
             PreparedStatement s = c.prepareStatement(
                 "SELECT count(*) FROM outbox o JOIN events e ON e.event_id = o.event_id WHERE e.aggregate_id = ?")) {
            s.setString(1, table);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** Everything on some topics (this suite's tenant only), as read by a committed-read consumer. */
    private record Topic(List<EventEnvelope> all) {
        List<EventEnvelope> distinct() {
            Map<String, EventEnvelope> byId = new java.util.LinkedHashMap<>();
            all.forEach(e -> byId.putIfAbsent(e.getEventId(), e));
            return List.copyOf(byId.values());
        }

        long duplicates() {
            return all.size() - distinct().size();
        }
    }

    private Topic readTopics(String... topics) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, stack.servers.kafka().bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        List<EventEnvelope> out = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (String topic : topics) {
                for (PartitionInfo info : c.partitionsFor(topic, Duration.ofSeconds(30))) {
                    partitions.add(new TopicPartition(topic, info.partition()));
                }
            }
            c.assign(partitions);
            c.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = c.endOffsets(partitions, Duration.ofSeconds(30));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (partitions.stream().anyMatch(tp -> c.position(tp, Duration.ofSeconds(30)) < end.get(tp))) {
                assertThat(System.nanoTime()).as("read the topics within 120 s").isLessThan(deadline);
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(500))) {
                    if (r.key() != null && r.key().startsWith(TENANT + "/")) {
                        out.add(Envelopes.parse(r.value()));
                    }
                }
            }
        }
        return new Topic(Collections.unmodifiableList(out));
    }

    private long indexCount(String table) throws IOException, InterruptedException {
        String query = "{\"query\":{\"bool\":{\"filter\":[{\"term\":{\"tenant\":\"" + TENANT + "\"}},{\"term\":{\"table\":\""
            + table + "\"}}]}}}";
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(stack.servers.openSearch().httpUrl()
                + "/linkbase-records/_count")).timeout(Duration.ofSeconds(10))
            .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(query)).build(),
            HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() == 404) {
            return 0;
        }
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return Api.JSON.readTree(r.body()).get("count").asLong();
    }

    /** Every document of the tenant behind the alias: id → version and source. */
    private Map<String, String> documents() throws IOException, InterruptedException {
        post("/linkbase-records/_refresh", "");
        Map<String, String> docs = new HashMap<>();
        JsonNode after = null;
        while (true) {
            ObjectNode q = Api.JSON.createObjectNode();
            q.put("size", 5000);
            q.put("version", true);
            q.putObject("query").putObject("term").put("tenant", TENANT);
            ArrayNode sort = q.putArray("sort");
            sort.add("table").add("record");
            if (after != null) {
                q.set("search_after", after);
            }
            JsonNode hits = Api.JSON.readTree(post("/linkbase-records/_search", q.toString())).path("hits").path("hits");
            if (hits.isEmpty()) {
                return docs;
            }
            for (JsonNode h : hits) {
                docs.put(h.get("_id").asText(), h.get("_version").asLong() + " " + h.get("_source").toString());
                after = h.get("sort");
            }
        }
    }

    private String post(String path, String body) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(stack.servers.openSearch().httpUrl() + path))
            .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return r.body();
    }

    private static void report(String scenario, String figures) {
        System.out.println("[faults] " + scenario + ": " + figures);
    }
}
