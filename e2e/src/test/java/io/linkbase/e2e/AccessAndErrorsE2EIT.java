package io.linkbase.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.stub.MetadataUtils;
import io.linkbase.devstack.KafkaServer;
import io.linkbase.devstack.LinkbaseServices;
import io.linkbase.devstack.PostgresServer;
import io.linkbase.devstack.ServiceWiring;
import io.linkbase.devstack.TestServers;
import io.linkbase.kit.events.Topics;
import io.linkbase.kit.grpc.ServiceCredentials;
import io.linkbase.kit.grpc.Tenants;
import io.linkbase.proto.internal.v1.RecordServiceGrpc;
import io.linkbase.proto.internal.v1.SchemaServiceGrpc;
import io.linkbase.proto.v1.GetRecordRequest;
import io.linkbase.proto.v1.ListTablesRequest;
import io.linkbase.proto.v1.ProvisionTenantRequest;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.SaslConfigs;
import org.apache.kafka.common.errors.SaslAuthenticationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.Socket;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collections;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static io.linkbase.e2e.UserStoryHttpE2EIT.columnId;
import static io.linkbase.e2e.UserStoryHttpE2EIT.created;
import static io.linkbase.e2e.UserStoryHttpE2EIT.ok;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Authentication, tenants, roles and the error model of API.md, through the public HTTP API. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AccessAndErrorsE2EIT {
    private String tenantA;
    private String tenantB;
    private Api ownerA;
    private JsonNode table;
    private long recordId;

    @BeforeAll
    void provision() {
        tenantA = "acc-a-" + UUID.randomUUID().toString().substring(0, 8);
        tenantB = "acc-b-" + UUID.randomUUID().toString().substring(0, 8);
        Api admin = new Api(Stack.adminToken());
        created(admin.put("/api/v1/tenants/" + tenantA, null));
        created(admin.put("/api/v1/tenants/" + tenantB, null));
        ownerA = new Api(Stack.token(tenantA, "owner"));
        table = created(ownerA.post("/api/v1/tables", "{\"name\":\"Artist\",\"columns\":[{\"name\":\"Name\"}]}"));
        recordId = created(ownerA.post("/api/v1/tables/" + table.get("id").asText() + "/records",
            "{\"values\":{\"" + columnId(table, "Name") + "\":\"Nina\"}}")).get("id").asLong();
    }

    @Test
    void anotherTenantsIdsAreSimplyNotFoundEverywhere() {
        Api ownerB = new Api(Stack.token(tenantB, "owner"));
        String t = "/api/v1/tables/" + table.get("id").asText();
        String c = t + "/columns/" + columnId(table, "Name");
        assertProblem(ownerB.get(t), 404, "not_found");
        assertProblem(ownerB.patch(t, "{\"name\":\"Mine\"}"), 404, "not_found");
        assertProblem(ownerB.delete(t), 404, "not_found");
        assertProblem(ownerB.get(t + "/events"), 404, "not_found");
        assertProblem(ownerB.post(t + "/columns", "{}"), 404, "not_found");
        assertProblem(ownerB.get(t + "/records/" + recordId), 404, "not_found");
        assertProblem(ownerB.get(t + "/records"), 404, "not_found");
        assertProblem(ownerB.delete(t + "/records/" + recordId), 404, "not_found");
        assertProblem(ownerB.get(c + "/link-candidates"), 404, "not_found");
        assertProblem(ownerB.get(c + "/suggestions?q=n"), 404, "not_found");
        assertThat(ok(ownerB.get("/api/v1/tables")).get("tables")).isEmpty();
        // and nothing changed for tenant A
        assertThat(ok(ownerA.get(t)).get("name").asText()).isEqualTo("Artist");
        assertThat(ok(ownerA.get(t + "/records/" + recordId)).get("id").asLong()).isEqualTo(recordId);
    }

    @Test
    void rolesAndTokensAreEnforced() {
        String tables = "/api/v1/tables";
        String records = tables + "/" + table.get("id").asText() + "/records";
        Api viewer = new Api(Stack.token(tenantA, "viewer"));
        Api editor = new Api(Stack.token(tenantA, "editor"));
        assertThat(viewer.get(tables).status()).isEqualTo(200);
        assertProblem(viewer.post(tables, "{\"name\":\"Nope\"}"), 403, "forbidden");
        assertProblem(viewer.post(records, "{\"values\":{}}"), 403, "forbidden");
        assertThat(editor.post(records, "{\"values\":{}}").status()).isEqualTo(201);
        assertProblem(editor.post(tables, "{\"name\":\"Nope\"}"), 403, "forbidden");
        assertProblem(new Api(Stack.adminToken()).get(tables), 403, "forbidden");
        assertProblem(ownerA.put("/api/v1/tenants/someone", null), 403, "forbidden");
        assertProblem(new Api(null).get(tables), 401, "unauthorized");
        assertProblem(new Api("not-a-jwt").get(tables), 401, "unauthorized");
        assertProblem(new Api(Stack.token(tenantA, -10, "owner")).get(tables), 401, "unauthorized");
        String forged = Stack.token(tenantA, "owner");
        forged = forged.substring(0, forged.lastIndexOf('.') + 1) + Stack.sign("x", "another-secret-another-secret-00000");
        assertProblem(new Api(forged).get(tables), 401, "unauthorized");
        assertProblem(new Api(Stack.token("never-provisioned", "owner")).get(tables), 403, "tenant_not_provisioned");
        // the same checks on the non-blocking autocomplete path (answered at once, or after a backend call)
        String suggestions = tables + "/" + table.get("id").asText() + "/columns/" + columnId(table, "Name") + "/suggestions?q=a";
        assertProblem(new Api(null).get(suggestions), 401, "unauthorized");
        assertProblem(new Api(Stack.token("never-provisioned", "owner")).get(suggestions), 403, "tenant_not_provisioned");
        assertProblem(new Api(Stack.adminToken()).get(suggestions), 403, "forbidden");
        assertProblem(viewer.get(suggestions + "&limit=51"), 400, "validation_failed");
        assertThat(ok(ownerA.get(tables)).get("tables")).extracting(n -> n.get("name").asText()).containsExactly("Artist");
    }

    @Test
    void badInputIsAClearProblemAndChangesNothing() {
        String tables = "/api/v1/tables";
        String t = tables + "/" + table.get("id").asText();
        long version = ok(ownerA.get(t)).get("version").asLong();
        Api.Response malformed = ownerA.post(tables, "{\"name\":");
        assertProblem(malformed, 400, "validation_failed");
        assertThat(malformed.header("Content-Type")).startsWith("application/problem+json");
        assertThat(malformed.body().get("status").asInt()).isEqualTo(400);
        assertProblem(ownerA.post(tables, "[]"), 400, "validation_failed");
        Api.Response wrongType = ownerA.post(tables, "{\"name\":42}");
        assertProblem(wrongType, 400, "validation_failed");
        assertThat(wrongType.body().get("errors").get(0).get("field").asText()).isEqualTo("name");
        assertProblem(ownerA.post(tables, "{\"name\":\"X\",\"colour\":\"red\"}"), 400, "validation_failed");
        assertProblem(ownerA.post(tables, "{\"name\":\"X\",\"columns\":[{\"name\":\"c\",\"type\":\"money\"}]}"), 400, "validation_failed");
        assertProblem(ownerA.post(tables, "{\"name\":\"" + "x".repeat(121) + "\"}"), 400, "validation_failed");
        assertProblem(ownerA.post(tables, "{\"name\":\"artist\"}"), 409, "conflict");
        assertProblem(ownerA.send("PATCH", t, "{\"name\":\"Renamed\"}", "\"" + (version + 5) + "\""), 409, "version_conflict");
        assertProblem(ownerA.send("PATCH", t, "{\"name\":\"Renamed\"}", "not-a-version"), 400, "validation_failed");
        assertProblem(ownerA.post(t + "/records", "{\"values\":{\"" + columnId(table, "Name") + "\":7}}"), 400, "validation_failed");
        assertProblem(ownerA.post(t + "/records", "{\"values\":{\"nope\":\"x\"}}"), 400, "validation_failed");
        assertProblem(ownerA.get(t + "/records?limit=0"), 400, "validation_failed");
        assertProblem(ownerA.get(t + "/records?limit=1001"), 400, "validation_failed");
        assertProblem(ownerA.get(t + "/records/abc"), 404, "not_found");
        assertProblem(ownerA.delete(t + "/columns/" + table.get("primaryKeyColumnId").asText()), 400, "validation_failed");
        assertProblem(ownerA.get("/api/v1/nothing-here"), 404, "not_found");
        // over the batch body limit of 16 MiB (docs/limits.md): 9,000 records of about 1.9 KB
        String huge = "{\"records\":[" + ("{\"values\":{\"" + columnId(table, "Name") + "\":\"" + "y".repeat(1900) + "\"}},").repeat(9000) + "{}]}";
        assertProblem(ownerA.post(t + "/records/batch", huge), 413, "payload_too_large");
        JsonNode after = ok(ownerA.get(t));
        assertThat(after.get("version").asLong()).isEqualTo(version);
        assertThat(after.get("name").asText()).isEqualTo("Artist");
    }

    @Test
    void deletingAReferencedRecordFollowsTheLinksOnDeleteAction() {
        Api owner = ownerA;
        JsonNode label = created(owner.post("/api/v1/tables", "{\"name\":\"Label\",\"columns\":[{\"name\":\"Name\"}]}"));
        JsonNode album = created(owner.post("/api/v1/tables", "{\"name\":\"Album\",\"columns\":[{\"name\":\"Label\"}]}"));
        String labelT = "/api/v1/tables/" + label.get("id").asText();
        String albumT = "/api/v1/tables/" + album.get("id").asText();
        long warp = created(owner.post(labelT + "/records", "{\"values\":{\"" + columnId(label, "Name") + "\":\"Warp\"}}")).get("id").asLong();
        String labelCol = columnId(album, "Label");
        long record = created(owner.post(albumT + "/records", "{\"values\":{\"" + labelCol + "\":\"" + warp + "\"}}")).get("id").asLong();
        assertThat(owner.put(albumT + "/columns/" + labelCol + "/link?wait=30",
            "{\"targetTableId\":\"" + label.get("id").asText() + "\",\"onDelete\":\"RESTRICT\"}").status()).isEqualTo(200);
        assertProblem(owner.delete(labelT + "/records/" + warp), 409, "restricted_by_link");
        assertProblem(owner.delete(labelT), 409, "link_target_in_use");
        assertThat(ok(owner.get(albumT + "/records/" + record)).get("values").get(labelCol).asLong()).isEqualTo(warp);
        assertProblem(owner.put(albumT + "/columns/" + labelCol + "/link", "{\"targetTableId\":\"" + label.get("id").asText() + "\"}"),
            409, "conflict");
    }

    /**
     * Tenants this gateway has not seen (provisioned behind its back, as by another replica, or out
     * of its 60 s cache): their first request waits for the gateway's tenant-status call to
     * schema-service and must then reach its route. A request filter that completed with "go on"
     * only after that call answered an empty 503 instead (docs/decisions.md, "A request filter
     * never completes with null").
     */
    @Test
    void aTenantTheGatewayHasNotSeenReachesItsRouteOnItsFirstRequest() {
        String writer = "acc-c-" + UUID.randomUUID().toString().substring(0, 8);
        String reader = "acc-d-" + UUID.randomUUID().toString().substring(0, 8);
        ManagedChannel signed = ServiceCredentials.channel("127.0.0.1:" + Stack.services().grpcPort(LinkbaseServices.SCHEMA),
            ServiceWiring.SERVICE_SECRET, "test").build();
        try {
            for (String tenant : List.of(writer, reader)) {
                SchemaServiceGrpc.newBlockingStub(signed).withInterceptors(headers(tenant, null))
                    .withDeadlineAfter(30, TimeUnit.SECONDS)
                    .provisionTenant(ProvisionTenantRequest.newBuilder().setTenantId(tenant).build());
            }
        } finally {
            signed.shutdownNow();
        }
        JsonNode made = created(new Api(Stack.token(writer, "owner")).post("/api/v1/tables", "{\"name\":\"First\"}"));
        assertThat(made.get("name").asText()).isEqualTo("First");
        assertThat(ok(new Api(Stack.token(reader, "viewer")).get("/api/v1/tables")).get("tables")).isEmpty();
    }

    @Test
    void aTenantOverItsRateLimitGets429WithRetryAfter() {
        String tenant = Stack.SMALL_PLAN_TENANT;
        assertThat(new Api(Stack.adminToken()).put("/api/v1/tenants/" + tenant, null).status()).isIn(200, 201);
        Api busy = new Api(Stack.token(tenant, "viewer"));
        Api.Response limited = null;
        for (int i = 0; i < Stack.SMALL_PLAN_BURST * 3 && limited == null; i++) {
            Api.Response r = busy.get("/api/v1/tables");
            if (r.status() == 429) {
                limited = r;
            }
        }
        assertThat(limited).as("a 429 within three bursts of a 1 request/s plan").isNotNull();
        assertThat(limited.code()).isEqualTo("rate_limited");
        assertThat(Long.parseLong(limited.header("Retry-After"))).isPositive();
        // Other tenants are not affected.
        assertThat(ownerA.get("/api/v1/tables").status()).isEqualTo(200);
    }

    /**
     * The services' own gRPC ports trust only calls signed with the service secret: no credential,
     * a credential from another secret, or a valid one beside a forged tenant header is refused
     * UNAUTHENTICATED and reads nothing; the same call signed for the tenant reads the record.
     */
    @Test
    void internalServicesRefuseCallsWithoutValidServiceCredentials() throws InterruptedException {
        int recordPort = Stack.services().grpcPort(LinkbaseServices.RECORD);
        int schemaPort = Stack.services().grpcPort(LinkbaseServices.SCHEMA);
        GetRecordRequest get = GetRecordRequest.newBuilder().setTableId(table.get("id").asText()).setRecordId(recordId).build();
        ManagedChannel plain = ManagedChannelBuilder.forAddress("127.0.0.1", recordPort).usePlaintext().build();
        ManagedChannel schemaPlain = ManagedChannelBuilder.forAddress("127.0.0.1", schemaPort).usePlaintext().build();
        ManagedChannel stranger = ServiceCredentials.channel("127.0.0.1:" + recordPort,
            "not-the-deployments-secret-" + UUID.randomUUID(), "gateway").build();
        ManagedChannel signed = ServiceCredentials.channel("127.0.0.1:" + recordPort, ServiceWiring.SERVICE_SECRET, "test")
            .build();
        try {
            // only a tenant header, as any process on the network could send
            assertUnauthenticated(() -> RecordServiceGrpc.newBlockingStub(plain).withInterceptors(headers(tenantA, null))
                .getRecord(get));
            assertUnauthenticated(() -> SchemaServiceGrpc.newBlockingStub(schemaPlain).withInterceptors(headers(tenantA, null))
                .listTables(ListTablesRequest.getDefaultInstance()));
            // signed with another secret
            assertUnauthenticated(() -> RecordServiceGrpc.newBlockingStub(stranger).withInterceptors(headers(tenantA, null))
                .getRecord(get));
            // a valid credential for tenant B, with tenant A's id in the tenant header
            String forB = new ServiceCredentials(ServiceWiring.SERVICE_SECRET, "gateway")
                .mint(tenantB, System.currentTimeMillis() / 1000);
            assertUnauthenticated(() -> RecordServiceGrpc.newBlockingStub(plain).withInterceptors(headers(tenantA, forB))
                .getRecord(get));
            // the same call, signed for tenant A: the service works, it only refused the callers above
            assertThat(RecordServiceGrpc.newBlockingStub(signed).withInterceptors(headers(tenantA, null))
                .withDeadlineAfter(30, TimeUnit.SECONDS).getRecord(get).getId()).isEqualTo(recordId);
            // and the health service (the Kubernetes probe) needs no credential
            assertThat(HealthGrpc.newBlockingStub(plain).withDeadlineAfter(10, TimeUnit.SECONDS)
                .check(HealthCheckRequest.getDefaultInstance()).getStatus().name()).isEqualTo("SERVING");
        } finally {
            for (ManagedChannel c : new ManagedChannel[] {plain, schemaPlain, stranger, signed}) {
                c.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    /**
     * The broker takes only clients that log in (SASL/SCRAM): a producer without credentials, or
     * with a wrong password, writes nothing to the services' topics (it could otherwise forge
     * another tenant's TableDeleted), while the services, logged in, keep working.
     */
    @Test
    void kafkaRefusesClientsWithoutCredentials() throws Exception {
        KafkaServer kafka = TestServers.kafka();
        assertThat(kafka.username()).as("the e2e broker must want logins").isNotNull();
        TopicPartition partition = new TopicPartition(Topics.SCHEMA, 0);
        long before;
        try (KafkaConsumer<byte[], byte[]> reader = reader(kafka.clientProperties())) {
            before = reader.endOffsets(List.of(partition)).get(partition);
        }
        byte[] forged = ("forged-" + UUID.randomUUID()).getBytes(java.nio.charset.StandardCharsets.UTF_8);

        Properties anonymous = new Properties();
        anonymous.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        assertThatThrownBy(() -> produce(anonymous, partition, forged)).hasRootCauseInstanceOf(TimeoutException.class);

        Properties wrongPassword = kafka.clientProperties();
        wrongPassword.put(SaslConfigs.SASL_JAAS_CONFIG, "org.apache.kafka.common.security.scram.ScramLoginModule required"
            + " username=\"" + kafka.username() + "\" password=\"not-" + kafka.password() + "\";");
        assertThatThrownBy(() -> produce(wrongPassword, partition, forged))
            .hasRootCauseInstanceOf(SaslAuthenticationException.class);

        // nothing of ours reached the topic
        try (KafkaConsumer<byte[], byte[]> reader = reader(kafka.clientProperties())) {
            reader.assign(List.of(partition));
            reader.seek(partition, before);
            long end = reader.endOffsets(List.of(partition)).get(partition);
            while (reader.position(partition) < end) {
                for (ConsumerRecord<byte[], byte[]> r : reader.poll(java.time.Duration.ofSeconds(1))) {
                    assertThat(r.value()).isNotEqualTo(forged);
                }
            }
        }
        // and the services, which log in, still pass events on: record-service learns of a new table
        // from schema-service's TableCreated and takes records in it
        JsonNode other = created(ownerA.post("/api/v1/tables", "{\"name\":\"Broker\",\"columns\":[{\"name\":\"Name\"}]}"));
        String records = "/api/v1/tables/" + other.get("id").asText() + "/records";
        long id = created(ownerA.post(records, "{\"values\":{\"" + columnId(other, "Name") + "\":\"Kafka\"}}"))
            .get("id").asLong();
        assertThat(ok(ownerA.get(records + "/" + id)).toString()).contains("Kafka");
    }

    /**
     * Each service connects to PostgreSQL as a role of its own that owns its database: not a
     * superuser, and refused by the other services' databases.
     */
    @Test
    void eachServiceConnectsAsARoleThatReachesOnlyItsOwnDatabase() throws Exception {
        PostgresServer pg = TestServers.postgres();
        for (LinkbaseServices.Service s : LinkbaseServices.BACKENDS) {
            String db = Stack.services().database(s);
            // the service's open connections (its pool) are its role's, not the superuser's
            assertThat(Stack.query(s, "SELECT DISTINCT usename FROM pg_stat_activity WHERE datname = current_database()"
                + " AND pid <> pg_backend_pid()")).as(s.name()).containsExactly(db);
            String password = pg.createOwnedDatabase(db); // the role's password (set once per JVM)
            try (Connection own = DriverManager.getConnection(pg.jdbcUrl(db), db, password);
                 Statement st = own.createStatement();
                 ResultSet rs = st.executeQuery("SELECT rolsuper, rolcreaterole, rolcreatedb FROM pg_roles WHERE rolname = current_user")) {
                assertThat(rs.next()).isTrue();
                assertThat(List.of(rs.getBoolean(1), rs.getBoolean(2), rs.getBoolean(3))).as(s.name())
                    .containsOnly(false);
            }
            for (LinkbaseServices.Service other : LinkbaseServices.BACKENDS) {
                if (other != s) {
                    assertThatThrownBy(() -> DriverManager.getConnection(pg.jdbcUrl(Stack.services().database(other)), db, password)
                        .close()).as(s.name() + " into " + other.name()).isInstanceOfSatisfying(SQLException.class,
                            e -> assertThat(e.getSQLState()).isEqualTo("42501")); // insufficient_privilege: no CONNECT
                }
            }
        }
    }

    private static void produce(Properties client, TopicPartition partition, byte[] value) throws Exception {
        client.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, "5000");
        client.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, "5000");
        client.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, "4000");
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(client, new ByteArraySerializer(),
            new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(partition.topic(), partition.partition(), value, value))
                .get(30, TimeUnit.SECONDS);
        }
    }

    private static KafkaConsumer<byte[], byte[]> reader(Properties client) {
        client.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
        return new KafkaConsumer<>(client, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    /** The services listen on the loopback interface only: another host cannot reach them at all. */
    @Test
    void internalPortsListenOnLoopbackOnly() throws IOException {
        InetAddress external = null;
        for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (nif.isUp() && !nif.isLoopback()) {
                for (InetAddress a : Collections.list(nif.getInetAddresses())) {
                    if (a instanceof Inet4Address) {
                        external = a;
                    }
                }
            }
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(external != null, "this machine has no non-loopback IPv4 address");
        for (LinkbaseServices.Service s : new LinkbaseServices.Service[] {
            LinkbaseServices.SCHEMA, LinkbaseServices.RECORD, LinkbaseServices.SEARCH}) {
            for (int port : new int[] {Stack.services().grpcPort(s), Stack.services().httpPort(s)}) {
                InetAddress target = external;
                assertThatThrownBy(() -> {
                    try (Socket socket = new Socket()) {
                        socket.connect(new InetSocketAddress(target, port), 2000);
                    }
                }).as(s.name() + " port " + port + " on " + target).isInstanceOf(IOException.class);
            }
        }
    }

    private static io.grpc.ClientInterceptor headers(String tenant, String serviceToken) {
        Metadata md = new Metadata();
        md.put(Tenants.METADATA_KEY, tenant);
        if (serviceToken != null) {
            md.put(ServiceCredentials.METADATA_KEY, serviceToken);
        }
        return MetadataUtils.newAttachHeadersInterceptor(md);
    }

    private static void assertUnauthenticated(Runnable call) {
        assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class,
            e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
    }

    static void assertProblem(Api.Response r, int status, String code) {
        assertThat(r.status()).as(r.toString()).isEqualTo(status);
        assertThat(r.code()).as(r.toString()).isEqualTo(code);
    }
}
