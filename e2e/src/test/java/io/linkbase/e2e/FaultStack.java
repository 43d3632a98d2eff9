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
        // the servers delete the directory when closed, or when the JVM ends first
        RestartableServers servers = RestartableServers.start(root);
        try {
            LinkbaseServices services = LinkbaseServices.builder(servers.postgres(), servers.kafka(), servers.openSearch())
                .databasePrefix("faults_")
                .jwtSecret(Stack.JWT_SECRET)
                .logDir(Path.of("target", "faults-logs").toAbsolutePath())
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

    @Override
    public void close() {
        try {
            services.close();
        } finally {
            servers.close();
        }
    }
}
