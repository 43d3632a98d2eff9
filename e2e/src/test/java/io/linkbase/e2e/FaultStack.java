package io.linkbase.e2e;

import io.linkbase.devstack.LinkbaseServices;
import io.linkbase.devstack.RestartableServers;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;

/**
 * The fault-injection suite's own system: servers it may stop and start again
 * ({@link RestartableServers}) and the four services on them (databases {@code faults_*}), each in
 * its own JVM. Never the shared {@link Stack}: this one gets killed. {@link #close()} stops every
 * process it started; the devstack's shutdown hooks do it too if the test JVM dies first.
 */
final class FaultStack implements AutoCloseable {
    /** Every line of each service, appended across restarts: {@code <service>.log}. */
    static final Path LOGS = Path.of("target", "faults-logs").toAbsolutePath();

    final RestartableServers servers;
    final LinkbaseServices services;

    private FaultStack(RestartableServers servers, LinkbaseServices services) {
        this.servers = servers;
        this.services = services;
    }

    static FaultStack start() {
        Path root;
        try {
            root = Files.createTempDirectory("linkbase-faults-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try (var old = Files.exists(LOGS) ? Files.list(LOGS) : java.util.stream.Stream.<Path>empty()) {
            for (Path log : old.toList()) {
                Files.delete(log); // a former run's lines would be read as this run's
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        // the servers delete the directory when closed, or when the JVM ends first
        RestartableServers servers = RestartableServers.start(root);
        try {
            LinkbaseServices services = LinkbaseServices.builder(servers.postgres(), servers.kafka(), servers.openSearch())
                .databasePrefix("faults_")
                .jwtSecret(Stack.JWT_SECRET)
                .logDir(LOGS)
                // the suite's load must never meet the rate limiter
                .env("LINKBASE_RATE_LIMIT_RPS", "100000")
                .env("LINKBASE_RATE_LIMIT_BURST", "100000")
                // a rebuild killed in scenario E is taken over after this (default 30 s)
                .env("LINKBASE_SEARCH_REBUILD_LEASE", "8s")
                .start();
            return new FaultStack(servers, services);
        } catch (RuntimeException e) {
            servers.close();
            throw e;
        }
    }

    String gatewayUrl() {
        return "http://127.0.0.1:" + services.httpPort(LinkbaseServices.GATEWAY);
    }

    /** A connection to a service's own database, to check what it did (never to drive it). */
    Connection db(LinkbaseServices.Service service) throws SQLException {
        return DriverManager.getConnection(servers.postgres().jdbcUrl(services.database(service)),
            servers.postgres().user(), servers.postgres().password());
    }

    /**
     * Why a service answered 500: each line of the services' logs that logs one (search-service's
     * {@code Calls} "internal error", the gateway's "unexpected service failure") with the lines of
     * its stack trace that name an exception. For a failure's message: CI keeps only the console.
     */
    static String internalErrors() {
        StringBuilder found = new StringBuilder();
        try (var files = Files.list(LOGS)) {
            for (Path log : files.sorted().toList()) {
                java.util.List<String> lines = Files.readAllLines(log);
                for (int i = 0; i < lines.size() && found.length() < 4_000; i++) {
                    String line = lines.get(i);
                    if (line.contains("internal error") || line.contains("unexpected service failure")) {
                        found.append('\n').append(log.getFileName()).append(": ").append(line);
                        // its stack trace: up to the next entry (a line that starts with its time)
                        for (int j = i + 1; j < lines.size() && j < i + 200 && !lines.get(j).matches("^\\d\\d:\\d\\d:.*"); j++) {
                            String next = lines.get(j).strip();
                            if (next.startsWith("Caused by") || next.contains("Exception:") && !next.startsWith("at ")) {
                                found.append("\n    ").append(next);
                            }
                        }
                    }
                }
            }
        } catch (IOException e) {
            found.append("\n(the services' logs in ").append(LOGS).append(" could not be read: ").append(e).append(')');
        }
        return found.length() == 0 ? "none logged" : found.toString();
    }

    @Override
    public void close() {
        try {
            services.close();
        } finally {
            servers.close();
        }
    }
}
