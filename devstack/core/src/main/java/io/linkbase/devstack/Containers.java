package io.linkbase.devstack;

import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

import java.time.Duration;

/**
 * Mode (b): pinned containers through Testcontainers. Only loaded once Docker answered, so
 * machines without an engine never touch Testcontainers. Images can be overridden with the
 * system properties {@code linkbase.postgres.image}, {@code linkbase.kafka.image},
 * {@code linkbase.opensearch.image} (never use {@code :latest}).
 */
final class Containers {

    // The same versions as the downloaded servers and docker-compose.yml: the root pom's.
    static final String POSTGRES_IMAGE = System.getProperty("linkbase.postgres.image",
            "postgres:" + ServerVersions.POSTGRES + "-bookworm");
    static final String KAFKA_IMAGE = System.getProperty("linkbase.kafka.image",
            "apache/kafka:" + ServerVersions.KAFKA);
    static final String OPENSEARCH_IMAGE = System.getProperty("linkbase.opensearch.image",
            "opensearchproject/opensearch:" + ServerVersions.OPENSEARCH);

    private Containers() {
    }

    static PostgresServer postgres() {
        @SuppressWarnings("resource")
        GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse(POSTGRES_IMAGE))
                .withEnv("POSTGRES_USER", "postgres")
                .withEnv("POSTGRES_PASSWORD", "postgres")
                .withEnv("POSTGRES_DB", "postgres")
                .withCommand("postgres", "-c", "fsync=off", "-c", "max_connections=200")
                .withExposedPorts(5432)
                // the image's entrypoint starts a temporary server first: wait for the second start
                .waitingFor(Wait.forLogMessage(".*database system is ready to accept connections.*\\s", 2)
                        .withStartupTimeout(Duration.ofMinutes(2)));
        c.start();
        return new Handles.Postgres(c.getHost(), c.getMappedPort(5432), "postgres", "postgres",
                "postgres", null, "PostgreSQL container " + POSTGRES_IMAGE, c::stop);
    }

    static KafkaServer kafka() {
        @SuppressWarnings("resource")
        org.testcontainers.kafka.KafkaContainer c = new org.testcontainers.kafka.KafkaContainer(
                DockerImageName.parse(KAFKA_IMAGE).asCompatibleSubstituteFor("apache/kafka"))
                // one node: internal topics with one replica, so groups and transactions work
                .withEnv("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "1")
                .withEnv("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1")
                .withEnv("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1")
                .withEnv("KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS", "0");
        c.start();
        return new Handles.Kafka(c.getBootstrapServers(), null, null, "Kafka container " + KAFKA_IMAGE, c::stop);
    }

    static OpenSearchServer openSearch() {
        @SuppressWarnings("resource")
        GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse(OPENSEARCH_IMAGE))
                .withEnv("discovery.type", "single-node")
                .withEnv("DISABLE_SECURITY_PLUGIN", "true")
                .withEnv("DISABLE_INSTALL_DEMO_CONFIG", "true")
                .withEnv("OPENSEARCH_JAVA_OPTS", "-Xms512m -Xmx512m")
                .withExposedPorts(9200)
                .waitingFor(Wait.forHttp("/_cluster/health?wait_for_status=yellow&timeout=60s")
                        .forPort(9200)
                        .forStatusCode(200)
                        .withStartupTimeout(Duration.ofMinutes(3)));
        c.start();
        return new Handles.OpenSearch("http://" + c.getHost() + ":" + c.getMappedPort(9200),
                "OpenSearch container " + OPENSEARCH_IMAGE, c::stop);
    }
}
