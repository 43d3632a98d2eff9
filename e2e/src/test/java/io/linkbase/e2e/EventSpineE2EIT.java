package io.linkbase.e2e;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.linkbase.devstack.ModuleProcess;
import io.linkbase.devstack.PostgresServer;
import io.linkbase.devstack.ServiceWiring;
import io.linkbase.devstack.TestServers;
import io.linkbase.proto.v1.ProvisionTenantRequest;
import io.linkbase.proto.internal.v1.SchemaServiceGrpc;
import io.linkbase.proto.v1.AddColumnRequest;
import io.linkbase.proto.v1.ColumnType;
import io.linkbase.proto.v1.CreateTableRequest;
import io.linkbase.proto.v1.NewColumn;
import io.linkbase.proto.v1.Table;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The event spine end to end, every service in its own JVM as in production: a command through
 * schema-service's gRPC API reaches record-service (which creates the real table) and
 * search-service (which learns the table) through Kafka.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EventSpineE2EIT {
    private final List<ModuleProcess> services = new ArrayList<>();
    private final HttpClient http = HttpClient.newHttpClient();
    private PostgresServer postgres;
    private int schemaGrpc;
    private final List<Integer> httpPorts = new ArrayList<>();
    private ManagedChannel channel;

    @BeforeAll
    void startEverything() {
        postgres = TestServers.postgres();
        schemaGrpc = ServiceWiring.freePort();
        start("schema-service", "io.linkbase.schema.Application", "e2e_schema", schemaGrpc, false);
        start("record-service", "io.linkbase.record.Application", "e2e_record", ServiceWiring.freePort(), false);
        start("search-service", "io.linkbase.search.Application", "e2e_search", ServiceWiring.freePort(), true);
        int gatewayHttp = ServiceWiring.freePort();
        httpPorts.add(gatewayHttp);
        services.add(ModuleProcess.builder("gateway", "io.linkbase.gateway.Application")
            .name("gateway")
            .jvmArgs("-Xmx256m", "-XX:TieredStopAtLevel=1")
            .env("LINKBASE_HTTP_PORT", Integer.toString(gatewayHttp))
            .env("LINKBASE_GRPC_PORT", Integer.toString(ServiceWiring.freePort()))
            .env("LINKBASE_SCHEMA_GRPC", "127.0.0.1:" + schemaGrpc)
            .env("LINKBASE_JWT_SECRET", "e2e-secret-e2e-secret-e2e-secret-0123")
            .readyWhen(ModuleProcess.httpHealthUp("http://127.0.0.1:" + gatewayHttp + "/health"))
            .startTimeout(Duration.ofSeconds(120))
            .start());
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", schemaGrpc).usePlaintext().build();
    }

    private void start(String module, String main, String database, int grpcPort, boolean openSearch) {
        int httpPort = ServiceWiring.freePort();
        httpPorts.add(httpPort);
        ServiceWiring wiring = ServiceWiring.service()
            .database(postgres, database)
            .kafka(TestServers.kafka())
            .httpPort(httpPort)
            .grpcPort(grpcPort);
        if (openSearch) {
            wiring.openSearch(TestServers.openSearch());
        }
        services.add(ModuleProcess.builder(module, main)
            .name(module)
            .jvmArgs("-Xmx256m", "-XX:TieredStopAtLevel=1")
            .env(wiring.environment())
            .readyWhen(ModuleProcess.httpHealthUp("http://127.0.0.1:" + httpPort + "/health"))
            .startTimeout(Duration.ofSeconds(120))
            .start());
    }

    @AfterAll
    void stopEverything() {
        if (channel != null) {
            channel.shutdownNow();
        }
        for (int i = services.size() - 1; i >= 0; i--) {
            services.get(i).close();
        }
    }

    @Test
    void aSchemaCommandReachesEveryServiceThroughKafka() throws Exception {
        String tenant = "e2e-" + UUID.randomUUID().toString().substring(0, 8);
        SchemaServiceGrpc.newBlockingStub(channel)
            .provisionTenant(ProvisionTenantRequest.newBuilder().setTenantId(tenant).build());
        Metadata md = new Metadata();
        md.put(Metadata.Key.of("x-linkbase-tenant", Metadata.ASCII_STRING_MARSHALLER), tenant);
        SchemaServiceGrpc.SchemaServiceBlockingStub api = SchemaServiceGrpc.newBlockingStub(channel)
            .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
            .withDeadlineAfter(30, TimeUnit.SECONDS);

        Table track = api.createTable(CreateTableRequest.newBuilder().setName("Track")
            .addColumns(NewColumn.newBuilder().setName("Title")).build());
        api.addColumn(AddColumnRequest.newBuilder().setTableId(track.getId())
            .setColumn(NewColumn.newBuilder().setName("Length").setType(ColumnType.DURATION)).build());

        // record-service made a real table with the primary key, both columns and the row version.
        String physical = "t_" + track.getId().replace("-", "");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
            assertThat(query("e2e_record",
                "SELECT data_type FROM information_schema.columns WHERE table_schema = ? AND table_name = ?",
                "tenant_" + tenant, physical))
                .containsExactlyInAnyOrder("bigint", "text", "interval", "bigint"));
        // search-service knows the table, by the name the user gave it.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
            assertThat(query("e2e_search", "SELECT name FROM known_tables WHERE tenant_id = ? AND table_id = ?",
                tenant, track.getId())).containsExactly("Track"));
        // Each consumer applied both table versions exactly once.
        assertThat(query("e2e_record", "SELECT version::text FROM applied_versions WHERE tenant_id = ? AND aggregate_id = ?",
            tenant, track.getId())).containsExactly("2");
    }

    @Test
    void everyServiceServesHealthAndPrometheusMetrics() throws Exception {
        for (int port : httpPorts) {
            HttpResponse<String> health = http.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/health")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).isEqualTo(200);
            assertThat(health.body()).contains("\"status\":\"UP\"");
            HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/prometheus")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(metrics.statusCode()).isEqualTo(200);
            assertThat(metrics.body()).contains("jvm_memory_used_bytes");
        }
    }

    private List<String> query(String database, String sql, String... args) throws Exception {
        try (Connection c = DriverManager.getConnection(postgres.jdbcUrl(database), postgres.user(), postgres.password());
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
