package io.linkbase.search.index;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.linkbase.search.opensearch.IndexFailure;
import io.linkbase.search.opensearch.OpenSearchHttp;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.core5.util.Timeout;
import org.opensearch.client.transport.httpclient5.ApacheHttpClient5Options;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.linkbase.search.index.RecordsIndex.ALIAS;
import static io.linkbase.search.index.RecordsIndex.FACTORY;
import static io.linkbase.search.opensearch.OpenSearchHttp.quote;

/**
 * Writes to the records index: documents in bulk (pre-serialized NDJSON, sent as made) with
 * external versioning on record_version, so a replayed or reordered event never puts an older
 * value over a newer one (a 409 means "already newer": success); a table's removal; refreshes.
 * Every write reaches the alias and, while a rebuild runs on any instance, its new index too.
 */
@Singleton
public class IndexWrites {
    /** How a write judges versions: live events are strictly newer; re-exports may repeat a version. */
    public enum Versioning {
        EXTERNAL("external"), EXTERNAL_GTE("external_gte");
        final String wire;

        Versioning(String wire) {
            this.wire = wire;
        }
    }

    private final OpenSearchHttp http;
    /** Which indexes a write must reach: the alias, and a rebuild's new index on any instance (null: the alias only). */
    private final IndexRebuilds rebuilds;

    @Inject
    public IndexWrites(OpenSearchHttp http, IndexRebuilds rebuilds) {
        this.http = http;
        this.rebuilds = rebuilds;
    }

    /** Without a database: writes reach the alias only (a tool or test that never rebuilds). */
    public IndexWrites(OpenSearchHttp http) {
        this(http, null);
    }

    /**
     * Runs a write against the indexes every write must reach now: the alias, and while a rebuild
     * runs on any instance its new index too ({@link IndexRebuilds#withWriteIndices}).
     */
    private <T> T withWriteIndices(java.util.function.Function<List<String>, T> write) {
        return rebuilds == null ? write.apply(List.of(ALIAS)) : rebuilds.withWriteIndices(write);
    }

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
                    Documents.writeSource(g, u);
                    g.flush();
                    out.write('\n');
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return http.send("POST", "/_bulk", BULK_ANSWER, out.toByteArray(), OpenSearchHttp.NDJSON_TYPE, BULK_OPTIONS);
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
            ObjectNode body = RecordsIndex.page(after);
            body.put("_source", false);
            body.put("version", true);
            ArrayNode filter = body.putObject("query").putObject("bool").putArray("filter");
            filter.addObject().putObject("term").put("tenant", tenant);
            filter.addObject().putObject("term").put("table", table);
            JsonNode hits = RecordsIndex.scan(http, index, tenant, body.toString()).path("hits").path("hits");
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
            RecordsIndex.bulk(http, out.toString().getBytes(StandardCharsets.UTF_8));
            after = hits.get(hits.size() - 1).path("sort");
        }
        http.send("POST", "/" + index + "/_refresh", null);
    }

    public void refresh(String index) {
        http.send("POST", "/" + index + "/_refresh", null);
    }

    public void refresh() {
        http.send("POST", "/" + ALIAS + "/_refresh", null);
    }
}
