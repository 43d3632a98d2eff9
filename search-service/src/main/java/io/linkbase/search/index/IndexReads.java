package io.linkbase.search.index;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.NumberInput;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.MissingNode;
import io.linkbase.search.opensearch.IndexFailure;
import io.linkbase.search.opensearch.OpenSearchHttp;
import jakarta.inject.Singleton;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static io.linkbase.search.index.RecordsIndex.ALIAS;
import static io.linkbase.search.opensearch.OpenSearchHttp.quote;

/**
 * Reads of the records index, always routed and filtered by tenant: searches (the autocomplete's
 * without blocking a thread) and counts.
 */
@Singleton
public class IndexReads {
    private final OpenSearchHttp http;

    public IndexReads(OpenSearchHttp http) {
        this.http = http;
    }

    public JsonNode search(String tenant, String body) {
        return search(ALIAS, tenant, body);
    }

    public JsonNode search(String index, String tenant, String body) {
        return RecordsIndex.scan(http, index, tenant, body);
    }

    /** One hit of {@link #searchHitsAsync}: its record id (0 when absent), summary ("" when absent) and {@code v} values. */
    public record Hit(long record, String summary, JsonNode values) {
    }

    /**
     * The same search without blocking a thread while OpenSearch works (the autocomplete path),
     * each hit's {@code _source} read straight from the answer's bytes into a {@link Hit}: no tree
     * of the whole answer (Jackson's tree was a share of search-service's CPU per autocomplete).
     */
    public java.util.concurrent.CompletableFuture<List<Hit>> searchHitsAsync(String tenant, String body) {
        return http.sendAsync("POST", "/" + ALIAS + "/_search", Map.of("routing", tenant, "filter_path", "hits.hits._source"),
                body, IndexReads::hits)
            .exceptionally(e -> {
                Throwable cause = e instanceof java.util.concurrent.CompletionException && e.getCause() != null ? e.getCause() : e;
                if (cause instanceof IndexFailure f) {
                    throw IndexFailure.ofSearch(f.status, f.getMessage());
                }
                // not OpenSearch's answer (sendAsync turns those into IndexFailure): as it is, for Calls to judge
                throw e instanceof java.util.concurrent.CompletionException c ? c : new java.util.concurrent.CompletionException(e);
            });
    }

    /** {@code {"hits":{"hits":[{"_source":{...}}, ...]}}} (filter_path leaves {@code {}} when nothing matched). */
    static List<Hit> hits(JsonParser p) throws IOException {
        List<Hit> hits = new ArrayList<>();
        if (p == null || p.nextToken() != JsonToken.START_OBJECT) {
            return hits;
        }
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            JsonToken value = p.nextToken();
            if (!"hits".equals(p.currentName()) || value != JsonToken.START_OBJECT) {
                p.skipChildren();
                continue;
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                JsonToken inner = p.nextToken();
                if (!"hits".equals(p.currentName()) || inner != JsonToken.START_ARRAY) {
                    p.skipChildren();
                    continue;
                }
                while (p.nextToken() == JsonToken.START_OBJECT) {
                    hits.add(hit(p));
                }
            }
        }
        return hits;
    }

    /** One element of {@code hits.hits}, the parser on its START_OBJECT; leaves it on its END_OBJECT. */
    private static Hit hit(JsonParser p) throws IOException {
        long record = 0;
        String summary = "";
        JsonNode values = MissingNode.getInstance();
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            JsonToken value = p.nextToken();
            if (!"_source".equals(p.currentName()) || value != JsonToken.START_OBJECT) {
                p.skipChildren();
                continue;
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String field = p.currentName();
                JsonToken t = p.nextToken();
                switch (field) {
                    // as JsonNode.asLong() / asText("") read them
                    case "record" -> record = t == JsonToken.VALUE_NUMBER_INT || t == JsonToken.VALUE_NUMBER_FLOAT ? p.getValueAsLong()
                        : t == JsonToken.VALUE_STRING ? NumberInput.parseAsLong(p.getText(), 0) : 0;
                    case "summary" -> summary = t == JsonToken.VALUE_NULL ? "" : t.isScalarValue() ? p.getValueAsString("") : skip(p, "");
                    case "v" -> values = p.readValueAsTree();
                    default -> p.skipChildren();
                }
            }
        }
        return new Hit(record, summary, values);
    }

    private static String skip(JsonParser p, String as) throws IOException {
        p.skipChildren();
        return as;
    }

    public long count(String index, String tenant, String table) {
        String body = "{\"query\":{\"bool\":{\"filter\":[{\"term\":{\"tenant\":" + quote(tenant) + "}}"
            + (table == null ? "" : ",{\"term\":{\"table\":" + quote(table) + "}}") + "]}}}";
        return http.send("POST", "/" + index + "/_count", tenant == null ? Map.of() : Map.of("routing", tenant), body)
            .path("count").asLong();
    }
}
