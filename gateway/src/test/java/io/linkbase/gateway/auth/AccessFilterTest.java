package io.linkbase.gateway.auth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.nimbusds.jwt.JWTClaimsSet;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.linkbase.proto.internal.v1.SchemaServiceGrpc;
import io.linkbase.proto.internal.v1.TenantStatusRequest;
import io.linkbase.proto.internal.v1.TenantStatusResponse;
import io.linkbase.proto.v1.CreateTableRequest;
import io.linkbase.proto.v1.ListTablesRequest;
import io.linkbase.proto.v1.ListTablesResponse;
import io.linkbase.proto.v1.Table;
import io.micronaut.context.ApplicationContext;
import io.micronaut.runtime.server.EmbeddedServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The gateway's HTTP admission (AccessFilter) on its real HTTP server, for both of its paths: the
 * one answered at once on the event loop (a tenant known to be provisioned) and the one that
 * waits for schema-service's TenantStatus on the blocking pool (a tenant not asked about in the
 * last 60 s: the first request of a tenant at a gateway replica that did not provision it, or
 * after a pause). Through the second path a request must reach its route, and every refusal
 * must be a problem+json with its code — never the empty 503 Micronaut answers when a request
 * filter's future completes with null later (what FaultsE2EIT's two-gateway and graceful-stop
 * scenarios met). Schema-service is stood in for by a gRPC server answering only the calls
 * this needs (TenantStatus after a delay, so the admission really completes later; CreateTable,
 * ListTables): the full path with the real services is e2e's (AccessAndErrorsE2EIT, FaultsE2EIT).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AccessFilterTest {
    private static final String SECRET = "0123456789abcdef0123456789abcdef";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final AtomicInteger statusCalls = new AtomicInteger();
    private final HttpClient http = HttpClient.newHttpClient();
    private Server schema;
    private ApplicationContext gateway;
    private URI base;

    @BeforeAll
    void start() throws IOException {
        schema = NettyServerBuilder.forPort(0).addService(new SchemaServiceGrpc.SchemaServiceImplBase() {
            @Override
            public void tenantStatus(TenantStatusRequest request, StreamObserver<TenantStatusResponse> out) {
                statusCalls.incrementAndGet();
                try {
                    Thread.sleep(50); // the admission completes after the filter has returned
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                String tenant = request.getTenantId();
                if (tenant.startsWith("down")) {
                    out.onError(Status.UNAVAILABLE.withDescription("connection refused").asRuntimeException());
                    return;
                }
                out.onNext(TenantStatusResponse.newBuilder().setProvisioned(!tenant.startsWith("new")).build());
                out.onCompleted();
            }

            @Override
            public void createTable(CreateTableRequest request, StreamObserver<Table> out) {
                out.onNext(Table.newBuilder().setId("t-1").setName(request.getName()).setVersion(1).build());
                out.onCompleted();
            }

            @Override
            public void listTables(ListTablesRequest request, StreamObserver<ListTablesResponse> out) {
                out.onNext(ListTablesResponse.newBuilder().addTables(Table.newBuilder().setId("t-1").setName("a")).build());
                out.onCompleted();
            }
        }).build().start();
        try {
            String target = "localhost:" + schema.getPort();
            gateway = ApplicationContext.run(Map.of(
                "micronaut.server.port", -1, "grpc.server.port", freePort(),
                "linkbase.services.schema", target, "linkbase.services.record", target, "linkbase.services.search", target,
                "linkbase.service.secret", SECRET, "linkbase.jwt.secret", SECRET));
            base = gateway.getBean(EmbeddedServer.class).start().getURI();
        } catch (RuntimeException | Error e) {
            stop();
            throw e;
        }
    }

    @AfterAll
    void stop() {
        if (gateway != null) {
            gateway.close();
        }
        if (schema != null) {
            schema.shutdownNow();
        }
    }

    @Test
    void aTenantCheckedOverTheNetworkReachesItsRouteAndOnceKnownIsAnsweredAtOnce() throws Exception {
        int calls = statusCalls.get();
        HttpResponse<String> created = send("POST", "/api/v1/tables", token("acme", "owner"), "{\"name\":\"artist\"}");
        assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
        assertThat(JSON.readTree(created.body()).get("name").asText()).isEqualTo("artist");
        assertThat(statusCalls.get()).as("schema-service asked whether acme is provisioned").isEqualTo(calls + 1);

        HttpResponse<String> again = send("POST", "/api/v1/tables", token("acme", "owner"), "{\"name\":\"album\"}");
        assertThat(again.statusCode()).as(again.body()).isEqualTo(201);
        assertThat(statusCalls.get()).as("known now: not asked again").isEqualTo(calls + 1);

        // a route without a body, for a tenant of its own
        HttpResponse<String> listed = send("GET", "/api/v1/tables", token("globex", "viewer"), null);
        assertThat(listed.statusCode()).as(listed.body()).isEqualTo(200);
        assertThat(JSON.readTree(listed.body()).get("tables")).hasSize(1);
    }

    @Test
    void everyRefusalIsAProblemWithItsCodeWhetherOrNotTheNetworkWasAsked() throws Exception {
        // at once, on the event loop
        assertProblem(send("POST", "/api/v1/tables", null, "{\"name\":\"x\"}"), 401, "unauthorized");
        // after the tenant-status call
        assertProblem(send("POST", "/api/v1/tables", token("newco", "owner"), "{\"name\":\"x\"}"), 403, "tenant_not_provisioned");
        assertProblem(send("POST", "/api/v1/tables", token("initech", "viewer"), "{\"name\":\"x\"}"), 403, "forbidden");
        assertProblem(send("GET", "/api/v1/tables", token("down1", "viewer"), null), 503, "unavailable");
        assertProblem(send("POST", "/api/v1/tables", token("down2", "owner"), "{\"name\":\"x\"}"), 503, "unavailable");
    }

    private static void assertProblem(HttpResponse<String> r, int status, String code) throws IOException {
        assertThat(r.statusCode()).as(r.body()).isEqualTo(status);
        assertThat(r.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("application/problem+json"));
        JsonNode body = JSON.readTree(r.body());
        assertThat(body.get("code").asText()).isEqualTo(code);
        assertThat(body.get("status").asInt()).isEqualTo(status);
    }

    private HttpResponse<String> send(String method, String path, String token, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(base.resolve(path))
            .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        if (body != null) {
            b.header("Content-Type", "application/json");
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static String token(String tenant, String role) throws Exception {
        return JwtVerifierTest.token(SECRET, new JWTClaimsSet.Builder().subject("ada").claim("tenant", tenant)
            .claim("roles", List.of(role)).expirationTime(new Date(System.currentTimeMillis() + 60_000)).build());
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
