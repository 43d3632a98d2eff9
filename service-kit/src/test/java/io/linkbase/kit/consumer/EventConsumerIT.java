package io.linkbase.kit.consumer;

import io.linkbase.devstack.KafkaServer;
import io.linkbase.devstack.PostgresServer;
import io.linkbase.devstack.Servers;
import io.linkbase.devstack.ServiceWiring;
import io.linkbase.devstack.TestServers;
import io.linkbase.kit.db.Db;
import io.linkbase.kit.events.Envelopes;
import io.linkbase.kit.events.Topics;
import io.linkbase.kit.kafka.KafkaSettings;
import io.linkbase.kit.parking.ConsumersHealthIndicator;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.events.v1.TableRenamed;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micronaut.context.ApplicationContext;
import io.micronaut.health.HealthStatus;
import io.micronaut.management.health.indicator.HealthResult;
import io.micronaut.runtime.server.EmbeddedServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.reactivestreams.Subscriber;
import org.reactivestreams.Subscription;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The kit's consumer on real PostgreSQL and Kafka: a deterministic failure is parked after
 * bounded attempts without holding up the partition, a transient one is retried and never
 * parked, an operator lists and replays the parked event over HTTP, and a consumer started
 * while Kafka is down keeps trying (health DOWN) and consumes once the broker is up.
 * Events are TableRenamed whose name tells the test handler what to do.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EventConsumerIT {
    private ApplicationContext context;
    private Db db;
    private KafkaSettings kafka;
    private KafkaProducer<String, byte[]> producer;
    private final AtomicBoolean healed = new AtomicBoolean();
    private final Map<String, AtomicInteger> transientFailures = new ConcurrentHashMap<>();

    @BeforeAll
    void start() {
        Map<String, Object> props = new HashMap<>(ServiceWiring.service()
            .database(TestServers.postgres(), "kit_consumer_it")
            .kafka(TestServers.kafka())
            .httpPort(ServiceWiring.freePort())
            .grpcPort(ServiceWiring.freePort())
            .properties());
        props.put("flyway.datasources.default.enabled", "true");
        props.put("flyway.datasources.default.locations", "classpath:db/kit");
        props.put("linkbase.consumers.max-attempts", "4");
        props.put("linkbase.consumers.max-backoff", "1s");
        props.put("linkbase.consumers.park-after", "1s");
        props.put("endpoints.parked.replay-sensitive", "false");
        props.put("linkbase.outbox.relay.enabled", "false"); // a requeued outbox row stays where we can see it
        context = ApplicationContext.run(EmbeddedServer.class, props).getApplicationContext();
        db = context.getBean(Db.class);
        kafka = context.getBean(KafkaSettings.class);
        db.inTransaction(c -> {
            c.createStatement().execute("CREATE TABLE IF NOT EXISTS kit_it_effects "
                + "(consumer TEXT, aggregate TEXT, version BIGINT, name TEXT)");
            return null;
        });
        Properties p = new Properties();
        p.putAll(TestServers.kafka().clientProperties());
        producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    }

    @AfterAll
    void stop() {
        producer.close();
        context.close();
    }

    /** The test handler: "fail" divides by zero in PostgreSQL (until healed), "flaky-N" loses its connection N times. */
    private boolean apply(String consumer, Connection c, EventEnvelope e) throws SQLException {
        String name = e.getTableRenamed().getName();
        if (name.equals("fail") && !healed.get()) {
            c.createStatement().execute("SELECT 1 / 0");
        }
        if (name.startsWith("needs:")) { // waits (NotYetException) until that aggregate's event was applied
            try (PreparedStatement s = c.prepareStatement(
                "SELECT count(*) FROM kit_it_effects WHERE consumer = ? AND aggregate = ?")) {
                s.setString(1, consumer);
                s.setString(2, name.substring(6));
                try (java.sql.ResultSet rs = s.executeQuery()) {
                    rs.next();
                    if (rs.getLong(1) == 0) {
                        throw new NotYetException("waiting for " + name.substring(6));
                    }
                }
            }
        }
        if (name.startsWith("flaky-")) {
            int times = Integer.parseInt(name.substring(6));
            if (transientFailures.computeIfAbsent(e.getEventId(), k -> new AtomicInteger()).incrementAndGet() <= times) {
                throw new SQLException("An I/O error occurred while sending to the backend.", "08006");
            }
        }
        try (PreparedStatement s = c.prepareStatement("INSERT INTO kit_it_effects VALUES (?, ?, ?, ?)")) {
            s.setString(1, consumer);
            s.setString(2, e.getAggregateId());
            s.setLong(3, e.getAggregateVersion());
            s.setString(4, name);
            s.executeUpdate();
        }
        return true;
    }

    private EventConsumer consumer(String name, String topic, KafkaSettings settings) {
        return EventConsumer.builder(name, settings, db).topics(topic)
            .ordered((c, e) -> apply(name, c, e)).build();
    }

    @Test
    void aDeterministicFailureIsParkedAndThePartitionGoesOnThenAnOperatorReplaysIt() throws Exception {
        String topic = newTopic(TestServers.kafka());
        String name = "kit-it-" + UUID.randomUUID();
        String tenant = "t-" + UUID.randomUUID().toString().substring(0, 8);
        EventEnvelope poison = renamed(tenant, "a", 1, "fail");
        // one partition: B's event and A's successor are queued behind the poison event
        publish(topic, poison, renamed(tenant, "b", 1, "ok"), renamed(tenant, "a", 2, "ok-after"));
        try (EventConsumer consumer = consumer(name, topic, kafka)) {
            long t0 = System.nanoTime();
            consumer.start();
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                assertThat(effects(name)).containsExactlyInAnyOrder("b/1/ok", "a/2/ok-after"));
            System.out.printf("[kit-it] poison event parked and the partition moved on in %d ms%n",
                (System.nanoTime() - t0) / 1_000_000);
            long applied = db.read(c -> AppliedVersions.current(c, name, tenant, "a"));
            assertThat(applied).isEqualTo(2);
            Map<String, Object> parked = parkedRow(name, poison.getEventId());
            assertThat((String) parked.get("reason")).containsPattern("failed [45] times").contains("division by zero")
                .contains("SQLState 22012");
            await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                assertThat(consumer.status().parked()).isEqualTo(1));
            assertThat(kafka.meters().get("linkbase.consumer.parked").tag("consumer", name).gauge().value())
                .isEqualTo(1.0);

            // The operator's view and replay, over the management port.
            String base = "http://127.0.0.1:" + context.getBean(EmbeddedServer.class).getPort();
            HttpClient http = HttpClient.newHttpClient();
            String list = http.send(HttpRequest.newBuilder(URI.create(base + "/parked")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
            assertThat(list).contains(poison.getEventId()).contains(name).contains(tenant).contains("division by zero");
            healed.set(true);
            HttpResponse<String> replay = http.send(HttpRequest.newBuilder(URI.create(base + "/parked"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"kind\":\"consumer\",\"consumer\":\"" + name
                    + "\",\"id\":\"" + poison.getEventId() + "\"}")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(replay.statusCode()).as(replay.body()).isEqualTo(200);
            assertThat(replay.body()).contains("\"replayed\":true");
            assertThat(effects(name)).contains("a/1/fail");
            assertThat(parkedRow(name, poison.getEventId())).isEmpty();
            assertThat(consumer.status().parked()).isZero();
        }
    }

    @Test
    void anEventWaitingForAnotherPartitionIsNotParkedBeforeParkAfterAndTheOtherPartitionFlows() throws Exception {
        KafkaServer kafka = TestServers.kafka();
        String topic = "kit-it-" + UUID.randomUUID();
        Properties ap = kafka.clientProperties();
        try (Admin admin = Admin.create(ap)) {
            admin.createTopics(List.of(new NewTopic(topic, 2, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
        String tenant = "t-" + UUID.randomUUID().toString().substring(0, 8);
        String a = "a";
        String other = "b";
        while (partitionOf(tenant + "/" + other, 2) == partitionOf(tenant + "/" + a, 2)) {
            other = "b" + UUID.randomUUID();
        }
        String b = other;
        // max-attempts 4, park-after 1 s, wait-limit 10 min: like record-service's ColumnLinked whose
        // target table is created by an event on another partition
        KafkaSettings patient = new KafkaSettings(kafka.bootstrapServers(), kafka.clientSecurity(), 2, (short) 1, 4, Duration.ofSeconds(1),
            Duration.ofSeconds(1), Duration.ofMinutes(10), new SimpleMeterRegistry());
        String name = "kit-it-wait-" + UUID.randomUUID();
        try (EventConsumer consumer = consumer(name, topic, patient)) {
            consumer.start();
            publish(topic, renamed(tenant, a, 1, "needs:" + b));
            Thread.sleep(4_000); // more attempts than max-attempts, longer than park-after: a wait is not poison
            assertThat(effects(name)).isEmpty();
            assertThat(consumer.status().lastError()).contains("waiting for " + b);
            publish(topic, renamed(tenant, b, 1, "ok"));
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(effects(name)).containsExactlyInAnyOrder(a + "/1/needs:" + b, b + "/1/ok"));
            long parked = db.read(c -> io.linkbase.kit.parking.ParkedEvents.count(c, name));
            assertThat(parked).isZero();
        }
    }

    @Test
    void aWaitThatNeverEndsIsParkedAfterTheWaitLimitAndThePartitionGoesOn() throws Exception {
        KafkaServer kafka = TestServers.kafka();
        String topic = newTopic(kafka);
        String tenant = "t-" + UUID.randomUUID().toString().substring(0, 8);
        KafkaSettings impatient = new KafkaSettings(kafka.bootstrapServers(), kafka.clientSecurity(), 1, (short) 1, 2, Duration.ofSeconds(1),
            Duration.ofSeconds(1), Duration.ofSeconds(3), new SimpleMeterRegistry());
        String name = "kit-it-wait-limit-" + UUID.randomUUID();
        try (EventConsumer consumer = consumer(name, topic, impatient)) {
            consumer.start();
            long start = System.nanoTime();
            publish(topic, renamed(tenant, "a", 1, "needs:never"), renamed(tenant, "b", 1, "after"));
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(effects(name)).containsExactly("b/1/after"));
            assertThat((System.nanoTime() - start) / 1_000_000).as("parked only after the wait limit").isGreaterThanOrEqualTo(3_000);
            long parked = db.read(c -> io.linkbase.kit.parking.ParkedEvents.count(c, name));
            assertThat(parked).isEqualTo(1);
        }
    }

    private static int partitionOf(String key, int partitions) {
        return org.apache.kafka.common.utils.Utils.toPositive(org.apache.kafka.common.utils.Utils.murmur2(
            key.getBytes(java.nio.charset.StandardCharsets.UTF_8))) % partitions;
    }

    @Test
    void aTransientFailureIsRetriedPastTheAttemptLimitAndNeverParked() throws Exception {
        String topic = newTopic(TestServers.kafka());
        String name = "kit-it-" + UUID.randomUUID();
        String tenant = "t-" + UUID.randomUUID().toString().substring(0, 8);
        EventEnvelope flaky = renamed(tenant, "a", 1, "flaky-7"); // 7 > max-attempts (4)
        publish(topic, flaky, renamed(tenant, "a", 2, "next"));
        try (EventConsumer consumer = consumer(name, topic, kafka)) {
            consumer.start();
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                assertThat(effects(name)).containsExactly("a/1/flaky-7", "a/2/next"));
            assertThat(transientFailures.get(flaky.getEventId()).get()).isEqualTo(8);
            assertThat(parkedRow(name, flaky.getEventId())).isEmpty();
            assertThat(consumer.status().lastError()).contains("SQLState 08006");
        }
    }

    @Test
    void aFailingPreparationIsRetriedUnderSupervisionAndReportedUntilItSucceeds() throws Exception {
        String topic = newTopic(TestServers.kafka());
        String name = "kit-it-" + UUID.randomUUID();
        String tenant = "t-" + UUID.randomUUID().toString().substring(0, 8);
        publish(topic, renamed(tenant, "a", 1, "after-preparation"));
        AtomicInteger tries = new AtomicInteger();
        AtomicBoolean serverUp = new AtomicBoolean();
        ConsumersHealthIndicator health = new ConsumersHealthIndicator(kafka, Duration.ofSeconds(2));
        health.setExecutorService(java.util.concurrent.Executors.newSingleThreadExecutor());
        try (EventConsumer consumer = EventConsumer.builder(name, kafka, db).topics(topic)
            .ordered((c, e) -> apply(name, c, e))
            .prepare(() -> {
                tries.incrementAndGet();
                if (!serverUp.get()) { // e.g. search-service creating its index while OpenSearch is down
                    throw new java.net.ConnectException("Connection refused (the index's server is down)");
                }
            })
            .build()) {
            consumer.start();
            await().atMost(Duration.ofSeconds(30)).until(() -> consumer.status().restarts() >= 2);
            assertThat(effects(name)).isEmpty();
            assertThat(consumer.status().alive()).isTrue();
            assertThat(consumer.status().lastError()).contains("Connection refused");
            await().atMost(Duration.ofSeconds(10)).until(() -> result(health).getStatus() == HealthStatus.DOWN);
            assertThat(String.valueOf(result(health).getDetails())).contains(name);

            serverUp.set(true);
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(effects(name)).containsExactly("a/1/after-preparation"));
            assertThat(tries.get()).isGreaterThanOrEqualTo(3);
        }
    }

    @Test
    void anEventTypeFilterSkipsByHeaderUnparsedAndAnUnorderedConsumerNeverWaitsOnGaps() throws Exception {
        String topic = newTopic(TestServers.kafka());
        String name = "kit-it-filter-" + UUID.randomUUID();
        String tenant = "t-" + UUID.randomUUID().toString().substring(0, 8);
        EventEnvelope wanted = renamed(tenant, "a", 7, "wanted"); // versions 1-6 never come (a filtered stream)
        // Not an envelope at all: parsed, it would be parked as Unreadable; its header says skip it.
        ProducerRecord<String, byte[]> skipped = new ProducerRecord<>(topic, tenant + "/a",
            "not an envelope".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        skipped.headers().add(Envelopes.H_EVENT_TYPE, "RecordUpserted".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        producer.send(skipped);
        ProducerRecord<String, byte[]> kept = new ProducerRecord<>(topic, Envelopes.kafkaKey(wanted), wanted.toByteArray());
        Envelopes.headers(wanted).forEach((k, v) -> kept.headers().add(k, v));
        producer.send(kept);
        producer.flush();
        try (EventConsumer consumer = EventConsumer.builder(name, kafka, db).topics(topic)
            .eventTypes(java.util.Set.of("TableRenamed")).unordered((c, e) -> apply(name, c, e)).build()) {
            consumer.start();
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() ->
                assertThat(effects(name)).containsExactly("a/7/wanted"));
            await().atMost(Duration.ofSeconds(10)).until(() -> consumer.status().lag() == 0);
            long parked = db.read(c -> io.linkbase.kit.parking.ParkedEvents.count(c, name));
            assertThat(parked).isZero();
        }
    }

    @Test
    void aBatchConsumerSkipsTheKeysItDoesNotWantUnparsed() throws Exception {
        String topic = newTopic(TestServers.kafka());
        String name = "kit-it-keys-" + UUID.randomUUID();
        String tenant = "t-" + UUID.randomUUID().toString().substring(0, 8);
        // Not an envelope: parsed, it would be parked as unreadable; its key is not wanted, so it never is.
        producer.send(new ProducerRecord<>(topic, tenant + "/other", "not an envelope".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        EventEnvelope wanted = renamed(tenant, "a", 1, "wanted");
        EventEnvelope unwanted = renamed(tenant, "other", 1, "unwanted");
        for (EventEnvelope e : List.of(unwanted, wanted)) {
            producer.send(new ProducerRecord<>(topic, Envelopes.kafkaKey(e), e.toByteArray()));
        }
        producer.flush();
        List<java.util.Set<String>> asked = new java.util.concurrent.CopyOnWriteArrayList<>();
        List<String> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (EventConsumer consumer = EventConsumer.builder(name, kafka, db).topics(topic)
            .keysWanted(keys -> {
                asked.add(keys);
                return keys.stream().filter(k -> k.endsWith("/a")).collect(java.util.stream.Collectors.toSet());
            })
            .batch(events -> {
                events.forEach(e -> seen.add(e.getAggregateId() + "/" + e.getTableRenamed().getName()));
                return Map.of();
            }).build()) {
            consumer.start();
            await().atMost(Duration.ofSeconds(60)).until(() -> consumer.status().lag() == 0 && !seen.isEmpty());
            assertThat(seen).containsExactly("a/wanted");
            assertThat(asked.stream().flatMap(java.util.Set::stream)).contains(tenant + "/a", tenant + "/other");
            long parked = db.read(c -> io.linkbase.kit.parking.ParkedEvents.count(c, name));
            assertThat(parked).isZero();
        }
    }

    @Test
    void byDefaultTheListIsOpenAndReplayIsRefused() throws Exception {
        Map<String, Object> props = new HashMap<>(ServiceWiring.service()
            .database(TestServers.postgres(), "kit_consumer_it")
            .kafka(TestServers.kafka())
            .httpPort(ServiceWiring.freePort())
            .grpcPort(ServiceWiring.freePort())
            .properties());
        props.put("linkbase.outbox.relay.enabled", "false");
        try (EmbeddedServer server = ApplicationContext.run(EmbeddedServer.class, props)) {
            String base = "http://127.0.0.1:" + server.getPort();
            HttpClient http = HttpClient.newHttpClient();
            assertThat(http.send(HttpRequest.newBuilder(URI.create(base + "/parked")).build(),
                HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(200);
            HttpResponse<String> replay = http.send(HttpRequest.newBuilder(URI.create(base + "/parked"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"kind\":\"outbox\",\"id\":\"1\"}")).build(),
                HttpResponse.BodyHandlers.ofString());
            assertThat(replay.statusCode()).isEqualTo(401);
        }
    }

    @Test
    void aRelayParkedEventIsListedAndMovedBackIntoTheOutbox() throws Exception {
        // outbox_parked as kit migration V0_2 (the relay's) defines it
        db.inTransaction(c -> {
            c.createStatement().execute("CREATE TABLE IF NOT EXISTS outbox_parked (id BIGINT PRIMARY KEY, "
                + "topic TEXT NOT NULL, kafka_key TEXT NOT NULL, event_id UUID NOT NULL, event_type TEXT NOT NULL, "
                + "envelope BYTEA NOT NULL, reason TEXT NOT NULL, created_at TIMESTAMPTZ NOT NULL, "
                + "parked_at TIMESTAMPTZ NOT NULL DEFAULT now())");
            return null;
        });
        String tenant = "t-" + UUID.randomUUID().toString().substring(0, 8);
        EventEnvelope big = renamed(tenant, "a", 1, "too-big");
        long id = System.nanoTime();
        db.inTransaction(c -> {
            try (PreparedStatement s = c.prepareStatement("INSERT INTO outbox_parked (id, topic, kafka_key, event_id, "
                + "event_type, envelope, reason, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, now())")) {
                s.setLong(1, id);
                s.setString(2, Topics.SCHEMA);
                s.setString(3, Envelopes.kafkaKey(big));
                s.setObject(4, UUID.fromString(big.getEventId()));
                s.setString(5, big.getEventType());
                s.setBytes(6, big.toByteArray());
                s.setString(7, "RecordTooLargeException: the message is 1200000 bytes");
                s.executeUpdate();
            }
            return null;
        });
        String base = "http://127.0.0.1:" + context.getBean(EmbeddedServer.class).getPort();
        HttpClient http = HttpClient.newHttpClient();
        String list = http.send(HttpRequest.newBuilder(URI.create(base + "/parked")).build(),
            HttpResponse.BodyHandlers.ofString()).body();
        assertThat(list).contains("\"kind\":\"outbox\"").contains(big.getEventId()).contains(tenant)
            .contains("RecordTooLargeException");
        HttpResponse<String> replay = http.send(HttpRequest.newBuilder(URI.create(base + "/parked"))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString("{\"kind\":\"outbox\",\"id\":\"" + id + "\"}")).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(replay.statusCode()).as(replay.body()).isEqualTo(200);
        assertThat(replay.body()).contains("\"replayed\":true");
        long inOutbox = db.read(c -> {
            try (PreparedStatement s = c.prepareStatement("SELECT count(*) FROM outbox WHERE event_id = ? "
                + "AND topic = ? AND kafka_key = ? AND envelope = ?")) {
                s.setObject(1, UUID.fromString(big.getEventId()));
                s.setString(2, Topics.SCHEMA);
                s.setString(3, Envelopes.kafkaKey(big));
                s.setBytes(4, big.toByteArray());
                try (ResultSet rs = s.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
        assertThat(inOutbox).isEqualTo(1);
        long stillParked = db.read(c -> {
            try (PreparedStatement s = c.prepareStatement("SELECT count(*) FROM outbox_parked WHERE id = ?")) {
                s.setLong(1, id);
                try (ResultSet rs = s.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            }
        });
        assertThat(stillParked).isZero();
    }

    @Test
    void aConsumerStartedWhileKafkaIsDownKeepsTryingAndConsumesOnceItIsUp() throws Exception {
        // A broker of its own on ports chosen now but started only later.
        Path dir = Files.createTempDirectory("kit-it-late-kafka-");
        int port = ServiceWiring.freePort();
        Files.writeString(dir.resolve("ports.properties"),
            "port=" + port + "\ncontroller.port=" + ServiceWiring.freePort() + "\n");
        String bootstrap = "127.0.0.1:" + port;
        KafkaServer planned = Servers.plannedKafka(dir);
        KafkaSettings late = new KafkaSettings(bootstrap, planned.clientSecurity(), 1, (short) 1, 4, Duration.ofSeconds(1),
            Duration.ofSeconds(1), Duration.ofMinutes(10), new SimpleMeterRegistry());
        ConsumersHealthIndicator health = new ConsumersHealthIndicator(late, Duration.ofSeconds(3));
        health.setExecutorService(java.util.concurrent.Executors.newSingleThreadExecutor());
        String name = "kit-it-late-" + UUID.randomUUID();
        String tenant = "t-" + UUID.randomUUID().toString().substring(0, 8);
        try (EventConsumer consumer = consumer(name, Topics.SCHEMA, late)) {
            consumer.start();
            // ensureTopics gives up after 10 s; the loop must survive that and try again
            await().atMost(Duration.ofSeconds(40)).until(() -> consumer.status().restarts() >= 1);
            assertThat(consumer.status().alive()).isTrue();
            assertThat(consumer.status().lastError()).containsAnyOf("Kafka did not answer", "cannot create topic"); // the admin client times out either way
            await().atMost(Duration.ofSeconds(10)).until(() -> result(health).getStatus() == HealthStatus.DOWN);
            HealthResult down = result(health);
            assertThat(String.valueOf(down.getDetails())).contains(name).contains("failing since");

            long t0 = System.nanoTime();
            try (KafkaServer broker = Servers.startKafka(dir)) {
                assertThat(broker.bootstrapServers()).isEqualTo(bootstrap);
                Properties p = broker.clientProperties();
                try (KafkaProducer<String, byte[]> lateProducer =
                         new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
                    EventEnvelope e = renamed(tenant, "a", 1, "after-start");
                    await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> {
                        lateProducer.send(new ProducerRecord<>(Topics.SCHEMA, Envelopes.kafkaKey(e), e.toByteArray()))
                            .get(10, TimeUnit.SECONDS);
                        return true;
                    });
                }
                await().atMost(Duration.ofSeconds(90)).untilAsserted(() ->
                    assertThat(effects(name)).containsExactly("a/1/after-start"));
                System.out.printf("[kit-it] consumer started %d restarts before the broker; consumed %d ms after "
                    + "the broker came up%n", consumer.status().restarts(), (System.nanoTime() - t0) / 1_000_000);
                await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(result(health).getStatus()).isEqualTo(HealthStatus.UP));
            }
            // The broker restarts on the same data and ports: the consumer rides it out, exactly once.
            long t2 = System.nanoTime();
            try (KafkaServer broker = Servers.startKafka(dir)) {
                assertThat(broker.bootstrapServers()).isEqualTo(bootstrap);
                Properties p = broker.clientProperties();
                try (KafkaProducer<String, byte[]> lateProducer =
                         new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
                    EventEnvelope e = renamed(tenant, "a", 2, "after-restart");
                    lateProducer.send(new ProducerRecord<>(Topics.SCHEMA, Envelopes.kafkaKey(e), e.toByteArray()))
                        .get(60, TimeUnit.SECONDS);
                }
                await().atMost(Duration.ofSeconds(90)).untilAsserted(() ->
                    assertThat(effects(name)).containsExactly("a/1/after-start", "a/2/after-restart"));
                System.out.printf("[kit-it] broker restarted: the next event applied %d ms after the restart began%n",
                    (System.nanoTime() - t2) / 1_000_000);
                assertThat(consumer.status().alive()).isTrue();
            }
        }
    }

    @Test
    void aDatabaseRestartIsRiddenOutAndNothingIsParkedOrLost() throws Exception {
        Path dir = Files.createTempDirectory("kit-it-restarting-pg-");
        PostgresServer pg = Servers.startPostgres(dir);
        Map<String, Object> props = new HashMap<>(ServiceWiring.service()
            .database(pg, "kit_restart_it")
            .kafka(TestServers.kafka())
            .grpcPort(ServiceWiring.freePort())
            .httpPort(ServiceWiring.freePort())
            .properties());
        props.put("flyway.datasources.default.enabled", "true");
        props.put("flyway.datasources.default.locations", "classpath:db/kit");
        props.put("datasources.default.connection-timeout", "2000");
        props.put("linkbase.outbox.relay.enabled", "false");
        props.put("linkbase.consumers.max-attempts", "2");
        props.put("linkbase.consumers.max-backoff", "1s");
        props.put("linkbase.consumers.park-after", "1s");
        String topic = newTopic(TestServers.kafka());
        String name = "kit-it-pg-" + UUID.randomUUID();
        String tenant = "t-" + UUID.randomUUID().toString().substring(0, 8);
        try (ApplicationContext ctx = ApplicationContext.run(props)) {
            Db pgDb = ctx.getBean(Db.class);
            KafkaSettings settings = ctx.getBean(KafkaSettings.class);
            pgDb.inTransaction(c -> {
                c.createStatement().execute("CREATE TABLE kit_it_effects (consumer TEXT, aggregate TEXT, "
                    + "version BIGINT, name TEXT)");
                return null;
            });
            try (EventConsumer consumer = EventConsumer.builder(name, settings, pgDb).topics(topic)
                .ordered((c, e) -> apply(name, c, e)).build()) {
                consumer.start();
                publish(topic, renamed(tenant, "a", 1, "before"));
                await().atMost(Duration.ofSeconds(60)).until(() -> effects(pgDb, name).size() == 1);

                pg.close(); // PostgreSQL goes away
                publish(topic, renamed(tenant, "a", 2, "during"), renamed(tenant, "b", 1, "during"));
                await().atMost(Duration.ofSeconds(30)).until(() -> consumer.status().failingSince() != null);
                Thread.sleep(5_000); // several failed attempts, more than max-attempts (2)
                assertThat(consumer.status().alive()).isTrue();
                System.out.printf("[kit-it] database down: %s%n", consumer.status().lastError());

                long t0 = System.nanoTime();
                PostgresServer again = Servers.startPostgres(dir);
                try {
                    assertThat(again.port()).isEqualTo(pg.port());
                    await().atMost(Duration.ofSeconds(60)).ignoreExceptions().untilAsserted(() -> assertThat(effects(pgDb, name))
                        .containsExactly("a/1/before", "a/2/during", "b/1/during"));
                    System.out.printf("[kit-it] database restarted: events applied %d ms after the restart began%n",
                        (System.nanoTime() - t0) / 1_000_000);
                    long parked = pgDb.read(c -> io.linkbase.kit.parking.ParkedEvents.count(c, name));
                    assertThat(parked).isZero();
                    assertThat(consumer.status().lastError()).containsAnyOf("SQLState 08", "Connection", "connection");
                } finally {
                    again.close();
                }
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    private static HealthResult result(ConsumersHealthIndicator indicator) {
        CompletableFuture<HealthResult> out = new CompletableFuture<>();
        indicator.getResult().subscribe(new Subscriber<>() {
            @Override
            public void onSubscribe(Subscription s) {
                s.request(1);
            }

            @Override
            public void onNext(HealthResult r) {
                out.complete(r);
            }

            @Override
            public void onError(Throwable t) {
                out.completeExceptionally(t);
            }

            @Override
            public void onComplete() {
            }
        });
        return out.join();
    }

    private static String newTopic(KafkaServer kafka) throws Exception {
        String topic = "kit-it-" + UUID.randomUUID();
        Properties p = kafka.clientProperties();
        try (Admin admin = Admin.create(p)) {
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
        return topic;
    }

    private void publish(String topic, EventEnvelope... events) {
        for (EventEnvelope e : events) {
            producer.send(new ProducerRecord<>(topic, Envelopes.kafkaKey(e), e.toByteArray()));
        }
        producer.flush();
    }

    private static EventEnvelope renamed(String tenant, String aggregate, long version, String name) {
        return Envelopes.seal(EventEnvelope.newBuilder().setTableRenamed(TableRenamed.newBuilder().setName(name)),
            tenant, aggregate, version, "", "", Instant.now());
    }

    private List<String> effects(String consumer) {
        return effects(db, consumer);
    }

    private static List<String> effects(Db db, String consumer) {
        return db.read(c -> {
            List<String> out = new java.util.ArrayList<>();
            try (PreparedStatement s = c.prepareStatement(
                "SELECT aggregate, version, name FROM kit_it_effects WHERE consumer = ? ORDER BY aggregate, version")) {
                s.setString(1, consumer);
                try (ResultSet rs = s.executeQuery()) {
                    while (rs.next()) {
                        out.add(rs.getString(1) + "/" + rs.getLong(2) + "/" + rs.getString(3));
                    }
                }
            }
            return out;
        });
    }

    private Map<String, Object> parkedRow(String consumer, String eventId) {
        return db.read(c -> {
            Map<String, Object> row = new HashMap<>();
            try (PreparedStatement s = c.prepareStatement(
                "SELECT event_type, reason FROM parked_events WHERE consumer = ? AND event_id = ?")) {
                s.setString(1, consumer);
                s.setObject(2, UUID.fromString(eventId));
                try (ResultSet rs = s.executeQuery()) {
                    if (rs.next()) {
                        row.put("type", rs.getString(1));
                        row.put("reason", rs.getString(2));
                    }
                }
            }
            return row;
        });
    }
}
