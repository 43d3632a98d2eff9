package io.linkbase.devstack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * Factories for the three servers, used by {@link TestServers} and by the dev launcher.
 *
 * <ul>
 * <li>{@code start*(dataDir)}: a real server in its own child JVM (a devstack runner module
 *     started through {@link ModuleProcess}) on free 127.0.0.1 ports, data and its log under
 *     {@code dataDir}. Reusing a data directory keeps the data (and, when still free, the
 *     ports).</li>
 * <li>{@code external*()}: the server named by an environment variable
 *     ({@code LINKBASE_POSTGRES_URL} + {@code LINKBASE_POSTGRES_USER}/{@code LINKBASE_POSTGRES_PASSWORD},
 *     {@code LINKBASE_KAFKA_BOOTSTRAP}, {@code LINKBASE_OPENSEARCH_URL}), if it is set.</li>
 * <li>{@code docker*()}: a pinned Testcontainers container; only when {@link #dockerAvailable()}.</li>
 * </ul>
 */
public final class Servers {

    public static final String POSTGRES_MODULE = "devstack/postgres-server";
    public static final String POSTGRES_MAIN = "io.linkbase.devstack.postgres.PostgresServerMain";
    public static final String KAFKA_MODULE = "devstack/kafka-server";
    public static final String KAFKA_MAIN = "io.linkbase.devstack.kafka.KafkaServerMain";
    public static final String OPENSEARCH_MODULE = "devstack/opensearch-server";
    public static final String OPENSEARCH_MAIN = "io.linkbase.devstack.opensearch.OpenSearchServerMain";

    private static final String PORTS_FILE = "ports.properties";
    /** The SASL/SCRAM user of devstack's broker (every service and test client logs in as it). */
    public static final String KAFKA_USER = "linkbase";

    private Servers() {
    }

    // ------------------------------------------------------------------ (c) child JVMs

    /** A real PostgreSQL 15 in a child JVM; superuser {@code postgres}/{@code postgres}, admin database {@code postgres}. */
    public static PostgresServer startPostgres(Path dataDir) {
        Path dir = prepare(dataDir);
        ModuleProcess p = withPortRetry(() -> {
            int port = Ports.remembered(dir.resolve(PORTS_FILE), "port");
            return ModuleProcess.builder(POSTGRES_MODULE, POSTGRES_MAIN)
                    .name("postgres")
                    // the first start on a machine unpacks the binaries in memory (~150 MB peak); afterwards
                    // the JVM only idles, SerialGC gives the memory back
                    .jvmArgs("-Xmx320m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC")
                    .args("--port", port, "--data-dir", dir.resolve("pgdata"))
                    .readyLine(ModuleProcess.READY_LINE)
                    .logFile(dir.resolve("postgres.log"))
                    .startTimeout(Duration.ofSeconds(120))
                    .start();
        });
        int port = readyPort(p);
        return new Handles.Postgres("127.0.0.1", port, "postgres", "postgres", "postgres", null,
                "PostgreSQL (child JVM pid " + p.pid() + ")", p::close);
    }

    /**
     * A real single-node KRaft Kafka 4.x broker in a child JVM that takes only clients logged in
     * with SASL/SCRAM-SHA-256 as user {@code linkbase}, whose password is made once per data
     * directory (kept in {@code kafka-password} there, readable by its owner only).
     */
    public static KafkaServer startKafka(Path dataDir) {
        Path dir = prepare(dataDir);
        String password = Secrets.remembered(dir.resolve("kafka-password"));
        ModuleProcess p = withPortRetry(() -> {
            int port = Ports.remembered(dir.resolve(PORTS_FILE), "port");
            int controllerPort = Ports.remembered(dir.resolve(PORTS_FILE), "controller.port");
            return ModuleProcess.builder(KAFKA_MODULE, KAFKA_MAIN)
                    .name("kafka")
                    .jvmArgs("-Xms64m", "-Xmx384m", "-XX:+UseSerialGC")
                    .args("--port", port, "--controller-port", controllerPort, "--data-dir", dir,
                            "--user", KAFKA_USER, "--password-file", dir.resolve("kafka-password"))
                    .readyLine(ModuleProcess.READY_LINE)
                    .logFile(dir.resolve("kafka.log"))
                    .startTimeout(Duration.ofSeconds(120))
                    .start();
        });
        return new Handles.Kafka("127.0.0.1:" + readyPort(p), KAFKA_USER, password, "Kafka (child JVM pid " + p.pid() + ")", p::close);
    }

    /**
     * The address and credentials {@link #startKafka} will give a broker in {@code dataDir}, known
     * before it runs (for tests of clients started before their broker).
     */
    public static KafkaServer plannedKafka(Path dataDir) {
        Path dir = prepare(dataDir);
        int port = Ports.remembered(dir.resolve(PORTS_FILE), "port");
        return new Handles.Kafka("127.0.0.1:" + port, KAFKA_USER, Secrets.remembered(dir.resolve("kafka-password")),
                "Kafka to be started in " + dir, () -> { });
    }

    /** A real OpenSearch 2.19 node in a child JVM (512 MB heap). */
    public static OpenSearchServer startOpenSearch(Path dataDir) {
        Path dir = prepare(dataDir);
        ModuleProcess p = withPortRetry(() -> {
            int port = Ports.remembered(dir.resolve(PORTS_FILE), "http.port");
            int transportPort = Ports.remembered(dir.resolve(PORTS_FILE), "transport.port");
            return ModuleProcess.builder(OPENSEARCH_MODULE, OPENSEARCH_MAIN)
                    .name("opensearch")
                    .jvmArgs("-Xms256m", "-Xmx512m", "-Dlog4j2.disable.jmx=true")
                    .args("--port", port, "--transport-port", transportPort, "--data-dir", dir.resolve("home"))
                    .readyLine(ModuleProcess.READY_LINE)
                    .logFile(dir.resolve("opensearch.log"))
                    .startTimeout(Duration.ofSeconds(180))
                    .start();
        });
        return new Handles.OpenSearch("http://127.0.0.1:" + readyPort(p), "OpenSearch (child JVM pid " + p.pid() + ")", p::close);
    }

    // ------------------------------------------------------------------ (a) external

    /** The PostgreSQL named by {@code LINKBASE_POSTGRES_URL} (a JDBC URL of an admin database). */
    public static Optional<PostgresServer> externalPostgres() {
        String url = env("LINKBASE_POSTGRES_URL");
        if (url == null) {
            return Optional.empty();
        }
        if (!url.startsWith("jdbc:postgresql://")) {
            throw new DevstackException("LINKBASE_POSTGRES_URL must look like jdbc:postgresql://host:5432/postgres, got " + url);
        }
        URI uri = URI.create(url.substring("jdbc:".length()));
        String db = uri.getPath() == null || uri.getPath().length() <= 1 ? "postgres" : uri.getPath().substring(1);
        String user = Optional.ofNullable(env("LINKBASE_POSTGRES_USER")).orElse("postgres");
        String password = Optional.ofNullable(env("LINKBASE_POSTGRES_PASSWORD")).orElse("postgres");
        return Optional.of(new Handles.Postgres(uri.getHost(), uri.getPort() < 0 ? 5432 : uri.getPort(), user, password,
                db, uri.getRawQuery(), "external PostgreSQL (LINKBASE_POSTGRES_URL)", () -> { }));
    }

    /**
     * The Kafka named by {@code LINKBASE_KAFKA_BOOTSTRAP}, logged in to with SASL/SCRAM-SHA-256 as
     * {@code LINKBASE_KAFKA_USERNAME}/{@code LINKBASE_KAFKA_PASSWORD} when they are set.
     */
    public static Optional<KafkaServer> externalKafka() {
        String bootstrap = env("LINKBASE_KAFKA_BOOTSTRAP");
        return bootstrap == null ? Optional.empty()
                : Optional.of(new Handles.Kafka(bootstrap, env("LINKBASE_KAFKA_USERNAME"), env("LINKBASE_KAFKA_PASSWORD"),
                        "external Kafka (LINKBASE_KAFKA_BOOTSTRAP)", () -> { }));
    }

    /** The OpenSearch named by {@code LINKBASE_OPENSEARCH_URL}. */
    public static Optional<OpenSearchServer> externalOpenSearch() {
        String url = env("LINKBASE_OPENSEARCH_URL");
        return url == null ? Optional.empty()
                : Optional.of(new Handles.OpenSearch(url, "external OpenSearch (LINKBASE_OPENSEARCH_URL)", () -> { }));
    }

    // ------------------------------------------------------------------ (b) Docker

    /**
     * Whether a Docker engine answers. Quick and quiet without one: Testcontainers is asked
     * only when there is a sign of an engine (DOCKER_HOST, a docker/podman socket,
     * ~/.testcontainers.properties). {@code LINKBASE_DEVSTACK_DOCKER=never} (or the system
     * property {@code linkbase.devstack.docker=never}) skips Docker altogether.
     */
    public static boolean dockerAvailable() {
        return Docker.available();
    }

    /** PostgreSQL in a pinned {@code postgres:15.x} container. */
    public static PostgresServer dockerPostgres() {
        return Containers.postgres();
    }

    /** Kafka in a pinned {@code apache/kafka:4.x} container. */
    public static KafkaServer dockerKafka() {
        return Containers.kafka();
    }

    /** OpenSearch in a pinned {@code opensearchproject/opensearch:2.19.x} container, security off. */
    public static OpenSearchServer dockerOpenSearch() {
        return Containers.openSearch();
    }

    // ------------------------------------------------------------------ helpers

    static String env(String name) {
        String v = System.getenv(name);
        return v == null || v.isBlank() ? null : v.trim();
    }

    private static Path prepare(Path dataDir) {
        try {
            Path dir = dataDir.toAbsolutePath().normalize();
            Files.createDirectories(dir);
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + dataDir, e);
        }
    }

    private static int readyPort(ModuleProcess p) {
        return p.readyLine().flatMap(ModuleProcess::readyPort)
                .orElseThrow(() -> new DevstackException(p.name() + " printed no port in its ready line"));
    }

    /** Ports are picked free and then bound by the child: retry once if another process won the race. */
    private static ModuleProcess withPortRetry(java.util.function.Supplier<ModuleProcess> start) {
        try {
            return start.get();
        } catch (DevstackException e) {
            String m = String.valueOf(e.getMessage());
            if (m.contains("Address already in use") || m.contains("BindException") || m.contains("could not bind")) {
                System.out.println("[devstack] port taken meanwhile, retrying with other ports");
                return start.get();
            }
            throw e;
        }
    }
}
