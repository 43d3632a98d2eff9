package io.linkbase.devstack;

import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * PostgreSQL, Kafka and OpenSearch of their own, each a runner child JVM ({@link Servers}) with
 * its data under one root directory, that a fault-injection test can stop and start again while
 * the services keep running: {@link #stop} shuts a server down cleanly (SIGTERM to its runner),
 * {@link #start} brings it back on the same data directory and the same ports, so every client
 * reconnects to the address it already has. Never the JVM-wide {@link TestServers}: stopping
 * those would disturb every other test class of the JVM.
 *
 * <p>The handles returned by {@link #postgres()}, {@link #kafka()} and {@link #openSearch()}
 * stay valid across restarts. {@link #close()} stops whatever runs and deletes the root.
 */
public final class RestartableServers implements AutoCloseable {

    public enum Kind { POSTGRES, KAFKA, OPENSEARCH }

    private final Path root;
    private final Map<Kind, AutoCloseable> running = new EnumMap<>(Kind.class);
    private final PostgresServer postgres;
    private final KafkaServer kafka;
    private final OpenSearchServer openSearch;
    /** Stops the servers and deletes their data if the JVM ends before {@link #close()} (e.g. SIGTERM). */
    private final Thread onExit = new Thread(this::stopAndDelete, "linkbase-restartable-servers-stop");

    private RestartableServers(Path root, PostgresServer pg, KafkaServer kafka, OpenSearchServer os) {
        this.root = root;
        running.put(Kind.POSTGRES, pg);
        running.put(Kind.KAFKA, kafka);
        running.put(Kind.OPENSEARCH, os);
        this.postgres = new Handles.Postgres(pg.host(), pg.port(), pg.user(), pg.password(), "postgres", null,
            "PostgreSQL (restartable, " + root + ")", () -> stop(Kind.POSTGRES));
        this.kafka = new Handles.Kafka(kafka.bootstrapServers(), kafka.username(), kafka.password(), "Kafka (restartable, " + root + ")", () -> stop(Kind.KAFKA));
        this.openSearch = new Handles.OpenSearch(os.httpUrl(), "OpenSearch (restartable, " + root + ")",
            () -> stop(Kind.OPENSEARCH));
        Runtime.getRuntime().addShutdownHook(onExit);
    }

    /** Starts the three servers together; data under {@code root/postgres}, {@code root/kafka}, {@code root/opensearch}. */
    public static RestartableServers start(Path root) {
        CompletableFuture<PostgresServer> pg = CompletableFuture.supplyAsync(() -> Servers.startPostgres(root.resolve("postgres")));
        CompletableFuture<KafkaServer> kafka = CompletableFuture.supplyAsync(() -> Servers.startKafka(root.resolve("kafka")));
        CompletableFuture<OpenSearchServer> os = CompletableFuture.supplyAsync(() -> Servers.startOpenSearch(root.resolve("opensearch")));
        try {
            return new RestartableServers(root, pg.join(), kafka.join(), os.join());
        } catch (RuntimeException e) {
            // whichever did start must not outlive the failure
            for (CompletableFuture<? extends AutoCloseable> f : java.util.List.of(pg, kafka, os)) {
                f.thenAccept(RestartableServers::closeQuietly);
            }
            CompletableFuture.allOf(pg, kafka, os).exceptionally(x -> null).join();
            DataDirs.deleteRecursively(root);
            throw e;
        }
    }

    public PostgresServer postgres() {
        return postgres;
    }

    public KafkaServer kafka() {
        return kafka;
    }

    public OpenSearchServer openSearch() {
        return openSearch;
    }

    public synchronized boolean isRunning(Kind kind) {
        return running.containsKey(kind);
    }

    /** Shuts the server down cleanly (its data stays); a no-op if it is stopped. */
    public void stop(Kind kind) {
        AutoCloseable server;
        synchronized (this) {
            server = running.remove(kind);
        }
        closeQuietly(server);
    }

    /** Starts the server again on its data directory; fails if it could not get its former ports back. */
    public void start(Kind kind) {
        synchronized (this) {
            if (running.containsKey(kind)) {
                return;
            }
        }
        AutoCloseable server;
        String address;
        String expected;
        switch (kind) {
            case POSTGRES -> {
                PostgresServer pg = Servers.startPostgres(root.resolve("postgres"));
                server = pg;
                address = pg.host() + ":" + pg.port();
                expected = postgres.host() + ":" + postgres.port();
            }
            case KAFKA -> {
                KafkaServer k = Servers.startKafka(root.resolve("kafka"));
                server = k;
                address = k.bootstrapServers();
                expected = kafka.bootstrapServers();
            }
            default -> {
                OpenSearchServer os = Servers.startOpenSearch(root.resolve("opensearch"));
                server = os;
                address = os.httpUrl();
                expected = openSearch.httpUrl();
            }
        }
        if (!address.equals(expected)) {
            closeQuietly(server);
            throw new DevstackException(kind + " came back at " + address + " instead of " + expected
                + " (its port was taken meanwhile)");
        }
        synchronized (this) {
            running.put(kind, server);
        }
    }

    /** Stops every server still running and deletes their data. */
    @Override
    public void close() {
        try {
            Runtime.getRuntime().removeShutdownHook(onExit);
        } catch (IllegalStateException e) {
            // the JVM is shutting down: the hook does the same
        }
        stopAndDelete();
    }

    private void stopAndDelete() {
        CompletableFuture<?>[] stops = java.util.Arrays.stream(Kind.values())
            .map(k -> CompletableFuture.runAsync(() -> stop(k)))
            .toArray(CompletableFuture[]::new);
        CompletableFuture.allOf(stops).exceptionally(x -> null).join();
        DataDirs.deleteRecursively(root);
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception e) {
                System.err.println("[devstack] stopping " + c + ": " + e);
            }
        }
    }

    @Override
    public String toString() {
        return "RestartableServers[" + root + ", running " + running.keySet() + "]";
    }
}
