package io.linkbase.kit.outbox;

import io.linkbase.devstack.KafkaServer;
import io.linkbase.devstack.Servers;
import io.linkbase.devstack.ServiceWiring;
import io.linkbase.devstack.TestServers;
import io.linkbase.kit.events.Envelopes;
import io.linkbase.kit.events.Topics;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.micronaut.context.annotation.Value;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import io.micronaut.test.support.TestPropertyProvider;
import jakarta.inject.Inject;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.io.Writer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

import static io.linkbase.kit.outbox.OutboxFixtures.count;
import static io.linkbase.kit.outbox.OutboxFixtures.envelope;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Kafka is down when the service starts (topic creation fails, then every send): the relay keeps
 * retrying, /health reports it DOWN with the reason once rows wait longer than stuck-after, and
 * everything is published once a broker comes up on that address.
 */
@MicronautTest(transactional = false)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OutboxRelayKafkaDownIT implements TestPropertyProvider {
    private static final String DATABASE = "kit_outbox_kafka_down_it";
    private static final Path KAFKA_DIR;
    // Below the kernel's ephemeral range (32768-60999): the relay dials this port for seconds
    // while nothing listens, and an OS-chosen port could be taken by one of those very dials (a
    // TCP self-connect) or another client before the late broker binds it (seen once in CI).
    private static final int KAFKA_PORT = portBelowEphemeralRange();
    private static final int CONTROLLER_PORT = portBelowEphemeralRange();

    private static int portBelowEphemeralRange() {
        java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
        for (int i = 0; i < 200; i++) {
            int port = 20_000 + random.nextInt(12_000);
            if (io.linkbase.devstack.Ports.isFree(port)) {
                return port;
            }
        }
        return ServiceWiring.freePort();
    }

    static {
        try {
            KAFKA_DIR = Files.createTempDirectory("outbox-kafka-down-");
            // the broker started later binds the port the relay was given from the start
            Properties ports = new Properties();
            ports.setProperty("port", Integer.toString(KAFKA_PORT));
            ports.setProperty("controller.port", Integer.toString(CONTROLLER_PORT));
            try (Writer w = Files.newBufferedWriter(KAFKA_DIR.resolve("ports.properties"))) {
                ports.store(w, "OutboxRelayKafkaDownIT");
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Inject
    OutboxRelay relay;
    @Value("${micronaut.server.port}")
    int httpPort;

    private KafkaServer lateKafka;

    @Override
    public Map<String, String> getProperties() {
        return OutboxFixtures.kitService(TestServers.postgres(), DATABASE, Servers.plannedKafka(KAFKA_DIR), Map.of(
            "linkbase.outbox.relay.stuck-after", "2s",
            "linkbase.outbox.relay.stats-interval", "200ms"));
    }

    @AfterAll
    void stopKafka() {
        if (lateKafka != null) {
            relay.stop();
            lateKafka.close();
        }
    }

    @Test
    void theRelaySurvivesKafkaBeingDownAndPublishesOnceItIsUp() throws Exception {
        String tenant = "down-" + UUID.randomUUID();
        EventEnvelope e = envelope(tenant, "a", 1, 100);
        try (Connection c = OutboxFixtures.connect(TestServers.postgres(), DATABASE)) {
            Outbox.append(c, Topics.SCHEMA, e);
            relay.wakeUp();

            HttpClient http = HttpClient.newHttpClient();
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
                HttpResponse<String> health = http.send(HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + httpPort + "/health")).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(health.statusCode()).isEqualTo(503);
                assertThat(health.body()).contains("outboxRelay").contains("no progress for");
            });
            System.out.println("[outbox-relay] with Kafka down: " + relay.health());
            assertThat(relay.isRunning()).isTrue();
            assertThat(count(c, "SELECT count(*) FROM outbox")).isEqualTo(1);

            lateKafka = Servers.startKafka(KAFKA_DIR);
            assertThat(lateKafka.bootstrapServers()).isEqualTo("127.0.0.1:" + KAFKA_PORT);
            long t0 = System.nanoTime();
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
                .until(() -> count(c, "SELECT count(*) FROM outbox") == 0);
            System.out.printf("[outbox-relay] published %d ms after the broker was up%n", (System.nanoTime() - t0) / 1_000_000);
        }
        try (KafkaConsumer<String, byte[]> consumer = OutboxFixtures.consumer(lateKafka, List.of(Topics.SCHEMA))) {
            List<ConsumerRecord<String, byte[]>> seen = OutboxFixtures.await(consumer, tenant + "/", 1, Duration.ofSeconds(30));
            assertThat(seen).extracting(r -> Envelopes.parse(r.value()).getEventId()).containsExactly(e.getEventId());
        }
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(relay.health().up()).isTrue());
    }
}
