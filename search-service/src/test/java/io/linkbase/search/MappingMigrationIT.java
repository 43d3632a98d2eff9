package io.linkbase.search;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.linkbase.devstack.TestServers;
import io.linkbase.search.autocomplete.Suggester;
import io.linkbase.search.index.IndexMigrations;
import io.linkbase.search.index.IndexReads;
import io.linkbase.search.index.IndexWrites;
import io.linkbase.search.index.RecordsIndex;
import io.linkbase.search.targets.SchemaView;
import org.junit.jupiter.api.Test;
import io.linkbase.search.opensearch.IndexFailure;
import io.linkbase.search.opensearch.OpenSearchFactory;
import io.linkbase.search.opensearch.OpenSearchHttp;
import org.opensearch.client.transport.httpclient5.ApacheHttpClient5Transport;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A mapping change is rolled out by a new index, a reindex and an alias switch: an alias that
 * points at an index of an older mapping version is moved, on start, to a new index of the
 * current template holding the same documents with the same external versions.
 */
class MappingMigrationIT {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void anOlderMappingIsReindexedIntoANewIndexAndTheAliasSwitched() throws Exception {
        try (ApacheHttpClient5Transport transport = new OpenSearchFactory().transport(TestServers.openSearch().httpUrl(), "", "", "")) {
            OpenSearchHttp client = new OpenSearchHttp(transport);
            IndexMigrations migrating = new IndexMigrations(client, "250ms");
            String previous = migrating.aliasedIndex(); // another test class may have left one
            String legacy = "linkbase-records-v0-legacy";
            send(client, "PUT", "/" + legacy, """
                {"mappings": {"_meta": {"mapping_version": 0}, "_routing": {"required": true}, "properties": {
                  "tenant": {"type": "keyword"}, "table": {"type": "keyword"}, "record": {"type": "long"},
                  "summary": {"type": "text"}, "text": {"type": "text"}, "v": {"type": "object", "enabled": false}}}}""");
            send(client, "PUT", "/" + legacy + "/_doc/t1:tab:1?routing=t1&version=5&version_type=external&refresh=true",
                "{\"tenant\":\"t1\",\"table\":\"tab\",\"record\":1,\"summary\":\"Beyoncé\",\"text\":[\"Beyoncé\"],\"v\":{}}");
            send(client, "PUT", "/" + legacy + "/_doc/t1:tab:2?routing=t1&version=7&version_type=external&refresh=true",
                "{\"tenant\":\"t1\",\"table\":\"tab\",\"record\":2,\"summary\":\"Motörhead\",\"text\":[\"Motörhead\"],\"v\":{}}");
            List<String> actions = new ArrayList<>();
            if (previous != null) {
                actions.add("{\"remove\":{\"index\":\"" + previous + "\",\"alias\":\"linkbase-records\"}}");
            }
            actions.add("{\"add\":{\"index\":\"" + legacy + "\",\"alias\":\"linkbase-records\",\"is_write_index\":true}}");
            send(client, "POST", "/_aliases", "{\"actions\":[" + String.join(",", actions) + "]}");
            try {
                migrating.ensure();

                String migrated = migrating.aliasedIndex();
                assertThat(migrated).startsWith("linkbase-records-v" + RecordsIndex.MAPPING_VERSION + "-");
                assertThatThrownBy(() -> send(client, "GET", "/" + legacy, null)).isInstanceOf(IndexFailure.class);
                assertThat(send(client, "GET", "/" + migrated + "/_doc/t1:tab:1?routing=t1", null).path("_version").asLong())
                    .isEqualTo(5);
                assertThat(send(client, "GET", "/" + migrated + "/_doc/t1:tab:2?routing=t1", null).path("_version").asLong())
                    .isEqualTo(7);
                // the new mapping's analyzers apply: a folded word prefix finds the record
                JsonNode hits = new IndexReads(client).search("t1", Suggester.inSummary("t1", new SchemaView.LinkTarget("tab", "pk", "pk"), "motor", 10))
                    .path("hits").path("hits");
                assertThat(hits).hasSize(1);
                assertThat(hits.get(0).path("_source").path("record").asLong()).isEqualTo(2);
                // an older version still loses against what was migrated
                new IndexWrites(client).write(List.of(new io.linkbase.search.index.Doc.Upsert("t1", "tab", 2, 6, "Older", List.of("Older"),
                    java.util.Map.of())), IndexWrites.Versioning.EXTERNAL);
                assertThat(send(client, "GET", "/" + migrated + "/_doc/t1:tab:2?routing=t1", null)
                    .path("_source").path("summary").asText()).isEqualTo("Motörhead");

                if (previous != null) { // leave the cluster as we found it
                    send(client, "POST", "/_aliases", "{\"actions\":[{\"remove\":{\"index\":\"" + migrated
                        + "\",\"alias\":\"linkbase-records\"}},{\"add\":{\"index\":\"" + previous
                        + "\",\"alias\":\"linkbase-records\",\"is_write_index\":true}}]}");
                    send(client, "DELETE", "/" + migrated, null);
                }
            } finally {
                try {
                    send(client, "DELETE", "/" + legacy, null);
                } catch (IndexFailure ignored) {
                    // migrated away, as expected
                }
            }
        }
    }

    private static JsonNode send(OpenSearchHttp client, String method, String path, String body) {
        return client.send(method, path, body);
    }
}
