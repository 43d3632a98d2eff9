package io.linkbase.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import io.linkbase.devstack.LinkbaseServices;
import io.linkbase.devstack.TestServers;
import io.linkbase.proto.events.v1.EventEnvelope;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;

import static io.linkbase.e2e.UserStoryHttpE2EIT.columnId;
import static io.linkbase.e2e.UserStoryHttpE2EIT.created;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** What an operator sees: the trace of a request follows it into the events, and the metrics that matter. */
class ObservabilityE2EIT {
    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void theTraceOfARequestTravelsThroughGrpcIntoTheEventAndItsKafkaHeaders() throws Exception {
        String tenant = "obs-" + UUID.randomUUID().toString().substring(0, 8);
        created(new Api(Stack.adminToken()).put("/api/v1/tenants/" + tenant, null));
        String traceId = UUID.randomUUID().toString().replace("-", "");
        HttpResponse<String> r = traced(tenant, "POST", "/api/v1/tables", "{\"name\":\"Traced\"}", traceId);
        assertThat(r.statusCode()).isEqualTo(201);
        String tableId = Api.JSON.readTree(r.body()).get("id").asText();

        try (KafkaConsumer<String, byte[]> kafka = new KafkaConsumer<>(consumerProperties(), new StringDeserializer(),
            new ByteArrayDeserializer())) {
            kafka.subscribe(List.of("linkbase.schema.v1"));
            List<ConsumerRecord<String, byte[]>> found = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (found.isEmpty() && System.nanoTime() < deadline) {
                kafka.poll(Duration.ofMillis(200)).forEach(rec -> {
                    if ((tenant + "/" + tableId).equals(rec.key())) {
                        found.add(rec);
                    }
                });
            }
            assertThat(found).hasSize(1);
            EventEnvelope event = EventEnvelope.parseFrom(found.get(0).value());
            assertThat(event.getCorrelationId()).isEqualTo(traceId);
            Header traceparent = found.get(0).headers().lastHeader("traceparent");
            assertThat(traceparent).isNotNull();
            assertThat(new String(traceparent.value(), StandardCharsets.UTF_8)).startsWith("00-" + traceId + "-");
        }
    }

