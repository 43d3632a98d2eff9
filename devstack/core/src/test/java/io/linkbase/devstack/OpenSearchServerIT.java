package io.linkbase.devstack;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OpenSearchServerIT {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String INDEX = "devstack-it-artists";
    private static String base;

    @BeforeAll
    static void createIndex() throws Exception {
        base = TestServers.openSearch().httpUrl();
        call("DELETE", "/" + INDEX, null);
        JsonNode created = call("PUT", "/" + INDEX, """
                {
                  "settings": {
                    "number_of_shards": 1, "number_of_replicas": 0,
                    "analysis": { "analyzer": { "folding": {
                      "type": "custom", "tokenizer": "standard", "filter": ["lowercase", "asciifolding"] } } }
                  },
                  "mappings": { "properties": {
                    "name": { "type": "search_as_you_type", "analyzer": "folding" } } }
                }""");
        assertTrue(created.path("acknowledged").asBoolean(), created.toString());
        for (String name : List.of("Beyoncé", "Motörhead", "Metallica", "Björk")) {
            call("POST", "/" + INDEX + "/_doc?refresh=true", JSON.createObjectNode().put("name", name).toString());
        }
        JsonNode mapping = call("GET", "/" + INDEX + "/_mapping", null);
        assertEquals("search_as_you_type", mapping.at("/" + INDEX + "/mappings/properties/name/type").asText());
    }

    @Test
    void foldedPrefixQueriesFindAccentedNames() throws Exception {
        assertEquals(List.of("Beyoncé"), search("beyonce"));
        assertEquals(List.of("Motörhead"), search("motor"));
        assertEquals(List.of("Björk"), search("BJO"));
        assertEquals(List.of("Metallica"), search("metal"));
        assertEquals(List.of(), search("zeppelin"));
    }

    @Test
    void theCustomAnalyzerFoldsAndLowercases() throws Exception {
        JsonNode tokens = call("POST", "/" + INDEX + "/_analyze", """
                {"analyzer": "folding", "text": "Motörhead BEYONCÉ"}""");
        List<String> terms = new ArrayList<>();
        tokens.path("tokens").forEach(t -> terms.add(t.path("token").asText()));
        assertEquals(List.of("motorhead", "beyonce"), terms);
    }

    private static List<String> search(String text) throws Exception {
        String query = JSON.createObjectNode().set("query", JSON.createObjectNode().set("multi_match",
                JSON.createObjectNode()
                        .put("query", text)
                        .put("type", "bool_prefix")
                        .set("fields", JSON.createArrayNode().add("name").add("name._2gram").add("name._3gram"))))
                .toString();
        JsonNode result = call("POST", "/" + INDEX + "/_search", query);
        List<String> names = new ArrayList<>();
        result.path("hits").path("hits").forEach(h -> names.add(h.path("_source").path("name").asText()));
        return names;
    }

    private static JsonNode call(String method, String path, String body) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).header("Content-Type", "application/json");
        b.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() >= 300 && !(method.equals("DELETE") && r.statusCode() == 404)) {
            throw new AssertionError(method + " " + path + " -> " + r.statusCode() + ": " + r.body());
        }
        return JSON.readTree(r.body());
    }
}
