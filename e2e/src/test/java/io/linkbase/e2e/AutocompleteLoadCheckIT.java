package io.linkbase.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import io.linkbase.devstack.LinkbaseServices;
import io.linkbase.devstack.ServiceWiring;
import io.linkbase.devstack.bench.Load;
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
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static io.linkbase.e2e.UserStoryHttpE2EIT.columnId;
import static io.linkbase.e2e.UserStoryHttpE2EIT.created;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The gateway's load check (a benchmark, not a timed test): autocomplete through the public
 * HTTP API next to the same queries sent straight to search-service's gRPC endpoint — the floor —
 * in the same run, at 1 client, 16 closed-loop clients and an open-loop 200 requests/s, each goal
 * printed as a ratio to the floor; every failed or timed-out request counted ({@link Load}); and
 * freshness through the real path: a record written through the API → suggestible through the API.
 * It asserts only that every answer is a good one and none failed; the figures are printed for
 * docs/benchmarks.md.
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
    /** Freshness samples: enough for a p95 in a real run (Load.enoughFor), a few to keep it working. */
    private static final int FRESH_SAMPLES = Integer.getInteger("linkbase.bench.fresh-samples",
        RECORDS >= 100_000 ? 200 : 3);
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
    private String artistTableId;
    private String nameColumnId;
    private double linkSeconds;

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
        artistTableId = artist.get("id").asText();
        nameColumnId = name;
        tableId = track.get("id").asText();
        columnId = columnId(track, "Artist");
        long linkStart = System.nanoTime();
        Api.Response linked = owner.put("/api/v1/tables/" + tableId + "/columns/" + columnId + "/link?wait=30",
            "{\"targetTableId\":\"" + artist.get("id").asText() + "\"}");
        assertThat(linked.status()).as(linked.toString()).isIn(200, 202);
        // A large target takes longer than one ?wait to back-fill: keep asking.
        await().atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofSeconds(1)).until(() ->
            "ACTIVE".equals(owner.get("/api/v1/tables/" + tableId + "/columns/" + columnId + "/link").body().path("state").asText()));
        linkSeconds = (System.nanoTime() - linkStart) / 1e9;
        System.out.printf(Locale.ROOT, "link of %,d target records ACTIVE (reconciled and indexed) in %.1f s%n",
            RECORDS, linkSeconds);
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
        Load.Call service = i -> viaService.apply(queries.get(i % queries.size()));
        Load.Call gateway = i -> viaGateway.apply(queries.get(i % queries.size()));
        // Warm-up long enough for C2 to compile the hot paths of both (≈18,000 calls each at full size).
        Duration noLimit = Duration.ofHours(1);
        for (int round = 0; round < WARM_UP_ROUNDS; round++) {
            Load.closedLoop(service, 4, WARM_UP, noLimit);
            Load.closedLoop(gateway, 4, WARM_UP, noLimit);
        }

        List<String> lines = new ArrayList<>();
        lines.add(String.format(Locale.ROOT, "autocomplete load check: %,d target records, %,d queries per phase (1-8 char prefixes + no-match)",
            RECORDS, REQUESTS));
        lines.add(Load.Result.header());
        // Service and gateway alternate in slices, so that load from other processes on the
        // machine (merges, relays, GC) hits both alike.
        Load.Result s1 = null;
        Load.Result g1 = null;
        Load.Result s16 = null;
        Load.Result g16 = null;
        Load.Result sOpen = null;
        Load.Result gOpen = null;
        for (int slice = 0; slice < SLICES; slice++) {
            s1 = Load.Result.plus(s1, Load.closedLoop(service, 1, REQUESTS / SLICES, noLimit));
            g1 = Load.Result.plus(g1, Load.closedLoop(gateway, 1, REQUESTS / SLICES, noLimit));
        }
        for (int slice = 0; slice < SLICES; slice++) {
            s16 = Load.Result.plus(s16, Load.closedLoop(service, CLIENTS, REQUESTS * 4 / SLICES, noLimit));
            g16 = Load.Result.plus(g16, Load.closedLoop(gateway, CLIENTS, REQUESTS * 4 / SLICES, noLimit));
        }
        Duration openSlice = Duration.ofMillis(Math.max(1_000, OPEN_SECONDS * 1_000L / 2));
        for (int slice = 0; slice < 2; slice++) {
            sOpen = Load.Result.plus(sOpen, Load.openLoop(service, OPEN_RATE, openSlice, 64, Duration.ofSeconds(30)));
            gOpen = Load.Result.plus(gOpen, Load.openLoop(gateway, OPEN_RATE, openSlice, 64, Duration.ofSeconds(30)));
        }
        Load.Result fresh = freshness(owner());
        lines.add(s1.line("search-service gRPC, 1 client"));
        lines.add(g1.line("gateway HTTP, 1 client"));
        lines.add(s16.line("search-service gRPC, 16 clients"));
        lines.add(g16.line("gateway HTTP, 16 clients"));
        lines.add(sOpen.line("search-service gRPC, open " + OPEN_RATE + "/s"));
        lines.add(gOpen.line("gateway HTTP, open " + OPEN_RATE + "/s"));
        lines.add(fresh.line("freshness: API write -> suggestible"));
        lines.add(String.format(Locale.ROOT, "link of %,d targets: PUT -> ACTIVE %.1f s = %,.0f records/s through the real path "
            + "(reconciliation and backfill; phases and the raw bulk floor: LinkMillionBenchmarkE2EIT)", RECORDS, linkSeconds,
            RECORDS / linkSeconds));
        // Goals as ratios to the floor of this run (docs/decisions.md, "Benchmarks that cannot flatter").
        lines.add(Load.ratio("gateway/service 1-client p99", g1.p(99), s1.p(99), true, 1.3, g1, s1));
        lines.add(Load.ratio("gateway/service 16-client throughput", g16.throughput(), s16.throughput(), false, 0.75, g16, s16));
        lines.add(Load.ratio("gateway/service open-loop p99", gOpen.p(99), sOpen.p(99), true, 1.3, gOpen, sOpen));
        lines.add(String.format(Locale.ROOT, "freshness p95 %.0f ms (API.md's promise: <= 2,000 ms)", fresh.p(95)));
        lines.forEach(System.out::println);
        for (Load.Result r : List.of(s1, g1, s16, g16, sOpen, gOpen, fresh)) {
            assertThat(r.failed()).as("failed requests (see the lines above)").isZero();
        }
        assertThat(fresh.errors()).as("writes never suggestible").isZero();
        assertThat(g1.count() + g16.count() + gOpen.count()).isPositive();
    }

    private Api owner() {
        return new Api(token);
    }

    /**
     * Freshness through the real path: a new target record written through the API (gateway →
     * record-service → outbox → Kafka → search-service → OpenSearch), then its unique name asked
     * through the API every 10 ms until it is suggested; the time from the write's answer.
     */
    private Load.Result freshness(Api owner) throws Exception {
        Load.Result r = new Load.Result();
        long t0 = System.nanoTime();
        for (int k = 0; k < FRESH_SAMPLES; k++) {
            String unique = "Fresh" + Long.toString(System.nanoTime(), 36) + k;
            Api.Response w = owner.post("/api/v1/tables/" + artistTableId + "/records",
                "{\"values\":{\"" + nameColumnId + "\":\"" + unique + "\"}}");
            if (w.status() != 201) {
                r.failed(new IllegalStateException("write answered " + w));
                continue;
            }
            long written = System.nanoTime();
            String path = "/api/v1/tables/" + tableId + "/columns/" + columnId + "/suggestions?limit=10&q="
                + URLEncoder.encode(unique.toLowerCase(Locale.ROOT), StandardCharsets.UTF_8);
            while (true) {
                Api.Response s = owner.get(path);
                if (s.status() == 200 && s.body().path("suggestions").size() > 0) {
                    r.ok(System.nanoTime() - written);
                    break;
                }
                if (System.nanoTime() - written > TimeUnit.SECONDS.toNanos(30)) {
                    r.failed(new java.util.concurrent.TimeoutException("not suggestible 30 s after its write: " + unique));
                    break;
                }
                Thread.sleep(10);
            }
        }
        r.seconds((System.nanoTime() - t0) / 1e9);
        return r;
    }

    private static String word(Random random) {
        StringBuilder w = new StringBuilder();
        int n = 2 + random.nextInt(3);
        for (int i = 0; i < n; i++) {
            w.append(SYLLABLES[random.nextInt(SYLLABLES.length)]);
        }
        return Character.toUpperCase(w.charAt(0)) + w.substring(1);
    }
}
