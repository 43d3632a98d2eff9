package io.linkbase.e2e;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.linkbase.devstack.LinkbaseServices;
import io.linkbase.devstack.ServiceWiring;
import io.linkbase.kit.grpc.ServiceCredentials;
import io.linkbase.proto.internal.v1.SchemaServiceGrpc;
import io.linkbase.proto.v1.AddColumnRequest;
import io.linkbase.proto.v1.ColumnType;
import io.linkbase.proto.v1.CreateTableRequest;
import io.linkbase.proto.v1.NewColumn;
import io.linkbase.proto.v1.ProvisionTenantRequest;
import io.linkbase.proto.v1.Table;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
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
    private final HttpClient http = HttpClient.newHttpClient();
    private ManagedChannel channel;

    @BeforeAll
    void connect() {
        channel = ServiceCredentials.channel("127.0.0.1:" + Stack.services().grpcPort(LinkbaseServices.SCHEMA),
            ServiceWiring.SERVICE_SECRET, "test").build();
    }

    @AfterAll
    void disconnect() {
        channel.shutdownNow();
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
            assertThat(Stack.query(LinkbaseServices.RECORD,
                "SELECT data_type FROM information_schema.columns WHERE table_schema = ? AND table_name = ?",
                "tenant_" + tenant, physical))
                .containsExactlyInAnyOrder("bigint", "text", "interval", "bigint"));
        // search-service knows the table, by the name the user gave it.
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
            assertThat(Stack.query(LinkbaseServices.SEARCH, "SELECT name FROM known_tables WHERE tenant_id = ? AND table_id = ?",
                tenant, track.getId())).containsExactly("Track"));
        // Each consumer applied both table versions exactly once.
        assertThat(Stack.query(LinkbaseServices.RECORD,
            "SELECT version::text FROM applied_versions WHERE tenant_id = ? AND aggregate_id = ?",
            tenant, track.getId())).containsExactly("2");
    }

    @Test
    void everyServiceServesHealthAndPrometheusMetrics() throws Exception {
        for (LinkbaseServices.Service s : new LinkbaseServices.Service[] {
            LinkbaseServices.SCHEMA, LinkbaseServices.RECORD, LinkbaseServices.SEARCH, LinkbaseServices.GATEWAY}) {
            int port = Stack.services().httpPort(s);
            HttpResponse<String> health = http.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/health")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(health.statusCode()).as(s.name()).isEqualTo(200);
            assertThat(health.body()).contains("\"status\":\"UP\"");
            HttpResponse<String> metrics = http.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + port + "/prometheus")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(metrics.statusCode()).as(s.name()).isEqualTo(200);
            assertThat(metrics.body()).contains("jvm_memory_used_bytes");
        }
    }
}
