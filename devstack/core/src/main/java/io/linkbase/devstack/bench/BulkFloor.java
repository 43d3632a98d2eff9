package io.linkbase.devstack.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.IntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The raw bulk floor of the link and bulk benchmarks, in one place: the documents search-service
 * writes for a generated target table (record {@code i + 1} named {@link Names#target(int)}), sent
 * straight to OpenSearch {@link #REQUEST_DOCS} a request, {@link #IN_FLIGHT} at a time (as
 * search-service's backfill sends them), then refreshed.
 */
public final class BulkFloor {
    public static final int REQUEST_DOCS = 5_000;
    /** Requests in flight: 2 as search-service's backfill sends them; {@code -Dlinkbase.bench.bulk.in-flight} to try others. */
    public static final int IN_FLIGHT = Integer.getInteger("linkbase.bench.bulk.in-flight", 2);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final Pattern COUNT = Pattern.compile("\"count\"\\s*:\\s*(\\d+)");

    private BulkFloor() {
    }

    /** The generated target: its tenant, table id and the ids of its key and name (display) columns. */
    public record Target(String tenant, String table, String pkColumn, String nameColumn) {
    }

    /**
     * A document's shape: with the {@code external_gte} version (as search-service's exports write
     * it), and with the summary repeated in {@code text} (as documents were before 2026-12-01).
     */
    public record Shape(boolean externalVersion, boolean textRepeatsSummary) {
        /** What search-service writes now. */
        public static final Shape SEARCH_SERVICE = new Shape(true, false);
    }

    /** The bulk body (NDJSON) of the target's records {@code from} (inclusive) to {@code to} (exclusive). */
    public static byte[] body(Target t, Shape shape, int from, int to) {
        StringBuilder b = new StringBuilder((to - from) * 320);
        for (int i = from; i < to; i++) {
            long id = i + 1;
            String n = Names.target(i);
            b.append("{\"index\":{\"_id\":\"").append(t.tenant()).append(':').append(t.table()).append(':').append(id)
                .append("\",\"routing\":\"").append(t.tenant()).append('"');
            if (shape.externalVersion()) {
                b.append(",\"version\":1,\"version_type\":\"external_gte\"");
            }
            b.append("}}\n{\"tenant\":\"").append(t.tenant()).append("\",\"table\":\"").append(t.table())
                .append("\",\"record\":").append(id).append(",\"summary\":\"").append(n)
                .append("\",\"summary_len\":").append(n.length());
            if (shape.textRepeatsSummary()) {
                b.append(",\"text\":[\"").append(n).append("\"]");
            }
            b.append(",\"v\":{\"").append(t.pkColumn()).append("\":{\"integer\":").append(id).append("},\"")
                .append(t.nameColumn()).append("\":{\"text\":\"").append(n).append("\"}}}\n");
        }
        return b.toString().getBytes(StandardCharsets.UTF_8);
    }

    /** The bodies of all {@code docs} records, built ahead (so building them is not timed). */
    public static List<byte[]> bodies(Target t, Shape shape, int docs) {
        List<byte[]> out = new ArrayList<>();
        for (int from = 0; from < docs; from += REQUEST_DOCS) {
            out.add(body(t, shape, from, Math.min(docs, from + REQUEST_DOCS)));
        }
        return out;
    }

    /**
     * Writes {@code docs} documents into the existing {@code index}: request {@code k} is
     * {@code requestBody.apply(k)}, {@link #IN_FLIGHT} requests at a time (the next body is built
     * while they run); fails on any item error; then refreshes and checks the count. Returns the
     * nanoseconds from the first request to the end of the refresh.
     */
    public static long write(String openSearch, String index, int docs, IntFunction<byte[]> requestBody) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(IN_FLIGHT);
        try {
            long t0 = System.nanoTime();
            List<Future<?>> inFlight = new ArrayList<>();
            int requests = (docs + REQUEST_DOCS - 1) / REQUEST_DOCS;
            for (int k = 0; k < requests; k++) {
                byte[] body = requestBody.apply(k);
                if (inFlight.size() == IN_FLIGHT) {
                    inFlight.remove(0).get();
                }
                inFlight.add(pool.submit(() -> {
                    String r = send("POST", openSearch + "/" + index + "/_bulk?filter_path=errors", body);
                    if (!r.contains("\"errors\":false")) {
                        throw new IllegalStateException("bulk: " + r);
                    }
                    return null;
                }));
            }
            for (Future<?> f : inFlight) {
                f.get();
            }
            send("POST", openSearch + "/" + index + "/_refresh", null);
            long nanos = System.nanoTime() - t0;
            Matcher m = COUNT.matcher(send("GET", openSearch + "/" + index + "/_count", null));
            if (!m.find() || Long.parseLong(m.group(1)) != docs) {
                throw new IllegalStateException("bulk floor: " + index + " does not hold " + docs + " documents");
            }
            return nanos;
        } finally {
            pool.shutdownNow();
        }
    }

    /** One request to OpenSearch (NDJSON for {@code _bulk}, JSON otherwise); fails on a status ≥ 300. */
    public static String send(String method, String url, byte[] body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofMinutes(2))
            .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        if (body != null) {
            b.header("Content-Type", url.contains("_bulk") ? "application/x-ndjson" : "application/json");
        }
        HttpResponse<String> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() >= 300) {
            throw new IllegalStateException(method + " " + url + ": " + r.statusCode() + " " + r.body());
        }
        return r.body();
    }
}
