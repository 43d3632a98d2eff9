package io.linkbase.devstack;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Supplier;

/**
 * One instance of each server per JVM for tests, started lazily on first use and stopped by a
 * shutdown hook. Each server comes from, in this order: (a) the environment
 * ({@code LINKBASE_POSTGRES_URL}, {@code LINKBASE_KAFKA_BOOTSTRAP}, {@code LINKBASE_OPENSEARCH_URL}),
 * (b) a Testcontainers container when a Docker engine answers, (c) a devstack runner in a
 * child JVM, its data in a temporary directory deleted at exit.
 */
public final class TestServers {

    private static final Object POSTGRES_LOCK = new Object();
    private static final Object KAFKA_LOCK = new Object();
    private static final Object OPENSEARCH_LOCK = new Object();
    private static volatile PostgresServer postgres;
    private static volatile KafkaServer kafka;
    private static volatile OpenSearchServer openSearch;
    private static Path tempRoot;

    static {
        Runtime.getRuntime().addShutdownHook(new Thread(TestServers::stopAll, "linkbase-test-servers-stop"));
    }

    private TestServers() {
    }

    public static PostgresServer postgres() {
        synchronized (POSTGRES_LOCK) {
            if (postgres == null) {
                postgres = timed("PostgreSQL", () -> Servers.externalPostgres().orElseGet(() ->
                        Servers.dockerAvailable() ? Servers.dockerPostgres() : Servers.startPostgres(tempDir("postgres"))));
            }
            return postgres;
        }
    }

    public static KafkaServer kafka() {
        synchronized (KAFKA_LOCK) {
            if (kafka == null) {
                kafka = timed("Kafka", () -> Servers.externalKafka().orElseGet(() ->
                        Servers.dockerAvailable() ? Servers.dockerKafka() : Servers.startKafka(tempDir("kafka"))));
            }
            return kafka;
        }
    }

    public static OpenSearchServer openSearch() {
        synchronized (OPENSEARCH_LOCK) {
            if (openSearch == null) {
                openSearch = timed("OpenSearch", () -> Servers.externalOpenSearch().orElseGet(() ->
                        Servers.dockerAvailable() ? Servers.dockerOpenSearch() : Servers.startOpenSearch(tempDir("opensearch"))));
            }
            return openSearch;
        }
    }

    private static <T> T timed(String what, Supplier<T> start) {
        long t0 = System.nanoTime();
        T server = start.get();
        System.out.printf("[devstack] %s ready in %d ms: %s%n", what, (System.nanoTime() - t0) / 1_000_000, server);
        return server;
    }

    private static synchronized Path tempDir(String name) {
        try {
            if (tempRoot == null) {
                tempRoot = Files.createTempDirectory("linkbase-test-servers-");
            }
            return Files.createDirectories(tempRoot.resolve(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void stopAll() {
        // the servers are independent: stop them together
        Thread[] stops = {
                new Thread(() -> close(openSearch)),
                new Thread(() -> close(kafka)),
                new Thread(() -> close(postgres)),
        };
        for (Thread t : stops) {
            t.start();
        }
        for (Thread t : stops) {
            try {
                t.join(60_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        Path root;
        synchronized (TestServers.class) {
            root = tempRoot;
        }
        if (root != null) {
            DataDirs.deleteRecursively(root);
        }
    }

    private static void close(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception e) {
                System.err.println("[devstack] stopping " + c + ": " + e);
            }
        }
    }
}
