package io.linkbase.search.index;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.micronaut.context.annotation.Value;
import jakarta.inject.Singleton;
import io.linkbase.search.opensearch.IndexFailure;
import io.linkbase.search.opensearch.OpenSearchHttp;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.core5.util.Timeout;
import org.opensearch.client.transport.httpclient5.ApacheHttpClient5Options;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * The shared index of every tenant's link targets, behind the alias {@value #ALIAS}: one
 * document per record ({@code tenant:table:record}), routed by tenant, filtered by tenant and
 * table. Mappings and analyzers live in a versioned index template
 * ({@code opensearch/records-template-v<N>.json}); a new mapping version is rolled out by
 * creating a new index, reindexing into it and switching the alias ({@link #ensure()}).
 * Writes use external versioning on record_version, so a replayed or reordered event never
 * puts an older value over a newer one (a 409 means "already newer": success).
 */
@Singleton
public class RecordsIndex {
    private static final Logger LOG = LoggerFactory.getLogger(RecordsIndex.class);
    public static final String ALIAS = "linkbase-records";
    public static final String TEMPLATE = "linkbase-records";
    /**
     * The summary's length in UTF-16 units, as Java measures it: the ranking's "shorter summaries
     * first" is a sort on it, so it holds over every match, not only a scored top few.
     */
    public static final String SUMMARY_LENGTH = "summary_len";
    /** Bump with a new template file to roll out a mapping change (reindex + alias switch). */
    public static final int MAPPING_VERSION = 2;
    private static final String INDEX_PREFIX = ALIAS + "-v" + MAPPING_VERSION + "-";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonFactory FACTORY = JSON.getFactory();
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss-SSS");

    /** How a write judges versions: live events are strictly newer; re-exports may repeat a version. */
    public enum Versioning {
        EXTERNAL("external"), EXTERNAL_GTE("external_gte");
        final String wire;

        Versioning(String wire) {
            this.wire = wire;
        }
    }

    private final OpenSearchHttp http;
    private final String refreshInterval;
    /** Which indexes a write must reach: the alias, and a rebuild's new index on any instance (null: the alias only). */
    private final IndexRebuilds rebuilds;
    private volatile boolean ensured;

    @jakarta.inject.Inject
    public RecordsIndex(OpenSearchHttp http,
                        @Value("${linkbase.search.refresh-interval:250ms}") String refreshInterval,
                        IndexRebuilds rebuilds) {
        this.http = http;
        this.refreshInterval = refreshInterval;
        this.rebuilds = rebuilds;
    }

    /** Without a database: writes reach the alias only (a tool or test that never rebuilds). */
    public RecordsIndex(OpenSearchHttp http, String refreshInterval) {
        this(http, refreshInterval, null);
    }

    // ---------------------------------------------------------------- bootstrap and migration

    /** Puts the template and makes sure the alias points at an index of the current mapping version. */
    public synchronized void ensure() {
        if (ensured) {
            return;
        }
        JsonNode template = putTemplate();
        String current = aliasedIndex();
        if (current == null) {
            String index = newIndexName();
            createIndex(index);
            send("POST", "/_aliases", "{\"actions\":[{\"add\":{\"index\":\"" + index + "\",\"alias\":\"" + ALIAS
                + "\",\"is_write_index\":true}}]}");
            LOG.info("created index {} behind alias {}", index, ALIAS);
        } else {
            int version = mappingVersionOf(current);
            if (version < MAPPING_VERSION) {
                String index = newIndexName();
                createIndex(index);
                reindex(current, index, null);
                switchAlias(current, index);
                deleteIndex(current);
                LOG.info("mapping v{} -> v{}: reindexed {} into {} and switched {}", version, MAPPING_VERSION,
                    current, index, ALIAS);
            } else {
                // the merge policy is dynamic: an index made before it changed gets it too
                ObjectNode settings = JSON.createObjectNode();
                settings.putObject("index").set("merge", template.path("template").path("settings").path("merge"));
                send("PUT", "/" + current + "/_settings", settings.toString());
            }
        }
        ensured = true;
    }

    /**
     * Puts the template of the current mapping version. Its merge policy keeps the segment count
     * low (4 per tier, segments under 20 MB merged early): every autocomplete visits every
     * segment, and reads outnumber writes by far (docs/decisions.md, search-service, "Merge policy").
     */
    private JsonNode putTemplate() {
        String body = resource("/opensearch/records-template-v" + MAPPING_VERSION + ".json")
            .replace("${refresh_interval}", refreshInterval);
        send("PUT", "/_index_template/" + TEMPLATE, body);
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public String newIndexName() {
        return INDEX_PREFIX + LocalDateTime.now(java.time.ZoneOffset.UTC).format(STAMP);
    }

    public void createIndex(String index) {
        send("PUT", "/" + index, "{}");
        send("GET", "/_cluster/health/" + index + "?wait_for_status=yellow&timeout=30s", null);
    }

    /** The index the alias points to now (null when there is none). */
    public String aliasedIndex() {
        try {
            JsonNode aliases = send("GET", "/_alias/" + ALIAS, null);
            Iterator<String> names = aliases.fieldNames();
            return names.hasNext() ? names.next() : null;
        } catch (IndexFailure e) {
            if (e.status == 404) {
                return null;
            }
            throw e;
        }
    }

    private int mappingVersionOf(String index) {
        JsonNode mapping = send("GET", "/" + index + "/_mapping", null);
        return mapping.path(index).path("mappings").path("_meta").path("mapping_version").asInt(0);
    }

    /**
     * Copies documents (all, or all but one tenant's) keeping their external versions. Pages
     * with search_after and bulk writes, so it needs no reindex module on the cluster.
     */
    public void reindex(String from, String to, String exceptTenant) {
        JsonNode after = null;
        while (true) {
            ObjectNode body = page(after);
            ObjectNode bool = body.putObject("query").putObject("bool");
            if (exceptTenant != null) {
                bool.putArray("must_not").addObject().putObject("term").put("tenant", exceptTenant);
            }
            body.put("version", true);
            JsonNode hits = send("POST", "/" + from + "/_search", body.toString()).path("hits").path("hits");
            if (hits.isEmpty()) {
                break;
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (JsonGenerator g = FACTORY.createGenerator(out, JsonEncoding.UTF8)) {
                g.setRootValueSeparator(null);
                for (JsonNode hit : hits) {
                    g.writeStartObject();
                    g.writeObjectFieldStart("index");
                    g.writeStringField("_index", to);
                    g.writeStringField("_id", hit.path("_id").asText());
                    g.writeStringField("routing", hit.path("_routing").asText());
                    g.writeNumberField("version", hit.path("_version").asLong());
                    g.writeStringField("version_type", Versioning.EXTERNAL_GTE.wire);
                    g.writeEndObject();
                    g.writeEndObject();
                    g.flush();
                    out.write('\n');
                    JsonNode source = hit.path("_source");
                    if (!source.has(SUMMARY_LENGTH) && source instanceof ObjectNode o) { // written before mapping v2
                        o.put(SUMMARY_LENGTH, source.path("summary").asText("").length());
                    }
                    g.writeTree(source);
                    g.flush();
                    out.write('\n');
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            bulk(out.toByteArray());
            after = hits.get(hits.size() - 1).path("sort");
        }
        send("POST", "/" + to + "/_refresh", null);
    }

    /** One page of a full scan in (tenant, table, record) order. */
    private static ObjectNode page(JsonNode after) {
        ObjectNode body = JSON.createObjectNode();
        body.put("size", 5_000);
        body.put("track_total_hits", false);
        ArrayNode sort = body.putArray("sort");
        sort.add("tenant").add("table").add("record");
        if (after != null) {
            body.set("search_after", after);
        }
        return body;
    }

    /** Points the alias at {@code to} (from {@code from}, or from nothing when null) in one atomic step. */
    public void switchAlias(String from, String to) {
        // removing it from `from` fails the whole step (404) when the alias is no longer there
        send("POST", "/_aliases", "{\"actions\":[" + (from == null ? "" : "{\"remove\":{\"index\":\"" + from
            + "\",\"alias\":\"" + ALIAS + "\"}},")
            + "{\"add\":{\"index\":\"" + to + "\",\"alias\":\"" + ALIAS + "\",\"is_write_index\":true}}]}");
    }

    public void deleteIndex(String index) {
        send("DELETE", "/" + index, null);
    }

    /** Deletes an index unless it is gone already. */
    public void deleteIndexIfExists(String index) {
        try {
            deleteIndex(index);
        } catch (IndexFailure e) {
            if (e.status != 404) {
                throw e;
            }
        }
    }

    public void refresh(String index) {
        send("POST", "/" + index + "/_refresh", null);
    }

    /**
     * Runs a write against the indexes every write must reach now: the alias, and while a rebuild
     * runs on any instance its new index too ({@link IndexRebuilds#withWriteIndices}).
     */
    private <T> T withWriteIndices(java.util.function.Function<List<String>, T> write) {
        return rebuilds == null ? write.apply(List.of(ALIAS)) : rebuilds.withWriteIndices(write);
    }

    // ---------------------------------------------------------------- writes

    /** Writes the documents to the live index (and a rebuild's index, while there is one). */
    public int write(List<? extends Doc> docs, Versioning versioning) {
        if (docs.isEmpty()) {
            return 0;
        }
        return withWriteIndices(indices -> {
            int written = 0;
            for (String index : indices) {
                written = writeTo(index, docs, versioning);
            }
            return written;
        });
    }

    /**
     * Writes the documents like {@link #write}, but reports the documents OpenSearch refused on
     * their own (a 4xx item other than a version conflict, e.g. a mapping error: position in
     * {@code docs} to reason) instead of failing the whole write; an item refused for want of
     * resources (429, 5xx) still fails it with that status, so the caller retries.
     */
    public Map<Integer, String> writeEach(List<? extends Doc> docs, Versioning versioning) {
        if (docs.isEmpty()) {
            return Map.of();
        }
        return withWriteIndices(indices -> writeEach(indices, docs, versioning));
    }

    private Map<Integer, String> writeEach(List<String> indices, List<? extends Doc> docs, Versioning versioning) {
        Map<Integer, String> refused = new java.util.TreeMap<>();
        for (String index : indices) {
            JsonNode response = bulkWrite(index, docs, versioning);
            if (!response.path("errors").asBoolean(false)) {
                continue;
            }
            int position = 0;
            for (JsonNode item : response.path("items")) {
                JsonNode result = item.elements().next();
                int status = result.path("status").asInt();
                if (status == 429 || status >= 500) {
                    throw new IndexFailure(status, "bulk item failed: " + status + " " + result.path("error"));
                }
                if (status >= 300 && status != 409 && !(status == 404 && item.has("delete"))) {
                    refused.putIfAbsent(position, status + " " + result.path("error"));
                }
                position++;
            }
        }
        return refused;
    }

    /** Bulk-writes to one index; returns how many were applied (a version conflict is not a failure). */
    public int writeTo(String index, List<? extends Doc> docs, Versioning versioning) {
        if (docs.isEmpty()) {
            return 0;
        }
        JsonNode response = bulkWrite(index, docs, versioning);
        int applied = 0;
        if (!response.path("errors").asBoolean(false)) {
            return docs.size();
        }
        List<String> failures = new ArrayList<>();
        int failed = 0;
        boolean transientFailure = false;
        for (JsonNode item : response.path("items")) {
            JsonNode result = item.elements().next();
            int status = result.path("status").asInt();
            if (status < 300 || status == 409 || (status == 404 && item.has("delete"))) {
                applied += status < 300 ? 1 : 0;
            } else {
                failed++;
                transientFailure |= status == 429 || status >= 500;
                if (failures.size() < 5) {
                    failures.add(status + " " + result.path("error"));
                }
            }
        }
        if (failed > 0) {
            // Refused for want of resources (429, 5xx): worth retrying; refused documents (4xx): not.
            throw new IndexFailure(transientFailure ? 503 : 400, "bulk write failed for " + failed + " document(s): " + failures);
        }
        return applied;
    }

    /**
     * A bulk write may wait longer for its answer than the client's 30 s default: on a starved node
     * a 5,000-document request took more than that, and a timed-out request is sent again while
     * the node still works on the first (docs/decisions.md, "Time to link").
     */
    private static final ApacheHttpClient5Options BULK_OPTIONS = ApacheHttpClient5Options.DEFAULT.toBuilder()
        .setRequestConfig(RequestConfig.custom().setConnectTimeout(Timeout.ofSeconds(1)).setResponseTimeout(Timeout.ofSeconds(120)).build())
        .build();
    /** Only what the callers read: a clean 5,000-document answer shrinks from ~1 MB to a few bytes. */
    private static final Map<String, String> BULK_ANSWER = Map.of("filter_path", "errors,items.*.status,items.*.error");

    private JsonNode bulkWrite(String index, List<? extends Doc> docs, Versioning versioning) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(docs.size() * 256);
        try (JsonGenerator g = FACTORY.createGenerator(out, JsonEncoding.UTF8)) {
            g.setRootValueSeparator(null);
            for (Doc doc : docs) {
                g.writeStartObject();
                g.writeObjectFieldStart(doc instanceof Doc.Upsert ? "index" : "delete");
                g.writeStringField("_index", index);
                g.writeStringField("_id", doc.id());
                g.writeStringField("routing", doc.tenant());
                g.writeNumberField("version", doc.version());
                g.writeStringField("version_type", versioning.wire);
                g.writeEndObject();
                g.writeEndObject();
                g.flush();
                out.write('\n');
                if (doc instanceof Doc.Upsert u) {
                    writeSource(g, u);
                    g.flush();
                    out.write('\n');
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return http.send("POST", "/_bulk", BULK_ANSWER, out.toByteArray(), OpenSearchHttp.NDJSON_TYPE, BULK_OPTIONS);
    }

    private static void writeSource(JsonGenerator g, Doc.Upsert u) throws IOException {
        g.writeStartObject();
        g.writeStringField("tenant", u.tenant());
        g.writeStringField("table", u.table());
        g.writeNumberField("record", u.record());
        g.writeStringField("summary", u.summary());
        g.writeNumberField(SUMMARY_LENGTH, u.summary().length());
        g.writeArrayFieldStart("text");
        for (String t : u.texts()) {
            g.writeString(t);
        }
        g.writeEndArray();
        g.writeObjectFieldStart("v");
        for (Map.Entry<String, io.linkbase.proto.v1.Value> e : u.values().entrySet()) {
            writeValue(g, e.getKey(), e.getValue());
        }
        g.writeEndObject();
        g.writeEndObject();
    }

    /** A value as {@code {"<kind>": scalar}} (the proto field name of its kind); nulls are left out. */
    private static void writeValue(JsonGenerator g, String column, io.linkbase.proto.v1.Value v) throws IOException {
        switch (v.getKindCase()) {
            case NULL_VALUE, KIND_NOT_SET -> {
                return;
            }
            default -> {
            }
        }
        g.writeObjectFieldStart(column);
        switch (v.getKindCase()) {
            case TEXT -> g.writeStringField("text", v.getText());
            case INTEGER -> g.writeNumberField("integer", v.getInteger());
            case NUMBER -> g.writeStringField("number", v.getNumber());
            case BOOLEAN -> g.writeBooleanField("boolean", v.getBoolean());
            case DATE -> g.writeStringField("date", v.getDate());
            case TIMESTAMP -> g.writeStringField("timestamp", v.getTimestamp());
            case DURATION -> g.writeStringField("duration", v.getDuration());
            case UUID -> g.writeStringField("uuid", v.getUuid());
            default -> {
            }
        }
        g.writeEndObject();
    }

    /** Reads back a value written by {@link #writeValue}; null when absent. */
    public static io.linkbase.proto.v1.Value readValue(JsonNode node) {
        if (node == null || node.isMissingNode() || node.isNull() || !node.fields().hasNext()) {
            return null;
        }
        Map.Entry<String, JsonNode> e = node.fields().next();
        io.linkbase.proto.v1.Value.Builder b = io.linkbase.proto.v1.Value.newBuilder();
        JsonNode s = e.getValue();
        switch (e.getKey()) {
            case "text" -> b.setText(s.asText());
            case "integer" -> b.setInteger(s.asLong());
            case "number" -> b.setNumber(s.asText());
            case "boolean" -> b.setBoolean(s.asBoolean());
            case "date" -> b.setDate(s.asText());
            case "timestamp" -> b.setTimestamp(s.asText());
            case "duration" -> b.setDuration(s.asText());
            case "uuid" -> b.setUuid(s.asText());
            default -> {
                return null;
            }
        }
        return b.build();
    }

    /**
     * Removes every document of a table from the live index (and a rebuild's index), page by
     * page (search_after + bulk delete, no delete-by-query module needed), then refreshes.
     */
    public void deleteTable(String tenant, String table) {
        withWriteIndices(indices -> {
            indices.forEach(index -> deleteTableIn(index, tenant, table));
            return null;
        });
    }

    /** Removes every document of a table from one index, then refreshes it. */
    public void deleteTableIn(String index, String tenant, String table) {
        JsonNode after = null;
        while (true) {
            ObjectNode body = page(after);
            body.put("_source", false);
            body.put("version", true);
            ArrayNode filter = body.putObject("query").putObject("bool").putArray("filter");
            filter.addObject().putObject("term").put("tenant", tenant);
            filter.addObject().putObject("term").put("table", table);
            JsonNode hits = search(index, tenant, body.toString()).path("hits").path("hits");
            if (hits.isEmpty()) {
                break;
            }
            StringBuilder out = new StringBuilder();
            for (JsonNode hit : hits) {
                out.append("{\"delete\":{\"_index\":").append(quote(index)).append(",\"_id\":")
                    .append(quote(hit.path("_id").asText())).append(",\"routing\":").append(quote(tenant))
                    // the tombstone keeps the document's own version, so a later backfill of the
                    // same record version (the table linked again) is not refused as older
                    .append(",\"version\":").append(hit.path("_version").asLong())
                    .append(",\"version_type\":\"external_gte\"}}\n");
            }
            bulk(out.toString().getBytes(StandardCharsets.UTF_8));
            after = hits.get(hits.size() - 1).path("sort");
        }
        send("POST", "/" + index + "/_refresh", null);
    }

    private void bulk(byte[] ndjson) {
        JsonNode response = http.send("POST", "/_bulk", Map.of(), ndjson, OpenSearchHttp.NDJSON_TYPE, null);
        if (response.path("errors").asBoolean(false)) {
            for (JsonNode item : response.path("items")) {
                JsonNode result = item.elements().next();
                int status = result.path("status").asInt();
                if (status >= 300 && status != 409 && status != 404) {
                    throw new IndexFailure(500, "bulk failed: " + status + " " + result.path("error"));
                }
            }
        }
    }

    // ---------------------------------------------------------------- reads

    public JsonNode search(String tenant, String body) {
        return search(ALIAS, tenant, body);
    }

    public JsonNode search(String index, String tenant, String body) {
        return http.send("POST", "/" + index + "/_search", Map.of("routing", tenant,
            "filter_path", "hits.hits._source,hits.hits._id,hits.hits._version,hits.hits._routing,hits.hits.sort"), body);
    }

    /** The same search without blocking a thread while OpenSearch works (the autocomplete path). */
    public java.util.concurrent.CompletableFuture<JsonNode> searchAsync(String tenant, String body) {
        return http.sendAsync("POST", "/" + ALIAS + "/_search", Map.of("routing", tenant, "filter_path", "hits.hits._source"), body)
            .exceptionally(e -> {
                IndexFailure f = (IndexFailure) (e instanceof java.util.concurrent.CompletionException ? e.getCause() : e);
                throw IndexFailure.ofSearch(f.status, f.getMessage());
            });
    }

    public long count(String index, String tenant, String table) {
        String body = "{\"query\":{\"bool\":{\"filter\":[{\"term\":{\"tenant\":" + quote(tenant) + "}}"
            + (table == null ? "" : ",{\"term\":{\"table\":" + quote(table) + "}}") + "]}}}";
        return http.send("POST", "/" + index + "/_count", tenant == null ? Map.of() : Map.of("routing", tenant), body)
            .path("count").asLong();
    }

    public void refresh() {
        send("POST", "/" + ALIAS + "/_refresh", null);
    }

    // ---------------------------------------------------------------- plumbing

    public static String quote(String s) {
        return OpenSearchHttp.quote(s);
    }

    private JsonNode send(String method, String path, String body) {
        return http.send(method, path, body);
    }

    private static String resource(String name) {
        try (InputStream in = RecordsIndex.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