    /**
     * One id follows one user action across services: the correlation id of every event a request
     * causes, directly or through other events, is that request's trace id; the causation id names
     * the event that caused it (kit Cause).
     */
    @Test
    void everyEventARequestCausesCarriesItsTraceIdAsCorrelationId() throws Exception {
        String tenant = "obs-c-" + UUID.randomUUID().toString().substring(0, 8);
        created(new Api(Stack.adminToken()).put("/api/v1/tenants/" + tenant, null));
        Api owner = new Api(Stack.token(tenant, "owner"));
        JsonNode artist = created(owner.post("/api/v1/tables", "{\"name\":\"Artist\",\"columns\":[{\"name\":\"Name\"}]}"));
        JsonNode track = created(owner.post("/api/v1/tables", "{\"name\":\"Track\",\"columns\":[{\"name\":\"Artist\"}]}"));
        String artistId = artist.get("id").asText();
        String trackId = track.get("id").asText();
        String write = UUID.randomUUID().toString().replace("-", "");
        String link = UUID.randomUUID().toString().replace("-", "");
        assertThat(traced(tenant, "POST", "/api/v1/tables/" + artistId + "/records",
            "{\"values\":{\"" + columnId(artist, "Name") + "\":\"Nina\"}}", write).statusCode()).isEqualTo(201);
        assertThat(traced(tenant, "PUT", "/api/v1/tables/" + trackId + "/columns/" + columnId(track, "Artist") + "/link?wait=30",
            "{\"targetTableId\":\"" + artistId + "\"}", link).statusCode()).isEqualTo(200);

        List<EventEnvelope> events = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> kafka = new KafkaConsumer<>(consumerProperties(), new StringDeserializer(),
            new ByteArrayDeserializer())) {
            kafka.subscribe(List.of("linkbase.schema.v1", "linkbase.records.v1", "linkbase.search.v1"));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < deadline && events.stream().noneMatch(EventEnvelope::hasLinkTargetIndexed)) {
                for (ConsumerRecord<String, byte[]> r : kafka.poll(Duration.ofMillis(200))) {
                    EventEnvelope e = EventEnvelope.parseFrom(r.value());
                    if (e.getTenantId().equals(tenant)) {
                        events.add(e);
                    }
                }
            }
        }
        EventEnvelope upserted = only(events, EventEnvelope::hasRecordUpserted);
        assertThat(upserted.getCorrelationId()).isEqualTo(write);
        assertThat(upserted.getCausationId()).isEmpty();
        EventEnvelope linked = only(events, EventEnvelope::hasColumnLinked);
        assertThat(linked.getCorrelationId()).isEqualTo(link);
        for (EventEnvelope report : List.of(only(events, EventEnvelope::hasLinkReconciled),
            only(events, EventEnvelope::hasLinkTargetIndexed))) {
            assertThat(report.getCorrelationId()).as(report.getEventType()).isEqualTo(link);
            assertThat(report.getCausationId()).as(report.getEventType()).isEqualTo(linked.getEventId());
        }
    }

    private static EventEnvelope only(List<EventEnvelope> events, java.util.function.Predicate<EventEnvelope> which) {
        List<EventEnvelope> found = events.stream().filter(which).toList();
        assertThat(found).hasSize(1);
        return found.get(0);
    }

    private HttpResponse<String> traced(String tenant, String method, String path, String body, String traceId)
        throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(Stack.gatewayUrl() + path))
            .header("Authorization", "Bearer " + Stack.token(tenant, "owner"))
            .header("Content-Type", "application/json")
            .header("traceparent", "00-" + traceId + "-00f067aa0ba902b7-01")
            .method(method, HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private static Properties consumerProperties() {
        Properties p = new Properties();
        p.putAll(TestServers.kafka().clientProperties());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "obs-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        return p;
    }

    @Test
    void theMetricsThatMatterAreExposed() throws Exception {
        // A link, so reconciliation has run at least once.
        String tenant = "obs-m-" + UUID.randomUUID().toString().substring(0, 8);
        created(new Api(Stack.adminToken()).put("/api/v1/tenants/" + tenant, null));
        Api owner = new Api(Stack.token(tenant, "owner"));
        JsonNode a = created(owner.post("/api/v1/tables", "{\"name\":\"A\"}"));
        JsonNode b = created(owner.post("/api/v1/tables", "{\"name\":\"B\",\"columns\":[{\"name\":\"Ref\"}]}"));
        assertThat(owner.put("/api/v1/tables/" + b.get("id").asText() + "/columns/" + columnId(b, "Ref") + "/link?wait=30",
            "{\"targetTableId\":\"" + a.get("id").asText() + "\"}").status()).isEqualTo(200);
        assertThat(owner.get("/api/v1/tables/" + b.get("id").asText() + "/columns/" + columnId(b, "Ref") + "/suggestions?q=x")
            .status()).isEqualTo(200);

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(metrics(LinkbaseServices.GATEWAY)).contains("http_server_requests_seconds_count");
            assertThat(metrics(LinkbaseServices.SCHEMA)).contains("linkbase_outbox_backlog", "linkbase_consumer_lag{consumer=\"schema-service.link-state\"");
            assertThat(metrics(LinkbaseServices.RECORD)).contains("linkbase_reconcile_duration_seconds_count",
                "linkbase_consumer_lag{consumer=\"record-service.schema\"");
            assertThat(metrics(LinkbaseServices.SEARCH)).contains("linkbase_consumer_lag",
                "linkbase_autocomplete_latency_seconds_count");
        });
    }

    private String metrics(LinkbaseServices.Service s) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + Stack.services().httpPort(s) + "/prometheus")).build(),
            HttpResponse.BodyHandlers.ofString()).body();
    }
}
