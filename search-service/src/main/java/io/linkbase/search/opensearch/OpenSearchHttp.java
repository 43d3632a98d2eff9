package io.linkbase.search.opensearch;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import org.opensearch.client.opensearch.OpenSearchClient;
import org.opensearch.client.opensearch.generic.Body;
import org.opensearch.client.opensearch.generic.OpenSearchGenericClient;
import org.opensearch.client.opensearch.generic.Request;
import org.opensearch.client.opensearch.generic.Requests;
import org.opensearch.client.opensearch.generic.Response;
import org.opensearch.client.transport.OpenSearchTransport;
import org.opensearch.client.transport.TransportOptions;
import org.opensearch.client.transport.httpclient5.ResponseException;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The JSON search-service builds itself, sent through opensearch-java's generic client: a body
 * goes out as the bytes we made (never re-encoded), an answer is parsed once by Jackson straight
 * from the response's bytes, and every refusal or silence becomes an {@link IndexFailure} with
 * its HTTP status (503 when OpenSearch does not answer).
 */
@Singleton
public final class OpenSearchHttp {
    public static final String JSON_TYPE = "application/json";
    public static final String NDJSON_TYPE = "application/x-ndjson";
    private static final ObjectMapper JSON = new ObjectMapper();
    private final OpenSearchGenericClient generic;

    @Inject
    public OpenSearchHttp(OpenSearchClient client) {
        this.generic = client.generic();
    }

    /** Over a transport of its own (tools and tests). */
    public OpenSearchHttp(OpenSearchTransport transport) {
        this.generic = new OpenSearchGenericClient(transport);
    }

    /** A call with a JSON body (null: none) and no query parameters. */
    public JsonNode send(String method, String path, String json) {
        return send(method, path, Map.of(), json);
    }

    public JsonNode send(String method, String path, Map<String, String> query, String json) {
        return send(request(method, path, query, json), null);
    }

    /** Sends a body of bytes as they are (e.g. a bulk's NDJSON), with per-call options (null: the transport's). */
    public JsonNode send(String method, String path, Map<String, String> query, byte[] body, String contentType,
                         TransportOptions options) {
        return send(Requests.create(method, path, java.util.List.of(), query, Body.from(body, contentType)), options);
    }

    /** The same call without blocking a thread while OpenSearch works: the answer is parsed on the I/O thread. */
    public CompletableFuture<JsonNode> sendAsync(String method, String path, Map<String, String> query, String json) {
        return sendAsync(method, path, query, json, TREE);
    }

    /** Reads an answer's JSON as it streams in (null parser: an answer without body). */
    @FunctionalInterface
    public interface Reader<T> {
        T read(JsonParser parser) throws IOException;
    }

    /** The whole answer as a tree; an empty one (as with no body) is the missing node. */
    private static final Reader<JsonNode> TREE = p -> {
        JsonNode tree = p == null ? null : JSON.readTree(p);
        return tree == null ? JSON.missingNode() : tree;
    };

    /**
     * As {@link #sendAsync(String, String, Map, String)}, the answer read by {@code reader} straight
     * from its bytes: the autocomplete takes only the fields it needs, without building a tree.
     */
    public <T> CompletableFuture<T> sendAsync(String method, String path, Map<String, String> query, String json,
                                              Reader<T> reader) {
        Request request = request(method, path, query, json);
        return generic.executeAsync(request).handle((response, e) -> {
            if (e != null) {
                throw failure(request, e);
            }
            return read(request, response, reader);
        });
    }

    private JsonNode send(Request request, TransportOptions options) {
        Response response;
        try {
            response = (options == null ? generic : generic.withTransportOptions(options)).execute(request);
        } catch (IOException | RuntimeException e) {
            throw failure(request, e);
        }
        return read(request, response, TREE);
    }

    private static Request request(String method, String path, Map<String, String> query, String json) {
        return Requests.create(method, path, java.util.List.of(), query,
            json == null ? null : Body.from(json.getBytes(StandardCharsets.UTF_8), JSON_TYPE));
    }

    /** The answer, parsed once from the bytes the transport received; a status of 300 or more is a failure. */
    private static <T> T read(Request request, Response response, Reader<T> reader) {
        try (response) {
            Optional<Body> body = response.getBody();
            if (response.getStatus() >= 300) {
                throw new IndexFailure(response.getStatus(), describe(request) + ": " + response.getStatus() + " "
                    + body.map(Body::bodyAsString).orElse(""));
            }
            if (body.isEmpty()) {
                return reader.read(null);
            }
            try (InputStream in = body.get().body(); JsonParser parser = JSON.createParser(in)) {
                return reader.read(parser);
            }
        } catch (IOException e) {
            throw new IndexFailure(503, describe(request) + ": unreadable answer: " + e.getMessage(), e);
        }
    }

    private static IndexFailure failure(Request request, Throwable e) {
        Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
        if (cause instanceof IndexFailure f) {
            return f;
        }
        if (cause instanceof ResponseException re) {
            return new IndexFailure(re.status(), describe(request) + ": " + re.getMessage());
        }
        return new IndexFailure(503, "OpenSearch does not answer: " + cause.getMessage(), cause);
    }

    private static String describe(Request request) {
        return request.getMethod() + " " + request.getEndpoint();
    }

    /** A JSON string literal of {@code s}, for bodies built as text. */
    public static String quote(String s) {
        return '"' + new String(com.fasterxml.jackson.core.io.JsonStringEncoder.getInstance().quoteAsString(s)) + '"';
    }
}
