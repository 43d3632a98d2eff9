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
        // the reconciliation commits in steps: kill it once some cleared values are committed and
        // before its last step (the link's row in record-service's catalog records how far it got)
        await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(5)).until(() ->
            reconcileUnderWay(track, trackArtist));
        long killedAt = System.nanoTime();
        stack.services.kill(LinkbaseServices.RECORD);
        String phaseAtKill = linkPhase(track, trackArtist);
        assertThat(phaseAtKill).as("the kill landed before the reconciliation's last step").isIn("CLEARING", "VALIDATING");

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
            "rows %,d; killed in phase %s; kill -9 to ACTIVE %.1f s; values compared %,d, wrong 0; kept %,d cleared %,d; LinkReconciled parts %d "
                + "(distinct), cleared RecordUpserted %,d (distinct); events redelivered on the record topics %,d; "
                + "lost 0, duplicated effects 0", ROWS, phaseAtKill, recovery, expected.size(), ROWS - expectedCleared, expectedCleared,
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
        rebuild(LinkbaseServices.SEARCH, TENANT);
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
    void twoInstancesOfEachServiceShareTheWorkRebuildSafelyAndApplyNothingTwice() throws Exception {
        List<LinkbaseServices.Service> extra = new java.util.concurrent.CopyOnWriteArrayList<>();
        try {
            List<Thread> starts = new ArrayList<>();
            for (LinkbaseServices.Service s : List.of(LinkbaseServices.SCHEMA, LinkbaseServices.RECORD,
                LinkbaseServices.SEARCH, LinkbaseServices.GATEWAY)) {
                starts.add(started("start-another-" + s.name(), () -> extra.add(stack.services.startAnother(s))));
            }
            for (Thread t : starts) {
                t.join(300_000);
            }
            assertThat(extra).hasSize(4);
            Map<String, LinkbaseServices.Service> second = new HashMap<>();
            extra.forEach(s -> second.put(s.module(), s));
            // clients alternate between the two gateways for every request
            Api owner2 = new Api("http://127.0.0.1:" + stack.services.httpPort(second.get("gateway")), owner.token());
            // every consumer group has a member in each instance: the partitions are shared
            List<String> groups = List.of("record-service.schema", "search-service.schema", "search-service.records",
                "schema-service.link-state");
            long t0 = System.nanoTime();
            await().atMost(Duration.ofSeconds(120)).until(() -> groups.stream().allMatch(g -> members(g) == 2));
            double rebalanced = (System.nanoTime() - t0) / 1e9;

            String rebuildFigures = rebuildWithTwoSearchServices(List.of(stack.gatewayUrl(),
                "http://127.0.0.1:" + stack.services.httpPort(second.get("gateway"))), second.get("search-service"));

            // a link with clearing, requested and imported through both gateways, while both instances consume
            int targets = 2_000;
            int rows = 20_000;
            JsonNode targetTable = created(owner2.post("/api/v1/tables", "{\"name\":\"twin target\",\"columns\":[{\"name\":\"Name\"}]}"));
            String target = targetTable.get("id").asText();
            String targetName = columnId(targetTable, "Name");
            List<Long> targetIds = importRows(target, targets, i -> "{\"" + targetName + "\":\"Twin " + i + "\"}");
            JsonNode sourceTable = created(owner2.post("/api/v1/tables", "{\"name\":\"twin\",\"columns\":[{\"name\":\"Ref\"}]}"));
            String source = sourceTable.get("id").asText();
            String ref = columnId(sourceTable, "Ref");
            importRows(source, rows, i -> "{\"" + ref + "\":\"" + (i % 10 == 9 ? "0" : "") + targetIds.get(i % targets) + "\"}");
            assertThat(owner2.put(linkPath(source, ref), "{\"targetTableId\":\"" + target + "\"}").status()).isEqualTo(202);
            // while the link is worked on, the second record-service dies (kill -9: its partitions
            // move after the session timeout; the second search-service was killed in the rebuild
            // above) and the second schema-service is stopped (SIGTERM: it leaves the group at once)
            stack.services.kill(second.get("record-service"));
            long killed = System.nanoTime();
            stack.services.stop(second.get("schema-service"));
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
            report("E two instances of each service", String.format("consumer groups %s each with 2 members %.1f s after "
                    + "the second instances started; %s; a %,d-row link (requested through the second gateway) with the "
                    + "second record-service killed and the second schema-service stopped during it (its group down to 1 "
                    + "member %.1f s after it exited): ACTIVE %.1f s after the kill, kept %,d, cleared %,d, 1 LinkReconciled, "
                    + "%,d cleared RecordUpserted (distinct), %,d target documents; duplicated effects 0", groups, rebalanced,
                rebuildFigures, rows, left, recovery, rows - rows / 10, rows / 10, clearedUpserts.size(), targets));
        } finally {
            for (LinkbaseServices.Service s : extra) {
                stack.services.stop(s);
            }
        }
    }

    /**
     * Scenario E's rebuild: writers create, change and delete records of several link targets
     * through both gateways, whose tables' record events are consumed by both search-services;
     * a Rebuild is requested on the first search-service and, while it runs, a second one on the
     * other (refused); then a Rebuild on the second search-service is killed ({@code kill -9})
     * in the middle and run again on the first once its lease expired. Afterwards the index equals
     * the database: every record present with its latest value, nothing extra, in every target.
     */
    private String rebuildWithTwoSearchServices(List<String> gatewayUrls, LinkbaseServices.Service search2) throws Exception {
        // a tenant of its own keeps the rebuild's export small; the suite's tenant is copied over
        String tenant = "faultsrb";
        assertThat(new Api(stack.gatewayUrl(), Stack.adminToken()).put("/api/v1/tenants/" + tenant, null).status()).isEqualTo(201);
        String token = Stack.token(tenant, 24 * 3600, "owner");
        List<Api> gateways = gatewayUrls.stream().map(url -> new Api(url, token)).toList();
        Api rb = gateways.get(0);
        // target tables until their record events (key tenant/table) are consumed by both search-services
        JsonNode links = created(rb.post("/api/v1/tables", "{\"name\":\"rebuild links\",\"columns\":[{\"name\":\"Note\"}]}"));
        String linking = links.get("id").asText();
        Map<String, String> nameColumn = new java.util.LinkedHashMap<>();
        Set<String> owners = new HashSet<>();
        while (owners.size() < 2 || nameColumn.size() < 2) {
            assertThat(nameColumn.size()).as("target tables whose events both search-services consume").isLessThan(12);
            JsonNode t = created(gateways.get(nameColumn.size() % 2).post("/api/v1/tables",
                "{\"name\":\"rebuilt " + nameColumn.size() + "\",\"columns\":[{\"name\":\"Name\"}]}"));
            String table = t.get("id").asText();
            nameColumn.put(table, columnId(t, "Name"));
            String[] member = new String[1];
            await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
                member[0] = ownerOf("search-service.records", Topics.RECORDS, tenant + "/" + table);
                return true;
            });
            owners.add(member[0]);
        }
        for (Map.Entry<String, String> e : nameColumn.entrySet()) {
            importRows(rb, e.getKey(), SEEDS, i -> "{\"" + e.getValue() + "\":\"seed " + i + "\"}");
            JsonNode column = created(rb.post("/api/v1/tables/" + linking + "/columns", "{\"name\":\"Ref " + e.getKey() + "\"}"));
            assertThat(rb.put(linkPath(linking, column.get("id").asText()), "{\"targetTableId\":\"" + e.getKey() + "\"}")
                .status()).isEqualTo(202);
            awaitActive(rb, linking, column.get("id").asText(), Duration.ofSeconds(120));
        }
        List<String> tables = new ArrayList<>(nameColumn.keySet());

        // writers: create, rename and delete records, each request through the next gateway; each
        // remembers the latest acknowledged value of the records it created (null: deleted)
        AtomicBoolean running = new AtomicBoolean(true);
        Map<Integer, AtomicLong> statuses = new ConcurrentHashMap<>();
        Map<String, Map<Long, String>> expected = new ConcurrentHashMap<>();
        tables.forEach(t -> expected.put(t, new ConcurrentHashMap<>()));
        AtomicLong creates = new AtomicLong();
        AtomicLong deletes = new AtomicLong();
        AtomicLong writes = new AtomicLong();
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
            int writer = w;
            writers.add(started("rebuild-writer-" + w, () -> {
                List<Object[]> mine = new ArrayList<>(); // {table, record id}
                for (int i = 0; running.get(); i++) {
                    Api api = gateways.get(i % 2);
                    Api.Response r;
                    if (i % 5 == 3 && !mine.isEmpty()) {
                        Object[] rec = mine.get(i % mine.size());
                        String table = (String) rec[0];
                        String value = "w" + writer + " renamed " + i;
                        r = api.patch("/api/v1/tables/" + table + "/records/" + rec[1],
                            "{\"values\":{\"" + nameColumn.get(table) + "\":\"" + value + "\"}}");
                        if (r.status() == 200) {
                            expected.get(table).put((Long) rec[1], value);
                        }
                    } else if (i % 5 == 4 && !mine.isEmpty()) {
                        Object[] rec = mine.remove(mine.size() - 1);
                        String table = (String) rec[0];
                        r = api.delete("/api/v1/tables/" + table + "/records/" + rec[1]);
                        if (r.status() == 204) {
                            expected.get(table).remove((Long) rec[1]);
                            deletes.incrementAndGet();
                        }
                    } else {
                        String table = tables.get((i / 5) % tables.size());
                        String value = "w" + writer + " new " + i;
                        r = api.post("/api/v1/tables/" + table + "/records",
                            "{\"values\":{\"" + nameColumn.get(table) + "\":\"" + value + "\"}}");
                        if (r.status() == 201) {
                            long id = r.body().get("id").asLong();
                            mine.add(new Object[] {table, id});
                            expected.get(table).put(id, value);
                            creates.incrementAndGet();
                        }
                    }
                    statuses.computeIfAbsent(r.status(), k -> new AtomicLong()).incrementAndGet();
                    writes.incrementAndGet();
                    pause(150);
                }
            }));
        }
        String rebuilt;
        long duringFirst;
        long refusedRetries = 0;
        double takeover;
        String orphan;
        try {
            Thread.sleep(1_000);
            // a Rebuild on the first search-service; while it runs, one on the second is refused
            long writesBefore = writes.get();
            java.util.concurrent.CompletableFuture<io.linkbase.proto.internal.v1.RebuildResponse> first =
                java.util.concurrent.CompletableFuture.supplyAsync(() -> rebuildRetrying(LinkbaseServices.SEARCH, tenant));
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20)).until(() -> rebuildRow()[1] != null);
            assertThatRebuildIsRefused(search2, tenant);
            rebuilt = first.get(5, TimeUnit.MINUTES).getIndex();
            duringFirst = writes.get() - writesBefore;
            assertThat(aliased()).isEqualTo(rebuilt);
            assertThat(rebuildRow()[0]).as("the lease is released").isNull();

            // a Rebuild on the second search-service, killed in the middle: the alias stays on a complete index
            java.util.concurrent.CompletableFuture.runAsync(() -> {
                try {
                    rebuild(search2, tenant);
                } catch (RuntimeException killed) {
                    // it is killed
                }
            });
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20)).until(() -> {
                String fresh = rebuildRow()[1];
                return fresh != null && indexDocuments(fresh) > 0;
            });
            orphan = rebuildRow()[1];
            stack.services.kill(search2);
            long killedAt = System.nanoTime();
            assertThat(aliased()).as("the alias stays on the index of the last complete rebuild").isEqualTo(rebuilt);
            // run again on the first: refused while the dead one's lease lasts, then it takes over
            while (true) {
                try {
                    rebuilt = rebuild(LinkbaseServices.SEARCH, tenant).getIndex();
                    break;
                } catch (io.grpc.StatusRuntimeException e) {
                    if (e.getStatus().getCode() != io.grpc.Status.Code.UNAVAILABLE) { // see rebuildRetrying
                        assertThat(io.linkbase.kit.grpc.ApiException.infoOf(e).getCode()).as(e.toString())
                            .isEqualTo("rebuild_in_progress");
                    }
                    assertThat(System.nanoTime() - killedAt).as("the dead rebuild's lease expires").isLessThan(TimeUnit.SECONDS.toNanos(120));
                    refusedRetries++;
                    Thread.sleep(500);
                }
            }
            takeover = (System.nanoTime() - killedAt) / 1e9;
            assertThat(aliased()).isEqualTo(rebuilt);
            assertThat(indexExists(orphan)).as("the dead rebuild's index is deleted").isFalse();
            Thread.sleep(1_000); // and writes after the rebuild
        } finally {
            running.set(false);
            for (Thread t : writers) {
                t.join(70_000);
            }
        }
        assertThat(statuses.keySet()).as("write answers " + statuses).allMatch(s -> s == 200 || s == 201 || s == 204);
        assertThat(duringFirst).as("writes during the first rebuild").isPositive();

        // the database holds every acknowledged write once (two gateways, no double effects), and the
        // index equals the database: every record of each target with its latest value, nothing extra
        long compared = 0;
        for (String table : tables) {
            Map<Long, String> database = readTexts(rb, table, nameColumn.get(table));
            long seeds = database.values().stream().filter(v -> v.startsWith("seed ")).count();
            assertThat(seeds).isEqualTo(SEEDS);
            Map<Long, String> written = new HashMap<>(database);
            written.values().removeIf(v -> v.startsWith("seed "));
            assertThat(written).as("records written in " + table + ": each acknowledged create once, latest value, "
                + "deleted ones gone").isEqualTo(expected.get(table));
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                .untilAsserted(() -> assertThat(indexedSummaries(tenant, table)).as("documents of " + table).isEqualTo(database));
            compared += database.size();
        }
        assertThat(compared).isEqualTo(SEEDS * tables.size() + creates.get() - deletes.get());
        // every target of the tenant: as many documents as records
        long counted = 0;
        for (String t : List.of(tenant, TENANT)) { // the suite's tenant: copied over by both rebuilds
            for (String table : targetsOf(t)) {
                long rows = rowCount(t, table);
                await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                    assertThat(indexCount(t, table)).as("documents of target " + table).isEqualTo(rows));
                counted += rows;
            }
        }
        return String.format("rebuild with two search-services: %d target tables consumed by both, %,d writes through "
                + "both gateways (%s), %,d of them during the first rebuild; a second Rebuild on the other instance while "
                + "it ran refused (rebuild_in_progress); a Rebuild killed (kill -9) in the middle: the alias stayed on "
                + "the last complete index, the rerun was refused %d times until the dead lease expired and ran %.1f s after "
                + "the kill, the dead rebuild's index deleted; afterwards %,d records of the written targets compared with "
                + "their documents (0 missing, 0 extra, 0 stale) and %,d documents of the tenant's targets counted against "
                + "their tables", tables.size(), writes.get(), new TreeMap<>(statuses), duringFirst, refusedRetries, takeover,
            compared, counted);
    }

    /** Seed records of each target table of the rebuild scenario. */
    private static final int SEEDS = 300;

    /** The member of a consumer group that owns a key's partition (by Kafka's default partitioner). */
    private String ownerOf(String group, String topic, String key) throws Exception {
        Properties p = new Properties();
        p.putAll(stack.servers.kafka().clientProperties());
        try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(p)) {
            int partitions = admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic)
                .partitions().size();
            TopicPartition tp = new TopicPartition(topic, org.apache.kafka.common.utils.Utils.toPositive(
                org.apache.kafka.common.utils.Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % partitions);
            for (var member : admin.describeConsumerGroups(List.of(group)).all().get(30, TimeUnit.SECONDS).get(group).members()) {
                if (member.assignment().topicPartitions().contains(tp)) {
                    return member.consumerId();
                }
            }
            throw new AssertionError("nobody in " + group + " owns " + tp);
        }
    }

    private io.linkbase.proto.internal.v1.RebuildResponse rebuild(LinkbaseServices.Service search, String tenant) {
        ManagedChannel channel = ServiceCredentials.channel("127.0.0.1:" + stack.services.grpcPort(search),
            ServiceWiring.SERVICE_SECRET, "test").build();
        try {
            return SearchServiceGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.MINUTES)
                .rebuild(RebuildRequest.newBuilder().setTenantId(tenant).build());
        } finally {
            channel.shutdownNow();
        }
    }

    /**
     * A Rebuild asked again when it failed for want of a server (UNAVAILABLE: an OpenSearch call
     * timed out on the loaded CI machine), as an operator would: a failed rebuild leaves the alias
     * on the complete index it started from and releases its lease.
     */
    private io.linkbase.proto.internal.v1.RebuildResponse rebuildRetrying(LinkbaseServices.Service search, String tenant) {
        for (int attempt = 1; ; attempt++) {
            try {
                return rebuild(search, tenant);
            } catch (io.grpc.StatusRuntimeException e) {
                if (e.getStatus().getCode() != io.grpc.Status.Code.UNAVAILABLE || attempt == 3) {
                    throw e;
                }
                report("E rebuild", "attempt " + attempt + " failed, asked again: " + e.getStatus());
            }
        }
    }

    private void assertThatRebuildIsRefused(LinkbaseServices.Service search, String tenant) {
        try {
            rebuild(search, tenant);
            throw new AssertionError("a second Rebuild ran while the first one did");
        } catch (io.grpc.StatusRuntimeException e) {
            assertThat(e.getStatus().getCode()).as(e.toString()).isEqualTo(io.grpc.Status.Code.FAILED_PRECONDITION);
            assertThat(io.linkbase.kit.grpc.ApiException.infoOf(e).getCode()).isEqualTo("rebuild_in_progress");
        }
    }

    /** search-service's rebuild lease: {owner, new index}, both null when no rebuild runs. */
    private String[] rebuildRow() throws SQLException {
        try (Connection c = stack.db(LinkbaseServices.SEARCH);
             PreparedStatement s = c.prepareStatement("SELECT owner, new_index FROM index_rebuild");
             ResultSet rs = s.executeQuery()) {
            return rs.next() ? new String[] {rs.getString(1), rs.getString(2)} : new String[2];
        }
    }

    private List<String> targetsOf(String tenant) throws SQLException {
        try (Connection c = stack.db(LinkbaseServices.SEARCH);
             PreparedStatement s = c.prepareStatement("SELECT table_id FROM targets WHERE tenant_id = ? AND state = 'INDEXED'")) {
            s.setString(1, tenant);
            List<String> tables = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    tables.add(rs.getString(1));
                }
            }
            return tables;
        }
    }

    private long rowCount(String tenant, String table) throws SQLException {
        try (Connection c = stack.db(LinkbaseServices.RECORD);
             PreparedStatement s = c.prepareStatement("SELECT count(*) FROM tenant_" + tenant + ".t_" + table.replace("-", ""));
             ResultSet rs = s.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** The index the alias points at. */
    private String aliased() throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(stack.servers.openSearch().httpUrl()
            + "/_alias/linkbase-records")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return Api.JSON.readTree(r.body()).fieldNames().next();
    }

    private boolean indexExists(String index) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(stack.servers.openSearch().httpUrl() + "/" + index))
            .timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        return r.statusCode() == 200;
    }

    private long indexDocuments(String index) throws IOException, InterruptedException {
        post("/" + index + "/_refresh", "");
        return Api.JSON.readTree(post("/" + index + "/_count", "{\"query\":{\"match_all\":{}}}"))
            .get("count").asLong();
    }

    /** Every document of a table behind the alias: record id → summary. */
    private Map<Long, String> indexedSummaries(String tenant, String table) throws IOException, InterruptedException {
        post("/linkbase-records/_refresh", "");
        Map<Long, String> docs = new HashMap<>();
        JsonNode after = null;
        while (true) {
            ObjectNode q = Api.JSON.createObjectNode();
            q.put("size", 5000);
            ArrayNode filter = q.putObject("query").putObject("bool").putArray("filter");
            filter.addObject().putObject("term").put("tenant", tenant);
            filter.addObject().putObject("term").put("table", table);
            q.putArray("sort").add("record");
            if (after != null) {
                q.set("search_after", after);
            }
            JsonNode hits = Api.JSON.readTree(post("/linkbase-records/_search", q.toString())).path("hits").path("hits");
            if (hits.isEmpty()) {
                return docs;
            }
            for (JsonNode h : hits) {
                docs.put(h.path("_source").path("record").asLong(), h.path("_source").path("summary").asText());
                after = h.get("sort");
            }
        }
    }

    private int members(String group) {
        Properties p = new Properties();
        p.putAll(stack.servers.kafka().clientProperties());
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
        /** The first answers that were neither a success nor a 503, with when they came: what a failure shows. */
        final List<String> odd = new java.util.concurrent.CopyOnWriteArrayList<>();
        final long startedAt = System.nanoTime();
        /** When each step of the outage happened, in seconds of the run (for reading {@link #odd}). */
        final List<String> steps = new java.util.concurrent.CopyOnWriteArrayList<>();
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

        void step(String what) {
            steps.add(String.format("%s at %.1f s", what, (System.nanoTime() - startedAt) / 1e9));
        }

        void noteOdd(String what, Result r, int success) {
            if (r.status != success && r.status != 503 && odd.size() < 5) {
                odd.add(String.format("%s %d at %.1f s of the run: %s", what, r.status,
                    (System.nanoTime() - startedAt) / 1e9, r.body));
            }
        }

        String summary() {
            return String.format("down %.1f s; writes %s, %,d acknowledged; searches %s; hangs %d; back to healthy %.1f s "
                    + "after the server returned; every acknowledged write read back with its value and in the index, "
                    + "%d of them asked of autocomplete and found, %.1f s after it returned; missing %d", downSeconds,
                new TreeMap<>(statuses), acknowledged.size(), new TreeMap<>(searchStatuses), hangs.get() + searchHangs.get(),
                recoverySeconds, autocompleteChecked, caughtUpSeconds, missingAfterRecovery)
                + (odd.isEmpty() ? "" : "; other answers: " + odd + "; steps: " + steps
                    + "; internal errors in the services' logs: " + FaultStack.internalErrors());
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
                    o.noteOdd("write", r, 201);
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
                    o.noteOdd("search", r, 200);
                    pause(r.status == 200 ? 20 : 100);
                }
            }));
        }
        try {
            Thread.sleep(2_000);
            long down = System.nanoTime();
            stack.servers.stop(server);
            o.step(name + " stopped");
            try {
                if (alsoKillSearchService) {
                    stack.services.kill(LinkbaseServices.SEARCH);
                    o.step("search-service killed");
                    stack.services.restartWithoutWaitingForHealth(LinkbaseServices.SEARCH);
                    o.step("search-service restarting");
                }
                Thread.sleep(OUTAGE_SECONDS * 1000L);
            } finally {
                stack.servers.start(server);
                o.step(name + " started");
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
        return awaitActive(owner, table, column, atMost);
    }

    private JsonNode awaitActive(Api api, String table, String column, Duration atMost) {
        JsonNode[] link = new JsonNode[1];
        await().atMost(atMost).pollInterval(Duration.ofMillis(500)).until(() -> {
            Api.Response r = api.get(linkPath(table, column));
            link[0] = r.body();
            return r.status() == 200 && "ACTIVE".equals(r.body().path("state").asText());
        });
        return link[0];
    }

    /** Imports through the public batch API, 10,000 records a request; the ids in order. */
    private List<Long> importRows(String table, int rows, IntFunction<String> values) {
        return importRows(owner, table, rows, values);
    }

    private List<Long> importRows(Api api, String table, int rows, IntFunction<String> values) {
        List<Long> ids = new ArrayList<>(rows);
        for (int from = 0; from < rows; from += 10_000) {
            StringBuilder body = new StringBuilder("{\"records\":[");
            for (int i = from; i < Math.min(rows, from + 10_000); i++) {
                body.append(i == from ? "" : ",").append("{\"values\":").append(values.apply(i)).append('}');
            }
            body.append("]}");
            Api.Response r = api.post("/api/v1/tables/" + table + "/records/batch", body.toString());
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
        return readTexts(owner, table, column);
    }

    private Map<Long, String> readTexts(Api api, String table, String column) {
        Map<Long, String> values = new HashMap<>();
        String after = null;
        do {
            Api.Response r = api.get("/api/v1/tables/" + table + "/records?limit=1000" + (after == null ? "" : "&after=" + after));
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

    /** The reconciliation of the link has committed some cleared values and not yet its last step. */
    private boolean reconcileUnderWay(String table, String column) throws SQLException {
        try (Connection c = stack.db(LinkbaseServices.RECORD);
             PreparedStatement s = c.prepareStatement("SELECT count(*) FROM physical_links l JOIN link_undo_values v "
                 + "USING (tenant_id, table_id, column_id) WHERE l.tenant_id = ? AND l.table_id = ? AND l.column_id = ? "
                 + "AND l.phase <> 'ACTIVE'")) {
            s.setString(1, TENANT);
            s.setString(2, table);
            s.setString(3, column);
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1) > 0;
            }
        }
    }

    /** The link's phase in record-service's catalog (null when it has no row). */
    private String linkPhase(String table, String column) throws SQLException {
        try (Connection c = stack.db(LinkbaseServices.RECORD);
             PreparedStatement s = c.prepareStatement(
                 "SELECT phase FROM physical_links WHERE tenant_id = ? AND table_id = ? AND column_id = ?")) {
            s.setString(1, TENANT);
            s.setString(2, table);
            s.setString(3, column);
            try (ResultSet rs = s.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
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
        p.putAll(stack.servers.kafka().clientProperties());
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
        return indexCount(TENANT, table);
    }

    private long indexCount(String tenant, String table) throws IOException, InterruptedException {
        String query = "{\"query\":{\"bool\":{\"filter\":[{\"term\":{\"tenant\":\"" + tenant + "\"}},{\"term\":{\"table\":\""
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
