package io.linkbase.search.index;

import com.fasterxml.jackson.core.JsonEncoding;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.linkbase.search.opensearch.IndexFailure;
import io.linkbase.search.opensearch.OpenSearchHttp;
import io.micronaut.context.annotation.Value;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Iterator;

import static io.linkbase.search.index.RecordsIndex.ALIAS;
import static io.linkbase.search.index.RecordsIndex.FACTORY;
import static io.linkbase.search.index.RecordsIndex.JSON;
import static io.linkbase.search.index.RecordsIndex.MAPPING_VERSION;
import static io.linkbase.search.index.RecordsIndex.SUMMARY_LENGTH;
import static io.linkbase.search.index.RecordsIndex.TEMPLATE;

/**
 * The records index's migrations and administration: the versioned template, the alias on an
 * index of the current mapping version ({@link #ensure()}: a new mapping version is rolled out by
 * creating a new index, reindexing into it and switching the alias), and the index operations a
 * rebuild needs (create, reindex, switch, delete).
 */
@Singleton
public class IndexMigrations {
    private static final Logger LOG = LoggerFactory.getLogger(IndexMigrations.class);
    private static final String INDEX_PREFIX = ALIAS + "-v" + MAPPING_VERSION + "-";
    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss-SSS");

    private final OpenSearchHttp http;
    private final String refreshInterval;
    private volatile boolean ensured;

    @Inject
    public IndexMigrations(OpenSearchHttp http, @Value("${linkbase.search.refresh-interval:250ms}") String refreshInterval) {
        this.http = http;
        this.refreshInterval = refreshInterval;
    }

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
            ObjectNode body = RecordsIndex.page(after);
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
                    g.writeStringField("version_type", IndexWrites.Versioning.EXTERNAL_GTE.wire);
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
            RecordsIndex.bulk(http, out.toByteArray());
            after = hits.get(hits.size() - 1).path("sort");
        }
        send("POST", "/" + to + "/_refresh", null);
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

    private JsonNode send(String method, String path, String body) {
        return http.send(method, path, body);
    }

    private static String resource(String name) {
        try (InputStream in = IndexMigrations.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("missing resource " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
