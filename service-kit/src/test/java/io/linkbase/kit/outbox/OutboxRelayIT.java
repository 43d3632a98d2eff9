package io.linkbase.kit.outbox;

import io.linkbase.devstack.TestServers;
import io.linkbase.kit.db.Db;
import io.linkbase.kit.events.Envelopes;
import io.linkbase.kit.events.Topics;
import io.linkbase.kit.kafka.KafkaSettings;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.micrometer.core.instrument.MeterRegistry;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import io.micronaut.test.support.TestPropertyProvider;
import jakarta.inject.Inject;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.TopicExistsException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static io.linkbase.kit.outbox.OutboxFixtures.await;
import static io.linkbase.kit.outbox.OutboxFixtures.count;
import static io.linkbase.kit.outbox.OutboxFixtures.envelope;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The outbox relay on real PostgreSQL and Kafka: poison rows are parked and the rest flows on,
 * late committers are published, bulk rows never hold up an interactive one, the figures are
 * true.
 */
@MicronautTest(transactional = false)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OutboxRelayIT implements TestPropertyProvider {
    private static final String DATABASE = "kit_outbox_relay_it";

    @Inject
    OutboxRelay relay;
    @Inject
    Db db;
    @Inject
    KafkaSettings kafkaSettings;
    @Inject
    MeterRegistry meters;

    private KafkaConsumer<String, byte[]> kafka;

    @Override
    public Map<String, String> getProperties() {
        return OutboxFixtures.kitService(TestServers.postgres(), DATABASE, TestServers.kafka(),
            Map.of("linkbase.outbox.relay.stats-interval", "200ms"));
    }

    @BeforeAll
    void connect() {
        kafkaSettings.ensureTopics();
        kafka = OutboxFixtures.consumer(TestServers.kafka(), List.of(Topics.SCHEMA, Topics.RECORDS, Topics.RECORDS_BULK));
    }

    @AfterAll
    void disconnect() {
        kafka.close();
    }

    @Test
    void aRowKafkaRefusesIsParkedAndTheRowsBeforeAndAfterItFlowOnInPerKeyOrder() throws Exception {
        String tenant = "poison-" + UUID.randomUUID();
        List<EventEnvelope> a = new ArrayList<>();
        List<EventEnvelope> b = new ArrayList<>();
        EventEnvelope tooLarge = envelope(tenant, "a", 3, 1_200_000); // 1.2 MB > message.max.bytes
        long garbageId;
        try (Connection c = OutboxFixtures.connect(TestServers.postgres(), DATABASE)) {
            c.setAutoCommit(false);
            for (int v = 1; v <= 2; v++) {
                a.add(append(c, Topics.SCHEMA, envelope(tenant, "a", v, 200)));
                b.add(append(c, Topics.SCHEMA, envelope(tenant, "b", v, 200)));
            }
            Outbox.append(c, Topics.SCHEMA, tooLarge);
            garbageId = OutboxFixtures.insertGarbage(c, Topics.SCHEMA, tenant + "/c");
            for (int v = 3; v <= 5; v++) {
                a.add(append(c, Topics.SCHEMA, envelope(tenant, "a", v + 1, 200)));
                b.add(append(c, Topics.SCHEMA, envelope(tenant, "b", v, 200)));
            }
            c.commit();
        }
        relay.wakeUp();

        List<ConsumerRecord<String, byte[]>> seen = await(kafka, tenant + "/", a.size() + b.size(), Duration.ofSeconds(30));
        assertThat(ids(seen, tenant + "/a")).containsExactlyElementsOf(a.stream().map(EventEnvelope::getEventId).toList());
        assertThat(ids(seen, tenant + "/b")).containsExactlyElementsOf(b.stream().map(EventEnvelope::getEventId).toList());
        assertThat(await(kafka, tenant + "/", 1, Duration.ofSeconds(2))).as("nothing else, the poison rows least").isEmpty();

        try (Connection c = OutboxFixtures.connect(TestServers.postgres(), DATABASE)) {
            await().atMost(Duration.ofSeconds(10)).until(() ->
                count(c, "SELECT count(*) FROM outbox WHERE kafka_key LIKE '" + tenant + "/%'") == 0);
            try (PreparedStatement s = c.prepareStatement(
                "SELECT id, event_id::text, reason, length(envelope), created_at <= parked_at FROM outbox_parked"
                    + " WHERE kafka_key LIKE ? ORDER BY id")) {
                s.setString(1, tenant + "/%");
                try (ResultSet rs = s.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString(2)).isEqualTo(tooLarge.getEventId());
                    assertThat(rs.getString(3)).contains("too large").contains("1048588");
                    assertThat(rs.getInt(4)).isEqualTo(tooLarge.getSerializedSize());
                    assertThat(rs.getBoolean(5)).isTrue();
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getLong(1)).isEqualTo(garbageId);
                    assertThat(rs.getString(3)).contains("envelope cannot be parsed");
                    assertThat(rs.next()).isFalse();
                }
            }
        }
        relay.refreshStats();
        assertThat(relay.parked()).isGreaterThanOrEqualTo(2);
        assertThat(meters.get("linkbase.outbox.parked").gauge().value()).isGreaterThanOrEqualTo(2);
    }

    /**
     * A row that passes the size check but the broker refuses (a topic whose max.message.bytes is
     * below the broker's): parked after sending, the rows around it published in order, and the
     * producer does not stay wedged.
     */
    @Test
    void aRowTheBrokerRefusesAfterSendingIsParkedAndTheProducerRecovers() throws Exception {
        String topic = "linkbase.test.small-messages.v1";
        try (Admin admin = Admin.create(kafkaSettings.common())) {
            try {
                admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1)
                    // below the relay's limit, above its batch.size (smaller would make the producer split forever)
                    .configs(Map.of("max.message.bytes", "300000")))).all().get(30, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                assertThat(e.getCause()).isInstanceOf(TopicExistsException.class);
            }
        }
        String tenant = "refused-" + UUID.randomUUID();
        List<EventEnvelope> sent = new ArrayList<>();
        EventEnvelope refused;
        try (Connection c = OutboxFixtures.connect(TestServers.postgres(), DATABASE)) {
            c.setAutoCommit(false);
            for (int v = 1; v <= 3; v++) {
                sent.add(append(c, topic, envelope(tenant, "a", v, 100)));
            }
            StringBuilder noise = new StringBuilder();
            java.util.Random random = new java.util.Random(42);
            while (noise.length() < 700_000) { // ~450 KB after LZ4, under the relay's 1 MB limit
                noise.append(Long.toString(random.nextLong(), 36));
            }
            refused = Envelopes.seal(EventEnvelope.newBuilder().setTableRenamed(
                    io.linkbase.proto.events.v1.TableRenamed.newBuilder().setName(noise.toString())),
                tenant, "a", 4, null, null, java.time.Instant.now());
            Outbox.append(c, topic, refused);
            for (int v = 5; v <= 7; v++) {
                sent.add(append(c, topic, envelope(tenant, "a", v, 100)));
            }
            c.commit();
        }
        relay.wakeUp();
        try (KafkaConsumer<String, byte[]> consumer = OutboxFixtures.consumer(TestServers.kafka(), List.of(topic))) {
            List<ConsumerRecord<String, byte[]>> seen = await(consumer, tenant + "/", sent.size(), Duration.ofSeconds(60));
            assertThat(ids(seen, tenant + "/a")).containsExactlyElementsOf(sent.stream().map(EventEnvelope::getEventId).toList());
        }
        try (Connection c = OutboxFixtures.connect(TestServers.postgres(), DATABASE)) {
            await().atMost(Duration.ofSeconds(10)).until(() ->
                count(c, "SELECT count(*) FROM outbox_parked WHERE event_id = '" + refused.getEventId() + "'") == 1);
            try (PreparedStatement s = c.prepareStatement("SELECT reason FROM outbox_parked WHERE event_id = ?")) {
                s.setObject(1, UUID.fromString(refused.getEventId()));
                try (ResultSet rs = s.executeQuery()) {
                    rs.next();
                    assertThat(rs.getString(1)).contains("refused by Kafka").contains("RecordTooLarge");
                }
            }
        }
        // the producer works on: a later row goes out
        String after = "after-refused-" + UUID.randomUUID();
        EventEnvelope later = envelope(after, "b", 1, 100);
        db.inTransaction(c -> {
            Outbox.append(c, Topics.SCHEMA, later);
            return null;
        });
        relay.wakeUp();
        assertThat(await(kafka, after + "/", 1, Duration.ofSeconds(20))).hasSize(1);
    }

    @Test
    void aLateCommitterIsPublishedAfterLaterRowsWere() throws Exception {
        String tenant = "late-" + UUID.randomUUID();
        try (Connection late = OutboxFixtures.connect(TestServers.postgres(), DATABASE)) {
            late.setAutoCommit(false);
            EventEnvelope first = envelope(tenant, "x", 1, 100);
            Outbox.append(late, Topics.SCHEMA, first); // takes the lower id, commits last
            long lateId = idOf(late, first);

            List<EventEnvelope> later = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                EventEnvelope e = envelope(tenant, "y" + i, 1, 100);
                db.inTransaction(c -> {
                    Outbox.append(c, Topics.SCHEMA, e);
                    return null;
                });
                later.add(e);
            }
            relay.wakeUp();
            List<ConsumerRecord<String, byte[]>> seen = await(kafka, tenant + "/", 3, Duration.ofSeconds(20));
            assertThat(seen).extracting(r -> Envelopes.parse(r.value()).getEventId()) // three keys: any order
                .containsExactlyInAnyOrderElementsOf(later.stream().map(EventEnvelope::getEventId).toList());
            await().atMost(Duration.ofSeconds(5)).until(() -> relay.cursors().get(Lane.INTERACTIVE).cursor > lateId);
            assertThat(relay.cursors().get(Lane.INTERACTIVE).watched).as("the late committer's xid is watched").isNotEmpty();

            late.commit();
            relay.wakeUp();
            List<ConsumerRecord<String, byte[]>> after = await(kafka, tenant + "/", 1, Duration.ofSeconds(20));
            assertThat(after).extracting(r -> Envelopes.parse(r.value()).getEventId()).containsExactly(first.getEventId());
        }
    }

    /**
     * The case a snapshot's in-progress list alone misses: the late committer took its xid after
     * the earlier committer took its own, so it may sit at or above the relay snapshot's xmax
     * (latest completed xid + 1) and not be listed as in progress at all.
     */
    @Test
    void aLateCommitterWhoseXidIsAboveTheSnapshotsXmaxIsPublished() throws Exception {
        String tenant = "late-xmax-" + UUID.randomUUID();
        try (Connection early = OutboxFixtures.connect(TestServers.postgres(), DATABASE);
             Connection late = OutboxFixtures.connect(TestServers.postgres(), DATABASE)) {
            early.setAutoCommit(false);
            late.setAutoCommit(false);
            xid(early);
            xid(late); // the late committer's xid is the higher one
            EventEnvelope lateEvent = envelope(tenant, "late", 1, 100);
            Outbox.append(late, Topics.SCHEMA, lateEvent);
            EventEnvelope earlyEvent = envelope(tenant, "early", 1, 100);
            Outbox.append(early, Topics.SCHEMA, earlyEvent);
            assertThat(idOf(late, lateEvent)).isLessThan(idOf(early, earlyEvent));
            early.commit();
            relay.wakeUp();
            assertThat(await(kafka, tenant + "/", 1, Duration.ofSeconds(20)))
                .extracting(r -> Envelopes.parse(r.value()).getEventId()).containsExactly(earlyEvent.getEventId());
            late.commit();
            relay.wakeUp();
            assertThat(await(kafka, tenant + "/", 1, Duration.ofSeconds(20)))
                .extracting(r -> Envelopes.parse(r.value()).getEventId()).containsExactly(lateEvent.getEventId());
        }
    }

    @Test
    void bulkRowsDoNotHoldUpAnInteractiveOne() throws Exception {
        String tenant = "lanes-" + UUID.randomUUID();
        int bulkRows = 50_000;
        try (Connection c = OutboxFixtures.connect(TestServers.postgres(), DATABASE)) {
            c.setAutoCommit(false);
            try (PreparedStatement insert = c.prepareStatement(
                "INSERT INTO outbox (topic, kafka_key, event_id, event_type, envelope) VALUES (?, ?, ?, ?, ?)")) {
                for (int i = 0; i < bulkRows; i++) {
                    EventEnvelope e = envelope(tenant, "bulk" + (i % 100), i / 100 + 1, 250);
                    insert.setString(1, Topics.RECORDS_BULK);
                    insert.setString(2, Envelopes.kafkaKey(e));
                    insert.setObject(3, UUID.fromString(e.getEventId()));
                    insert.setString(4, e.getEventType());
                    insert.setBytes(5, e.toByteArray());
                    insert.addBatch();
                    if (i % 5_000 == 4_999) {
                        insert.executeBatch();
                    }
                }
                insert.executeBatch();
            }
            c.commit();
            relay.wakeUp();
            // let the bulk lane get going, then write one interactive row
            await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(10)).until(() ->
                count(c, "SELECT count(*) FROM outbox WHERE lane = 1 AND kafka_key LIKE '" + tenant + "/%'") < bulkRows);
            c.commit();
            EventEnvelope interactive = envelope(tenant, "interactive", 1, 250);
            Outbox.append(c, Topics.RECORDS, interactive);
            long id = idOf(c, interactive);
            c.commit();
            long t0 = System.nanoTime();
            relay.wakeUp();
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(5)).until(() -> {
                boolean gone = count(c, "SELECT count(*) FROM outbox WHERE id = " + id) == 0;
                c.commit();
                return gone;
            });
            long ackedMs = (System.nanoTime() - t0) / 1_000_000;
            long bulkLeft = count(c, "SELECT count(*) FROM outbox WHERE lane = 1 AND kafka_key LIKE '" + tenant + "/%'");
            c.commit();
            System.out.printf("[outbox-relay] interactive row acknowledged by Kafka %d ms after its commit,"
                + " with %d of %d bulk rows still waiting%n", ackedMs, bulkLeft, bulkRows);
            assertThat(bulkLeft).as("bulk still draining when the interactive row was out").isPositive();
            assertThat(ackedMs).isLessThan(1_000);
            relay.refreshStats();
            assertThat(relay.backlog(Lane.BULK)).isPositive();
            await().atMost(Duration.ofSeconds(60)).until(() -> {
                boolean drained = count(c, "SELECT count(*) FROM outbox WHERE kafka_key LIKE '" + tenant + "/%'") == 0;
                c.commit();
                return drained;
            });
        }
        List<ConsumerRecord<String, byte[]>> seen = await(kafka, tenant + "/", bulkRows + 1, Duration.ofSeconds(60));
        assertThat(seen).hasSize(bulkRows + 1);
        // per key, the bulk lane keeps order
        Map<String, Long> lastVersion = new java.util.HashMap<>();
        for (ConsumerRecord<String, byte[]> r : seen) {
            long v = Envelopes.parse(r.value()).getAggregateVersion();
            Long before = lastVersion.put(r.key(), v);
            assertThat(before == null || before < v).as("order of %s", r.key()).isTrue();
        }
        relay.refreshStats();
        assertThat(relay.backlog(Lane.BULK)).isZero();
        assertThat(meters.get("linkbase.outbox.backlog").tag("lane", "bulk").gauge().value()).isZero();
    }

    /**
     * A bulk write goes to the outbox as packs (kit V0_5): far fewer rows than events, an event
     * too large to pack in a row of its own, a new pack where the event type changes. The relay
     * publishes every event once, in order, and a pack it cannot read is parked whole while the
     * rows after it flow on; the backlog counts events, not rows.
     */
    @Test
    void aBulkWriteIsPackedAndEveryEventOfItsPacksIsPublishedInOrder() throws Exception {
        String tenant = "packs-" + UUID.randomUUID();
        List<EventEnvelope> events = new ArrayList<>();
        OutboxRows rows = new OutboxRows(Topics.RECORDS_BULK, tenant + "/t");
        for (int v = 1; v <= 1_234; v++) {
            int size = v == 700 ? 40_000 : 100 + v % 300; // event 700 is too large to be packed
            EventEnvelope e = v == 1_000
                ? Envelopes.seal(EventEnvelope.newBuilder().setTableDeleted(io.linkbase.proto.events.v1.TableDeleted.newBuilder()),
                    tenant, "t", v, null, null, java.time.Instant.now())
                : envelope(tenant, "t", v, size);
            events.add(e);
            rows.add(UUID.fromString(e.getEventId()), e.getEventType(), e.toByteArray());
        }
        long garbageId;
        EventEnvelope after = envelope(tenant, "t", 1_235, 100);
        try (Connection c = OutboxFixtures.connect(TestServers.postgres(), DATABASE)) {
            c.setAutoCommit(false);
            OutboxRows.copy(c, rows.finish());
            String mine = " FROM outbox WHERE kafka_key = '" + tenant + "/t'";
            // 1..500 | 501..699 | 700 alone | 701..999 | 1000 (another type, alone) | 1001..1234
            assertThat(count(c, "SELECT count(*)" + mine)).isEqualTo(6);
            assertThat(count(c, "SELECT sum(events)" + mine)).isEqualTo(1_234);
            assertThat(count(c, "SELECT count(*)" + mine + " AND events = 1")).isEqualTo(2);
            try (PreparedStatement s = c.prepareStatement(
                "INSERT INTO outbox (topic, kafka_key, event_id, event_type, envelope, events) VALUES (?, ?, ?, 'Garbage', ?, 3) RETURNING id")) {
                s.setString(1, Topics.RECORDS_BULK);
                s.setString(2, tenant + "/t");
                s.setObject(3, UUID.randomUUID());
                s.setBytes(4, new byte[] {0, 0, 0, 1, 7, 0, 0, 0, 9}); // a pack of 3 whose second event is cut short
                try (ResultSet rs = s.executeQuery()) {
                    rs.next();
                    garbageId = rs.getLong(1);
                }
            }
            OutboxRows one = new OutboxRows(Topics.RECORDS_BULK, tenant + "/t");
            one.add(UUID.fromString(after.getEventId()), after.getEventType(), after.toByteArray());
            OutboxRows.copy(c, one.finish());
            c.commit();
        }
        relay.wakeUp();
        events.add(after);

        List<ConsumerRecord<String, byte[]>> seen = await(kafka, tenant + "/", events.size(), Duration.ofSeconds(60));
        assertThat(ids(seen, tenant + "/t")).containsExactlyElementsOf(events.stream().map(EventEnvelope::getEventId).toList());
        assertThat(seen).allSatisfy(r -> assertThat(r.topic()).isEqualTo(Topics.RECORDS_BULK));
        assertThat(seen.get(999).headers().lastHeader(Envelopes.H_EVENT_TYPE).value()).asString().isEqualTo("TableDeleted");
        assertThat(await(kafka, tenant + "/", 1, Duration.ofSeconds(2))).as("nothing else").isEmpty();
        try (Connection c = OutboxFixtures.connect(TestServers.postgres(), DATABASE)) {
            await().atMost(Duration.ofSeconds(10)).until(() ->
                count(c, "SELECT count(*) FROM outbox WHERE kafka_key = '" + tenant + "/t'") == 0);
            try (PreparedStatement s = c.prepareStatement("SELECT id, events, reason FROM outbox_parked WHERE kafka_key = ?")) {
                s.setString(1, tenant + "/t");
                try (ResultSet rs = s.executeQuery()) {
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getLong(1)).isEqualTo(garbageId);
                    assertThat(rs.getInt(2)).isEqualTo(3);
                    assertThat(rs.getString(3)).contains("cannot be parsed").contains("event 1 of a pack claims 9 bytes");
                    assertThat(rs.next()).isFalse();
                }
            }
        }
    }

    /**
     * Two instances on one database, both running: the advisory lock lets one publish per batch,
     * so the publisher changes all the time and each comes back with a stale cursor and watch
     * set. Nothing is lost, duplicated or reordered, a late committer included.
     */
    @Test
    void instancesTakingTurnsWithStaleCursorsLoseAndReorderNothing() throws Exception {
        OutboxRelay other = new OutboxRelay(db, kafkaSettings, Duration.ofMillis(5), 50, 50, 1_048_588,
            Duration.ofSeconds(60), Duration.ofSeconds(2), new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
        String tenant = "takeover-" + UUID.randomUUID();
        int keys = 20;
        long mineBefore = relay.publishedCount();
        other.start();
        try (Connection late = OutboxFixtures.connect(TestServers.postgres(), DATABASE)) {
            late.setAutoCommit(false);
            EventEnvelope lateEvent = envelope(tenant, "late", 1, 100);
            Outbox.append(late, Topics.SCHEMA, lateEvent);
            // At least 20 transactions of 100 rows, and more until each instance has published
            // some: on a loaded machine one may win the lock for seconds (CI saw 0 and 2,001 once).
            int transactions = 0;
            while (transactions < 20
                || (other.publishedCount() == 0 || relay.publishedCount() == mineBefore) && transactions < 300) {
                int first = transactions++ * 100;
                db.inTransaction(c -> {
                    for (int i = first; i < first + 100; i++) {
                        Outbox.append(c, Topics.SCHEMA, envelope(tenant, "k" + (i % keys), i / keys + 1, 100));
                    }
                    return null;
                });
                relay.wakeUp();
                other.wakeUp();
                Thread.sleep(20);
            }
            late.commit();
            int perKey = transactions * 100 / keys;
            List<ConsumerRecord<String, byte[]>> seen = await(kafka, tenant + "/", keys * perKey + 1, Duration.ofSeconds(60));
            assertThat(seen).hasSize(keys * perKey + 1);
            Map<String, List<Long>> versions = new java.util.TreeMap<>();
            for (ConsumerRecord<String, byte[]> r : seen) {
                versions.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(Envelopes.parse(r.value()).getAggregateVersion());
            }
            List<Long> expected = java.util.stream.LongStream.rangeClosed(1, perKey).boxed().toList();
            for (int k = 0; k < keys; k++) {
                assertThat(versions.get(tenant + "/k" + k)).as("key k%d", k).containsExactlyElementsOf(expected);
            }
            assertThat(versions.get(tenant + "/late")).containsExactly(1L);
            assertThat(await(kafka, tenant + "/", 1, Duration.ofSeconds(2))).as("no duplicates").isEmpty();
            System.out.printf("[outbox-relay] takeover: this instance published %d, the other %d%n",
                relay.publishedCount() - mineBefore, other.publishedCount());
            assertThat(other.publishedCount()).isPositive();
            assertThat(relay.publishedCount() - mineBefore).isPositive();
        } finally {
            other.stop();
        }
    }

    @Test
    void theBacklogAndTheOldestAgeAreTrue() throws Exception {
        relay.stop();
        assertThat(relay.health().up()).isFalse();
        assertThat(relay.health().reason()).contains("not running");
        try (Connection c = OutboxFixtures.connect(TestServers.postgres(), DATABASE)) {
            String tenant = "stats-" + UUID.randomUUID();
            for (int i = 0; i < 3; i++) {
                Outbox.append(c, Topics.SCHEMA, envelope(tenant, "s", i + 1, 50));
            }
            Outbox.append(c, Topics.RECORDS_BULK, envelope(tenant, "t", 1, 50));
            Thread.sleep(1_100);
            relay.refreshStats();
            assertThat(relay.backlog(Lane.INTERACTIVE)).isEqualTo(3);
            assertThat(relay.backlog(Lane.BULK)).isEqualTo(1);
            assertThat(meters.get("linkbase.outbox.oldest.age").tag("lane", "interactive").gauge().value())
                .isGreaterThanOrEqualTo(1.0);
        } finally {
            relay.start();
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            relay.refreshStats();
            assertThat(relay.backlog()).isZero();
        });
        assertThat(meters.get("linkbase.outbox.oldest.age").tag("lane", "interactive").gauge().value()).isZero();
        assertThat(relay.health().up()).isTrue();
    }

    private static EventEnvelope append(Connection c, String topic, EventEnvelope e) throws Exception {
        Outbox.append(c, topic, e);
        return e;
    }

    private static long idOf(Connection c, EventEnvelope e) throws Exception {
        try (PreparedStatement s = c.prepareStatement("SELECT id FROM outbox WHERE event_id = ?")) {
            s.setObject(1, UUID.fromString(e.getEventId()));
            try (ResultSet rs = s.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static void xid(Connection c) throws Exception {
        try (PreparedStatement s = c.prepareStatement("SELECT pg_current_xact_id()"); ResultSet rs = s.executeQuery()) {
            rs.next();
        }
    }

    private static List<String> ids(List<ConsumerRecord<String, byte[]>> records, String key) {
        return records.stream().filter(r -> r.key().equals(key)).map(r -> Envelopes.parse(r.value()).getEventId()).toList();
    }
}
