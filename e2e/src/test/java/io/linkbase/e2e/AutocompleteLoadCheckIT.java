package io.linkbase.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.linkbase.devstack.LinkbaseServices;
import io.linkbase.devstack.ServiceWiring;
import io.linkbase.kit.grpc.ServiceCredentials;
import io.linkbase.proto.internal.v1.SearchServiceGrpc;
import io.linkbase.proto.v1.SuggestRequest;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

import static io.linkbase.e2e.UserStoryHttpE2EIT.columnId;
import static io.linkbase.e2e.UserStoryHttpE2EIT.created;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The gateway's load check (a benchmark, not a timed test): autocomplete through the public
 * HTTP API next to the same queries sent straight to search-service's gRPC endpoint, in the
 * same run, at 1 client, 16 closed-loop clients and an open-loop 200 requests/s. It asserts only
 * that every answer is a good one; the figures are printed for docs/benchmarks.md.
 *
 * <p>Default size is small so {@code ./mvnw verify} exercises it quickly; the real run:
 * {@code -Dlinkbase.bench.records=100000 -Dlinkbase.bench.requests=3000 -Dlinkbase.bench.open-seconds=15
 * -Dlinkbase.bench.full-jit=true} (see docs/benchmarks.md).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AutocompleteLoadCheckIT {
    private static final int RECORDS = Integer.getInteger("linkbase.bench.records", 2_000);
    private static final int REQUESTS = Integer.getInteger("linkbase.bench.requests", 200);
    private static final int OPEN_SECONDS = Integer.getInteger("linkbase.bench.open-seconds", 1);
    private static final int CLIENTS = 16;
    private static final int SLICES = 3;
    private static final int WARM_UP = Math.max(200, Math.min(2 * REQUESTS, 6_000));
    /** Full-size runs warm up in 3 alternating rounds: the search benchmark showed 1 round is too short for C2. */
    private static final int WARM_UP_ROUNDS = REQUESTS >= 3_000 ? 3 : 1;
    private static final int OPEN_RATE = 200;
    private static final String[] SYLLABLES = {"ka", "lo", "mi", "ra", "ne", "to", "su", "vi", "be", "yo",
        "rö", "dé", "an", "el", "or", "ün", "is", "ma", "ti", "co"};

    /**
     * A blocking client whose calling thread does the I/O (no hand-off to a selector thread, as
     * java.net.http has), so the load generator costs the gateway path about what the gRPC
     * client costs the service path; keep-alive connections, one per client thread.
     */
    private final CloseableHttpClient http = HttpClients.custom()
        .setConnectionManager(PoolingHttpClientConnectionManagerBuilder.create()
            .setMaxConnPerRoute(64).setMaxConnTotal(64).build())
        .build();
    private ManagedChannel channel;
    private SearchServiceGrpc.SearchServiceBlockingStub service;
    private String token;
    private String tableId;
    private String columnId;
    private List<String> queries;

    @BeforeAll
    void load() {
        Api admin = new Api(Stack.adminToken());
        assertThat(admin.put("/api/v1/tenants/" + Stack.BENCH_TENANT, null).status()).isIn(200, 201);
        token = Stack.token(Stack.BENCH_TENANT, 24 * 3600, "owner");
        Api owner = new Api(token);
        String suffix = Long.toString(System.nanoTime(), 36);
        JsonNode artist = created(owner.post("/api/v1/tables", "{\"name\":\"artist " + suffix + "\",\"columns\":[{\"name\":\"Name\"}]}"));
        JsonNode track = created(owner.post("/api/v1/tables", "{\"name\":\"track " + suffix + "\",\"columns\":[{\"name\":\"Artist\"}]}"));
        String name = columnId(artist, "Name");
        Random random = new Random(42);
        List<String> names = new ArrayList<>();
        for (int start = 0; start < RECORDS; start += 10_000) {
            StringBuilder batch = new StringBuilder("{\"records\":[");
            for (int i = start; i < Math.min(RECORDS, start + 10_000); i++) {
                String n = word(random) + " " + word(random);
                names.add(n);
                batch.append(i > start ? "," : "").append("{\"values\":{\"").append(name).append("\":\"").append(n).append("\"}}");
            }
            created(owner.post("/api/v1/tables/" + artist.get("id").asText() + "/records/batch", batch.append("]}").toString()));
        }
        tableId = track.get("id").asText();
        columnId = columnId(track, "Artist");
        long linkStart = System.nanoTime();
        Api.Response linked = owner.put("/api/v1/tables/" + tableId + "/columns/" + columnId + "/link?wait=30",
            "{\"targetTableId\":\"" + artist.get("id").asText() + "\"}");
        assertThat(linked.status()).as(linked.toString()).isIn(200, 202);
        // A large target takes longer than one ?wait to back-fill: keep asking.
        await().atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofSeconds(1)).until(() ->
            "ACTIVE".equals(owner.get("/api/v1/tables/" + tableId + "/columns/" + columnId + "/link").body().path("state").asText()));
        System.out.printf(Locale.ROOT, "link of %,d target records ACTIVE (reconciled and indexed) in %.1f s%n",
            RECORDS, (System.nanoTime() - linkStart) / 1e9);
        // Realistic typing: prefixes of 1 to 8 characters of real names, and a term that matches nothing.
        queries = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            String n = names.get(random.nextInt(names.size()));
            queries.add(n.substring(0, Math.min(n.length(), 1 + random.nextInt(8))).trim());
        }
        queries.add("zzqx");
        channel = ServiceCredentials.channel("127.0.0.1:" + Stack.services().grpcPort(LinkbaseServices.SEARCH),
            ServiceWiring.SERVICE_SECRET, "test").build();
        Metadata md = new Metadata();
        md.put(Metadata.Key.of("x-linkbase-tenant", Metadata.ASCII_STRING_MARSHALLER), Stack.BENCH_TENANT);
        service = SearchServiceGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
    }

    @AfterAll
    void close() throws Exception {
        if (channel != null) {
            channel.shutdownNow();
        }
        http.close();
    }

    @Test
    void gatewayAutocompleteNextToTheServiceItCalls() throws Exception {
        Function<String, Integer> viaService = q -> service.withDeadlineAfter(10, TimeUnit.SECONDS).suggest(
            SuggestRequest.newBuilder().setTableId(tableId).setColumnId(columnId).setQ(q).setLimit(10).build())
            .getSuggestionsCount();
        Function<String, Integer> viaGateway = q -> {
            HttpGet request = new HttpGet(Stack.gatewayUrl() + "/api/v1/tables/" + tableId
                + "/columns/" + columnId + "/suggestions?limit=10&q=" + URLEncoder.encode(q, StandardCharsets.UTF_8));
            request.setHeader("Authorization", "Bearer " + token);
            try {
                return http.execute(request, response -> {
                    String body = EntityUtils.toString(response.getEntity(), StandardCharsets.UTF_8);
                    if (response.getCode() != 200) {
                        throw new IllegalStateException(response.getCode() + " " + body);
                    }
                    return Api.JSON.readTree(body).get("suggestions").size();
                });
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
        // Both answer the same queries with the same number of suggestions.
        for (String q : queries.subList(0, 20)) {
            assertThat(viaGateway.apply(q)).as(q).isEqualTo(viaService.apply(q));
        }
        assertThat(viaService.apply("zzqx")).isZero();
        // Warm-up long enough for C2 to compile the hot paths of both (≈18,000 calls each at full size).
        for (int round = 0; round < WARM_UP_ROUNDS; round++) {
            closedLoop(viaService, 4, WARM_UP);
            closedLoop(viaGateway, 4, WARM_UP);
        }

        List<String> lines = new ArrayList<>();
        lines.add(String.format(Locale.ROOT, "autocomplete load check: %,d target records, %,d queries per phase (1-8 char prefixes + no-match)",
            RECORDS, REQUESTS));
        lines.add(String.format(Locale.ROOT, "%-34s %8s %8s %8s %10s", "phase", "p50 ms", "p95 ms", "p99 ms", "req/s"));
        // Service and gateway alternate in slices, so that load from other processes on the
        // machine (merges, relays, GC) hits both alike.
        Result s1 = null;
        Result g1 = null;
        Result s16 = null;
        Result g16 = null;
        for (int slice = 0; slice < SLICES; slice++) {
            s1 = Result.plus(s1, closedLoop(viaService, 1, REQUESTS / SLICES));
            g1 = Result.plus(g1, closedLoop(viaGateway, 1, REQUESTS / SLICES));
        }
        for (int slice = 0; slice < SLICES; slice++) {
            s16 = Result.plus(s16, closedLoop(viaService, CLIENTS, REQUESTS * 4 / SLICES));
            g16 = Result.plus(g16, closedLoop(viaGateway, CLIENTS, REQUESTS * 4 / SLICES));
        }
        Result sOpen = openLoop(viaService);
        Result gOpen = openLoop(viaGateway);
        lines.add(s1.line("search-service gRPC, 1 client"));
        lines.add(g1.line("gateway HTTP, 1 client"));
        lines.add(s16.line("search-service gRPC, 16 clients"));
        lines.add(g16.line("gateway HTTP, 16 clients"));
        lines.add(sOpen.line("search-service gRPC, open 200/s"));
        lines.add(gOpen.line("gateway HTTP, open 200/s"));
        lines.add(String.format(Locale.ROOT, "gateway/service: 1-client p99 %.2fx (goal <= 1.3x, and <= 8 ms), "
                + "16-client throughput %.2fx (goal >= 0.75x), open-loop p99 %.2f ms (goal <= 10 ms)",
            g1.p(99) / s1.p(99), g16.throughput / s16.throughput, gOpen.p(99)));
        lines.forEach(System.out::println);
        assertThat(g1.count + g16.count + gOpen.count).isPositive();
    }

    private Result closedLoop(Function<String, Integer> call, int clients, int total) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        AtomicInteger next = new AtomicInteger();
        long[] latencies = new long[total];
        long t0 = System.nanoTime();
        List<Future<?>> workers = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            workers.add(pool.submit(() -> {
                for (int i = next.getAndIncrement(); i < total; i = next.getAndIncrement()) {
                    long start = System.nanoTime();
                    call.apply(queries.get(i % queries.size()));
                    latencies[i] = System.nanoTime() - start;
                }
                return null;
            }));
        }
        for (Future<?> w : workers) {
            w.get();
        }
        long elapsed = System.nanoTime() - t0;
        pool.shutdown();
        return new Result(latencies, total, total / (elapsed / 1e9));
    }

    /** Requests sent on a fixed schedule; latency counts from the scheduled time (no coordinated omission). */
    private Result openLoop(Function<String, Integer> call) throws Exception {
        int total = OPEN_RATE * OPEN_SECONDS;
        long[] latencies = new long[total];
        ScheduledExecutorService clock = Executors.newSingleThreadScheduledExecutor();
        ExecutorService pool = Executors.newFixedThreadPool(64);
        long t0 = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
        long interval = TimeUnit.SECONDS.toNanos(1) / OPEN_RATE;
        List<Future<?>> sent = new ArrayList<>();
        for (int i = 0; i < total; i++) {
            int n = i;
            long due = t0 + n * interval;
            sent.add(pool.submit(() -> {
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
                call.apply(queries.get(n % queries.size()));
                latencies[n] = System.nanoTime() - due;
                return null;
            }));
        }
        for (Future<?> f : sent) {
            f.get();
        }
        long elapsed = System.nanoTime() - t0;
        pool.shutdown();
        clock.shutdown();
        return new Result(latencies, total, total / (elapsed / 1e9));
    }

    private static String word(Random random) {
        StringBuilder w = new StringBuilder();
        int n = 2 + random.nextInt(3);
        for (int i = 0; i < n; i++) {
            w.append(SYLLABLES[random.nextInt(SYLLABLES.length)]);
        }
        return Character.toUpperCase(w.charAt(0)) + w.substring(1);
    }

    private static final class Result {
        final long[] sorted;
        final int count;
        final double throughput;
        final double seconds;

        Result(long[] latencies, int count, double throughput) {
            this.sorted = latencies.clone();
            Arrays.sort(sorted);
            this.count = count;
            this.throughput = throughput;
            this.seconds = count / throughput;
        }

        /** Two slices of the same phase as one: all latencies, requests over the summed time. */
        static Result plus(Result a, Result b) {
            if (a == null) {
                return b;
            }
            long[] all = Arrays.copyOf(a.sorted, a.sorted.length + b.sorted.length);
            System.arraycopy(b.sorted, 0, all, a.sorted.length, b.sorted.length);
            return new Result(all, a.count + b.count, (a.count + b.count) / (a.seconds + b.seconds));
        }

        double p(double percentile) {
            int i = (int) Math.ceil(percentile / 100.0 * sorted.length) - 1;
            return sorted[Math.max(0, Math.min(sorted.length - 1, i))] / 1e6;
        }

        String line(String phase) {
            return String.format(Locale.ROOT, "%-34s %8.2f %8.2f %8.2f %10.0f", phase, p(50), p(95), p(99), throughput);
        }
    }
}
