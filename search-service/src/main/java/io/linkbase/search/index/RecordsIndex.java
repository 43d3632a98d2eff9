package io.linkbase.search.index;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.linkbase.search.opensearch.IndexFailure;
import io.linkbase.search.opensearch.OpenSearchHttp;

import java.util.Map;

/**
 * The shared index of every tenant's link targets, behind the alias {@value #ALIAS}: one
 * document per record ({@code tenant:table:record}), routed by tenant, filtered by tenant and
 * table. Mappings and analyzers live in a versioned index template
 * ({@code opensearch/records-template-v<N>.json}); a new mapping version is rolled out by
 * creating a new index, reindexing into it and switching the alias ({@link IndexMigrations#ensure()}).
 * Its jobs live apart: {@link IndexMigrations} (template, alias, reindex), {@link IndexWrites},
 * {@link IndexReads}; the HTTP plumbing is {@link OpenSearchHttp}. This class holds the layout
 * they share.
 */
public final class RecordsIndex {
    public static final String ALIAS = "linkbase-records";
    public static final String TEMPLATE = "linkbase-records";
    /**
     * The summary's length in UTF-16 units, as Java measures it: the ranking's "shorter summaries
     * first" is a sort on it, so it holds over every match, not only a scored top few.
     */
    public static final String SUMMARY_LENGTH = "summary_len";
    /** Bump with a new template file to roll out a mapping change (reindex + alias switch). */
    public static final int MAPPING_VERSION = 2;
    static final ObjectMapper JSON = new ObjectMapper();
    static final JsonFactory FACTORY = JSON.getFactory();

    private RecordsIndex() {
    }

    /** One page of a full scan in (tenant, table, record) order. */
    static ObjectNode page(JsonNode after) {
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

    /** A search of one index that returns what a scan needs: ids, versions, routing and sort values. */
    static JsonNode scan(OpenSearchHttp http, String index, String tenant, String body) {
        return http.send("POST", "/" + index + "/_search", Map.of("routing", tenant,
            "filter_path", "hits.hits._source,hits.hits._id,hits.hits._version,hits.hits._routing,hits.hits.sort"), body);
    }

    /** A bulk of NDJSON we made, sent as is; fails unless every item was applied, already newer (409) or gone (404). */
    static void bulk(OpenSearchHttp http, byte[] ndjson) {
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

}
