package io.linkbase.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.MetadataUtils;
import io.linkbase.kit.grpc.ApiException;
import io.linkbase.proto.v1.CreateRecordRequest;
import io.linkbase.proto.v1.LinkbaseGrpc;
import io.linkbase.proto.v1.Value;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static io.linkbase.e2e.UserStoryHttpE2EIT.columnId;
import static io.linkbase.e2e.UserStoryHttpE2EIT.created;
import static io.linkbase.e2e.UserStoryHttpE2EIT.ok;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The limits of docs/limits.md against the whole system: every request over a limit gets its
 * documented 4xx with a code, the problem names the field and the figures, and nothing changes.
 * (Tables per tenant is tested on schema-service with the limit configured low: TablesPerTenantIT;
 * column slots used by dropped columns in TableAggregateTest.)
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LimitsE2EIT {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private String tenant;
    private Api owner;
    private JsonNode table;
    private String tableId;
    private String text;
    private String number;
    private String records;

    @BeforeAll
    void provision() {
        tenant = "limits-" + UUID.randomUUID().toString().substring(0, 8);
        created(new Api(Stack.adminToken()).put("/api/v1/tenants/" + tenant, null));
        owner = new Api(Stack.token(tenant, "owner"));
        table = created(owner.post("/api/v1/tables",
            "{\"name\":\"Notes\",\"columns\":[{\"name\":\"Text\"},{\"name\":\"Amount\",\"type\":\"number\"},"
                + "{\"name\":\"Count\",\"type\":\"integer\"}]}"));
        tableId = table.get("id").asText();
        text = columnId(table, "Text");
        number = columnId(table, "Amount");
        records = "/api/v1/tables/" + tableId + "/records";
    }

    @Test
    void aTextValueOver64KiBIsRefusedAndNothingIsWritten() {
        String big = "x".repeat(1_200_000);
        // inside a batch (16 MiB body): the value's own limit, naming the field
        Api.Response batch = owner.post(records + "/batch",
            "{\"records\":[{\"values\":{\"" + text + "\":\"ok\"}},{\"values\":{\"" + text + "\":\"" + big + "\"}}]}");
        assertLimit(batch, 400, "records[1].values." + text, "65536", "1200000");
        // in a single record (1 MiB body): refused as a body before it is read
        Api.Response single = owner.post(records, "{\"values\":{\"" + text + "\":\"" + big + "\"}}");
        assertThat(single.status()).as(single.toString()).isEqualTo(413);
        assertThat(single.code()).isEqualTo("payload_too_large");
        assertThat(single.header("Content-Type")).startsWith("application/problem+json");
        // a value just over the limit in a body that fits
        assertLimit(owner.post(records, "{\"values\":{\"" + text + "\":\"" + "é".repeat(32_769) + "\"}}"),
            400, "values." + text, "65536", "65538");
        // a record over 256 KiB in total: five text columns of 60,000 bytes
        StringBuilder wide = new StringBuilder("{\"name\":\"Wide\",\"columns\":[");
        for (int i = 0; i < 5; i++) {
            wide.append(i == 0 ? "" : ",").append("{\"name\":\"T").append(i).append("\"}");
        }
        JsonNode wideTable = created(owner.post("/api/v1/tables", wide.append("]}").toString()));
        StringBuilder values = new StringBuilder("{\"values\":{");
        for (int i = 0; i < 5; i++) {
            values.append(i == 0 ? "" : ",").append('"').append(columnId(wideTable, "T" + i)).append("\":\"")
                .append("y".repeat(60_000)).append('"');
        }
        String wideRecords = "/api/v1/tables/" + wideTable.get("id").asText() + "/records";
        assertLimit(owner.post(wideRecords, values.append("}}").toString()), 400, "values", "262144");
        // nothing was written
        assertThat(ok(owner.get(records)).get("records")).isEmpty();
        assertThat(ok(owner.get(wideRecords)).get("records")).isEmpty();
    }

    @Test
    void aHugeNumberIsRefusedCheaplyAndTheGatewayStillAnswers() {
        for (String n : new String[] {"1e999999999", "-1e999999999", "1e-999999999", "1e21"}) {
            assertLimit(owner.post(records + "/batch", "{\"records\":[{\"values\":{\"" + number + "\":" + n + "}}]}"),
                400, "records[0].values." + number);
            assertLimit(owner.post(records, "{\"values\":{\"" + number + "\":" + n + "}}"), 400, "values." + number);
        }
        assertLimit(owner.post(records, "{\"values\":{\"" + columnId(table, "Count") + "\":9223372036854775808}}"),
            400, "values." + columnId(table, "Count"), "64 bits");
        // the gateway is alive and well, and nothing was written
        assertThat(ok(owner.get("/api/v1/tables/" + tableId)).get("id").asText()).isEqualTo(tableId);
        Api.Response fine = owner.post(records, "{\"values\":{\"" + number + "\":123456789012345678901.5}}");
        assertThat(fine.status()).as(fine.toString()).isEqualTo(201);
        assertThat(owner.delete(records + "/" + fine.body().get("id").asLong()).status()).isEqualTo(204);
        // the largest number inside the limits comes back exactly (read as text: the test client reads doubles)
        assertThat(fine.raw().body()).contains("\"" + number + "\":123456789012345678901.5");
    }

    @Test
    void aTableOfMoreThan1000ColumnsIsRefusedAtCreateAndAtTheLiveLimit() {
        int tablesBefore = ok(owner.get("/api/v1/tables")).get("tables").size();
        assertLimit(owner.post("/api/v1/tables", createBody("Too wide", 1_600)), 409, "columns", "at most 1000 columns", "1601");
        // 25,000 columns (about 450 KB): refused the same way, whatever the body limit says first
        Api.Response huge = owner.post("/api/v1/tables", createBody("Huge", 25_000));
        assertLimit(huge, 409, "columns", "25001");
        assertThat(ok(owner.get("/api/v1/tables")).get("tables")).hasSize(tablesBefore);

        // grow column by column to the limit: 990 at create, then one at a time
        JsonNode wide = created(owner.post("/api/v1/tables", createBody("Growing", 990)));
        String columns = "/api/v1/tables/" + wide.get("id").asText() + "/columns";
        for (int i = 0; i < 9; i++) {
            created(owner.post(columns, "{}"));
        }
        JsonNode full = ok(owner.get("/api/v1/tables/" + wide.get("id").asText()));
        assertThat(full.get("columns")).hasSize(1_000);
        assertLimit(owner.post(columns, "{}"), 409, "columns", "at most 1000 columns", "this table has 1000");
        JsonNode after = ok(owner.get("/api/v1/tables/" + wide.get("id").asText()));
        assertThat(after.get("version").asLong()).isEqualTo(full.get("version").asLong());
        // dropping one makes room again
        String dropped = full.get("columns").get(1).get("id").asText();
        assertThat(owner.delete(columns + "/" + dropped).status()).isEqualTo(204);
        created(owner.post(columns, "{}"));
        // and record-service made the physical table: a record can be written in it
        created(owner.post("/api/v1/tables/" + wide.get("id").asText() + "/records",
            "{\"values\":{\"" + full.get("columns").get(2).get("id").asText() + "\":\"written\"}}"));
    }

    @Test
    void aBatchBodyOver16MiBGetsAProblemTheClientCanRead() throws Exception {
        String body = batchBody(10_000, 1_700); // about 17.4 MB
        assertThat(body.length()).isGreaterThan(16 * 1024 * 1024);
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(Stack.gatewayUrl() + records + "/batch"))
            .timeout(Duration.ofSeconds(60))
            .header("Content-Type", "application/json").header("Authorization", "Bearer " + Stack.token(tenant, "editor"))
            .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).isEqualTo(413);
        assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("application/problem+json");
        assertThat(r.body()).contains("\"code\":\"payload_too_large\"", "16777216");
        // a body over 1 MiB elsewhere
        Api.Response tooBig = owner.post("/api/v1/tables", "{\"name\":\"" + "n".repeat(1_100_000) + "\"}");
        assertThat(tooBig.status()).as(tooBig.toString()).isEqualTo(413);
        assertThat(tooBig.code()).isEqualTo("payload_too_large");
        assertThat(tooBig.body().get("detail").asText()).contains("1048576");
        assertThat(ok(owner.get(records)).get("records")).isEmpty();
    }

    /**
     * A request whose head is over the server's limits (a 100,000-character query) is answered 413
     * and its connection closed, since the rest of what arrives on it cannot be read: the answer
     * must say {@code Connection: close}, or a client keeps the connection for its next request,
     * which then fails unanswered (seen in CI: a POST after such a GET got "header parser received
     * no bytes"; a client retries only idempotent requests).
     */
    @Test
    void aRequestWhoseHeadIsTooLargeIsAnswered413AndTheConnectionClosedOpenly() throws Exception {
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        String auth = "Bearer " + Stack.token(tenant, "editor");
        String ownRecords = "/api/v1/tables/" + created(owner.post("/api/v1/tables",
            "{\"name\":\"Heads\",\"columns\":[{\"name\":\"Text\"}]}")).get("id").asText() + "/records";
        for (String path : List.of("/api/v1/tables/" + tableId + "/columns/" + text + "/suggestions?q=" + "q".repeat(100_000),
            "/api/v1/tables/" + tableId + "/columns/" + "c".repeat(10_000) + "/suggestions?q=x")) {
            HttpResponse<String> refused = client.send(HttpRequest.newBuilder(URI.create(Stack.gatewayUrl() + path))
                .timeout(Duration.ofSeconds(30)).header("Authorization", auth).GET().build(), HttpResponse.BodyHandlers.ofString());
            assertThat(refused.statusCode()).isEqualTo(413);
            assertThat(refused.body()).contains("\"code\":\"payload_too_large\"");
            assertThat(refused.headers().firstValue("connection")).as(refused.headers().map().toString()).hasValue("close");
            // the same client's next request, a POST (never retried by a client), is answered
            HttpResponse<String> next = client.send(HttpRequest.newBuilder(URI.create(Stack.gatewayUrl() + ownRecords))
                .timeout(Duration.ofSeconds(30)).header("Authorization", auth).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"values\":{}}")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(next.statusCode()).as(next.body()).isEqualTo(201);
        }
    }

    @Test
    void aValidNineMegabyteBatchIsAccepted() {
        JsonNode t = created(owner.post("/api/v1/tables", "{\"name\":\"Import\",\"columns\":[{\"name\":\"Text\"}]}"));
        String body = batchBody(10_000, 850, columnId(t, "Text"));
        assertThat(body.length()).isGreaterThan(9_000_000);
        Api.Response r = owner.post("/api/v1/tables/" + t.get("id").asText() + "/records/batch", body);
        assertThat(r.status()).as(r.status() + " " + r.raw().body().substring(0, Math.min(500, r.raw().body().length())))
            .isEqualTo(201);
        assertThat(r.body().get("ids")).hasSize(10_000);
    }

    @Test
    void malformedIdsAreNotFoundAndLongQueriesAreRefused() {
        String c = "/columns/" + text;
        assertProblem(owner.get("/api/v1/tables/not-a-uuid"), 404, "not_found");
        assertProblem(owner.get("/api/v1/tables/" + "a".repeat(2_000)), 404, "not_found");
        assertProblem(owner.get("/api/v1/tables/" + tableId + "/columns/nope/link"), 404, "not_found");
        assertProblem(owner.get(records + "/99999999999999999999"), 404, "not_found");
        assertLimit(owner.get("/api/v1/tables/" + tableId + c + "/suggestions?q=" + "a".repeat(201)), 400, "q", "200", "201");
        assertLimit(owner.post("/api/v1/tables/" + tableId + c + "/suggestions", "{\"text\":\"" + "z".repeat(70_000) + "\"}"),
            400, "text", "65536");
        assertLimit(owner.post(records, "{\"values\":" + "[".repeat(50) + "]".repeat(50) + "}"), 400, "body", "32");
    }

    @Test
    void thePublicGrpcApiChecksTheSameValueLimits() {
        ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", Stack.gatewayGrpcPort()).usePlaintext()
            .maxInboundMessageSize(32 * 1024 * 1024).build();
        try {
            Metadata md = new Metadata();
            md.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + Stack.token(tenant, "editor"));
            LinkbaseGrpc.LinkbaseBlockingStub api = LinkbaseGrpc.newBlockingStub(channel).withDeadlineAfter(60, TimeUnit.SECONDS)
                .withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
            assertThatThrownBy(() -> api.createRecord(CreateRecordRequest.newBuilder().setTableId(tableId)
                .putValues(text, Value.newBuilder().setText("x".repeat(1_200_000)).build()).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                    assertThat(ApiException.infoOf(e).getCode()).isEqualTo("limit_exceeded");
                    assertThat(ApiException.infoOf(e).getErrors(0).getField()).isEqualTo("values." + text);
                });
            assertThatThrownBy(() -> api.createRecord(CreateRecordRequest.newBuilder().setTableId(tableId)
                .putValues(number, Value.newBuilder().setNumber("1e999999999").build()).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
                    assertThat(ApiException.infoOf(e).getCode()).isEqualTo("limit_exceeded"));
            // over the 16 MiB message size: refused by the transport
            assertThatThrownBy(() -> api.createRecord(CreateRecordRequest.newBuilder().setTableId(tableId)
                .putValues(text, Value.newBuilder().setText("x".repeat(17 * 1024 * 1024)).build()).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
                    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED));
        } finally {
            channel.shutdownNow();
        }
        assertThat(ok(owner.get(records)).get("records")).isEmpty();
    }

    private String batchBody(int count, int textLength) {
        return batchBody(count, textLength, text);
    }

    private static String batchBody(int count, int textLength, String column) {
        String value = "v".repeat(textLength);
        StringBuilder b = new StringBuilder(count * (textLength + 60)).append("{\"records\":[");
        for (int i = 0; i < count; i++) {
            b.append(i == 0 ? "" : ",").append("{\"values\":{\"").append(column).append("\":\"").append(value).append("\"}}");
        }
        return b.append("]}").toString();
    }

    private static String createBody(String name, int columns) {
        StringBuilder b = new StringBuilder("{\"name\":\"").append(name).append("\",\"columns\":[");
        for (int i = 0; i < columns; i++) {
            b.append(i == 0 ? "" : ",").append("{\"name\":\"c").append(i).append("\"}");
        }
        return b.append("]}").toString();
    }

    private static void assertLimit(Api.Response r, int status, String field, String... detail) {
        assertProblem(r, status, "limit_exceeded");
        assertThat(r.body().get("errors").get(0).get("field").asText()).as(r.toString()).isEqualTo(field);
        for (String d : detail) {
            assertThat(r.body().get("detail").asText()).as(r.toString()).contains(d);
        }
    }

    private static void assertProblem(Api.Response r, int status, String code) {
        assertThat(r.status()).as(r.toString()).isEqualTo(status);
        assertThat(r.code()).as(r.toString()).isEqualTo(code);
        assertThat(r.header("Content-Type")).startsWith("application/problem+json");
    }
}
