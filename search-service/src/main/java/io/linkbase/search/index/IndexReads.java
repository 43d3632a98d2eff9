package io.linkbase.search.index;

import com.fasterxml.jackson.databind.JsonNode;
import io.linkbase.search.opensearch.IndexFailure;
import io.linkbase.search.opensearch.OpenSearchHttp;
import jakarta.inject.Singleton;

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
}
