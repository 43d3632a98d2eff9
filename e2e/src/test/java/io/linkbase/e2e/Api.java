package io.linkbase.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.MissingNode;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A small HTTP client of the public API, as a user's program would call it. */
final class Api {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    record Response(int status, JsonNode body, HttpResponse<String> raw) {
        String header(String name) {
            return raw.headers().firstValue(name).orElse(null);
        }

        String code() {
            return body.path("code").asText(null);
        }

        @Override
        public String toString() {
            return status + " " + raw.body();
        }
    }

    private final String token;
    /** The gateway's URL; null for the shared {@link Stack}'s. */
    private final String baseUrl;

    Api(String token) {
        this(null, token);
    }

    /** A client of another stack's gateway (e.g. the fault-injection suite's own). */
    Api(String baseUrl, String token) {
        this.baseUrl = baseUrl;
        this.token = token;
    }

    String token() {
        return token;
    }

    Response get(String path) {
        return send("GET", path, null, null);
    }

    Response delete(String path) {
        return send("DELETE", path, null, null);
    }

    Response post(String path, String json) {
        return send("POST", path, json, null);
    }

    Response put(String path, String json) {
        return send("PUT", path, json, null);
    }

    Response patch(String path, String json) {
        return send("PATCH", path, json, null);
    }

    Response send(String method, String path, String json, String ifMatch) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create((baseUrl != null ? baseUrl : Stack.gatewayUrl()) + path))
            .timeout(Duration.ofSeconds(60))
            .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        if (json != null) {
            b.header("Content-Type", "application/json");
        }
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        if (ifMatch != null) {
            b.header("If-Match", ifMatch);
        }
        try {
            HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
            JsonNode body = r.body() == null || r.body().isBlank() ? MissingNode.getInstance() : parse(r.body());
            return new Response(r.statusCode(), body, r);
        } catch (IOException e) {
            throw new IllegalStateException(method + " " + path + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /**
     * Imports {@code rows} records through the batch endpoint as a client would: batches of 10,000
     * ({@code values.apply(i)} is the i-th record's {@code values} object as JSON), two in flight
     * (a tenant's limit), a 429 retried after a pause. Returns the nanoseconds it took.
     */
    long importRecords(String tableId, int rows, java.util.function.IntFunction<String> values,
                       java.util.concurrent.atomic.AtomicLong retries) throws Exception {
        long start = System.nanoTime();
        java.util.List<java.util.concurrent.CompletableFuture<Void>> inFlight = new java.util.ArrayList<>();
        for (int from = 0; from < rows; from += 10_000) {
            StringBuilder batch = new StringBuilder("{\"records\":[");
            for (int i = from; i < Math.min(rows, from + 10_000); i++) {
                batch.append(i == from ? "" : ",").append("{\"values\":").append(values.apply(i)).append('}');
            }
            String body = batch.append("]}").toString();
            inFlight.add(java.util.concurrent.CompletableFuture.runAsync(() -> {
                Response r = post("/api/v1/tables/" + tableId + "/records/batch", body);
                while (r.status() == 429) { // wait as told, as a client would
                    retries.incrementAndGet();
                    try {
                        Thread.sleep(100);
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                    r = post("/api/v1/tables/" + tableId + "/records/batch", body);
                }
                if (r.status() != 201) {
                    throw new IllegalStateException("batch import: " + r);
                }
            }));
            if (inFlight.size() >= 2) {
                inFlight.remove(0).get();
            }
        }
        for (java.util.concurrent.CompletableFuture<Void> f : inFlight) {
            f.get();
        }
        return System.nanoTime() - start;
    }

    private static JsonNode parse(String body) {
        try {
            return JSON.readTree(body);
        } catch (IOException e) {
            return MissingNode.getInstance();
        }
    }
}
