package io.linkbase.e2e;

import io.linkbase.devstack.LinkbaseServices;
import io.linkbase.devstack.PostgresServer;
import io.linkbase.devstack.TestServers;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The whole system for the end-to-end tests, started once per test JVM: the real servers and
 * the four services, each in its own JVM, exactly as {@code bin/linkbase dev} runs them.
 */
final class Stack {
    static final String JWT_SECRET = "e2e-secret-e2e-secret-e2e-secret-0123";
    /** Low enough that a test can reach it, high enough that the stories never do. */
    static final int RATE_PER_SECOND = 100;
    static final int BURST = 300;
    /** The load check's tenant has a plan of its own, so it measures latency, not the limiter. */
    static final String BENCH_TENANT = "bench-gw";
    /** A tenant on a tiny plan (1 request/s, burst 5): the 429 test does not depend on how fast requests are. */
    static final String SMALL_PLAN_TENANT = "small-plan";
    static final int SMALL_PLAN_BURST = 5;

    /**
     * The gateway closes an idle SuggestStream after this many seconds, sooner than
     * search-service's 90 s behind it, so the test sees the gateway's own timeout (and is quicker).
     */
    static final int GATEWAY_STREAM_IDLE_SECONDS = 10;

    /**
     * Rows per reconciliation step: links of a few thousand rows run in several steps (the
     * product's 20,000 otherwise; the time-to-link benchmark keeps the product's).
     */
    static final int RECONCILE_STEP_ROWS = Boolean.getBoolean("linkbase.bench.link") ? 20_000 : 2_000;

    private static LinkbaseServices services;

    private Stack() {
    }

    static synchronized LinkbaseServices services() {
        if (services == null) {
            LinkbaseServices.Builder builder = LinkbaseServices.builder(TestServers.postgres(), TestServers.kafka(),
                    TestServers.openSearch())
                .databasePrefix("e2e_")
                .jwtSecret(JWT_SECRET)
                .env("LINKBASE_RATE_LIMIT_RPS", Integer.toString(RATE_PER_SECOND))
                .env("LINKBASE_RATE_LIMIT_BURST", Integer.toString(BURST))
                .env("LINKBASE_SUGGEST_STREAM_IDLE_TIMEOUT", GATEWAY_STREAM_IDLE_SECONDS + "s")
                .env("LINKBASE_RECONCILE_STEP_ROWS", Integer.toString(RECONCILE_STEP_ROWS))
                .env("LINKBASE_RATE_LIMIT_OVERRIDES", BENCH_TENANT + "=1000000:1000000,"
                    + SMALL_PLAN_TENANT + "=1:" + SMALL_PLAN_BURST);
            if (Boolean.getBoolean("linkbase.bench.full-jit")) {
                // Benchmarks measure services as production runs them: C2 on, more heap.
                List<String> args = new ArrayList<>(List.of("-Xms768m", "-Xmx768m", "-XX:+UseSerialGC"));
                // e.g. -Dlinkbase.bench.jvm-args="-XX:StartFlightRecording=filename=/tmp/jfr/" to profile a run
                String extra = System.getProperty("linkbase.bench.jvm-args", "").strip();
                if (!extra.isEmpty()) {
                    args.addAll(List.of(extra.split("\\s+")));
                }
                builder.jvmArgs(args.toArray(String[]::new));
            }
            String logDir = System.getProperty("linkbase.e2e.log-dir", "").strip();
            if (!logDir.isEmpty()) {
                // every line of each service to <dir>/<service>.log, e.g. a benchmark's own timings
                builder.logDir(java.nio.file.Path.of(logDir));
            }
            services = builder.start();
        }
        return services;
    }

    static String gatewayUrl() {
        return "http://127.0.0.1:" + services().httpPort(LinkbaseServices.GATEWAY);
    }

    static int gatewayGrpcPort() {
        return services().grpcPort(LinkbaseServices.GATEWAY);
    }

    static PostgresServer postgres() {
        return TestServers.postgres();
    }

    /** An HS256 JWT as an identity provider would issue it. */
    static String token(String tenant, long expiresInSeconds, String... roles) {
        return io.linkbase.devstack.Tokens.hs256(JWT_SECRET, "e2e", tenant, List.of(roles), java.time.Duration.ofSeconds(expiresInSeconds));
    }

    static String token(String tenant, String... roles) {
        return token(tenant, 3600, roles);
    }

    static String adminToken() {
        return token("platform", "platform-admin");
    }

    static String sign(String content, String secret) {
        return io.linkbase.devstack.Tokens.sign(content, secret);
    }

    /** Reads a service's own database (to check what it did, never to drive it). */
    static List<String> query(LinkbaseServices.Service service, String sql, String... args) throws SQLException {
        PostgresServer pg = postgres();
        try (Connection c = DriverManager.getConnection(pg.jdbcUrl(services().database(service)), pg.user(), pg.password());
             PreparedStatement s = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                s.setString(i + 1, args[i]);
            }
            List<String> rows = new ArrayList<>();
            try (ResultSet rs = s.executeQuery()) {
                while (rs.next()) {
                    rows.add(rs.getString(1));
                }
            }
            return rows;
        }
    }
}
