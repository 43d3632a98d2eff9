package io.linkbase.search.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.linkbase.devstack.ModuleProcess;
import io.linkbase.devstack.Ports;
import io.linkbase.devstack.Servers;
import io.linkbase.devstack.TestServers;
import io.linkbase.devstack.bench.BulkFloor;
import io.linkbase.devstack.bench.BulkFloor.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What makes a raw OpenSearch bulk of our documents cheaper (issue 14, point 1), not part of the
 * default build. Run:
 * <pre>nice -n 19 ./mvnw -B -q -o -pl search-service -am verify -Dtest=none -Dsurefire.failIfNoSpecifiedTests=false \
 *   -Dit.test=BulkFloorBenchmarkIT -Dfailsafe.failIfNoSpecifiedTests=false -Dlinkbase.bench.bulk=true \
 *   [-Dlinkbase.bench.bulk.docs=200000] [-Dlinkbase.bench.bulk.rounds=3]</pre>
 * The documents are LinkMillionBenchmarkE2EIT's target, shaped as search-service writes them (id,
 * routing, {@code external_gte} version, fields), bulk-written 5,000 per request, 2 in flight, into a
 * fresh index of records-template-v2 or of one variant of it, then refreshed. Every round runs every
 * variant once, in the same order (A, B, C…, A, B, C…), so the machine's noise hits all alike (round 0,
 * the same, only warms up and is not counted); the
 * request bodies are built before the clock starts. Prints per pass docs/s, OpenSearch CPU per doc
 * (utime + stime of its process, from /proc) and the load average; then each variant's median.
 * The "heap 1g" variant runs the baseline template on a second node started with -Xmx1g (its
 * indexing buffer, 10% of the heap, doubles).
 */
@EnabledIfSystemProperty(named = "linkbase.bench.bulk", matches = "true")
class BulkFloorBenchmarkIT {
    private static final int DOCS = Integer.getInteger("linkbase.bench.bulk.docs", 200_000);
    private static final int ROUNDS = Integer.getInteger("linkbase.bench.bulk.rounds", 3);
    private static final String ONLY = System.getProperty("linkbase.bench.bulk.only", "");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final BulkFloor.Target TARGET = new BulkFloor.Target("bulkbench", "0b5a0c52-7d2e-4c35-9f6b-1d3f0a1c2e11",
        "5c3f9e0a-7e1b-4a55-8d0e-2b6c9f1a3d22", "9d8e7f6a-1b2c-4d3e-8f4a-5b6c7d8e9f33");

    record Variant(String name, Consumer<ObjectNode> template, Shape shape, boolean bigHeap) { }

    @Test
    void bulkVariants() throws Exception {
        Shape ours = Shape.SEARCH_SERVICE;
        List<Variant> all = List.of(
            new Variant("baseline (template v2)", t -> { }, ours, false),
            new Variant("docs + no norms on summary/text", t -> {
                ObjectNode p = props(t);
                for (String f : List.of("summary", "text")) {
                    ((ObjectNode) p.get(f)).put("index_options", "docs").put("norms", false);
                }
            }, ours, false),
            new Variant("text repeating the summary (documents before 2026-12-01)", t -> { }, new Shape(true, true), false),
            new Variant("segments_per_tier 10 (default)", t -> merge(t).put("segments_per_tier", 10), ours, false),
            new Variant("no merge policy override", t -> settings(t).remove("merge"), ours, false),
            new Variant("translog async", t -> settings(t).putObject("translog").put("durability", "async")
                .put("sync_interval", "5s"), ours, false),
            new Variant("refresh 1s", t -> settings(t).put("refresh_interval", "1s"), ours, false),
            new Variant("edge_ngram max_gram 10", t -> ((ObjectNode) settings(t).get("analysis").get("filter")
                .get("word_prefixes")).put("max_gram", 10), ours, false),
            new Variant("no external_gte version", t -> { }, new Shape(false, false), false),
            new Variant("heap 1g (baseline template)", t -> { }, ours, true),
            new Variant("combined: docs/no norms + spt 10", t -> {
                ObjectNode p = props(t);
                for (String f : List.of("summary", "text")) {
                    ((ObjectNode) p.get(f)).put("index_options", "docs").put("norms", false);
                }
                merge(t).put("segments_per_tier", 10);
            }, new Shape(true, false), false));
        List<Variant> variants = new ArrayList<>();
        for (Variant v : all) {
            if (v.name().startsWith("baseline") || ONLY.isEmpty() || Arrays.stream(ONLY.split(",")).anyMatch(v.name()::contains)) {
                variants.add(v);
            }
        }
        ObjectNode template = template();
        Map<Shape, List<byte[]>> bodies = new HashMap<>();
        for (Variant v : variants) {
            bodies.computeIfAbsent(v.shape(), shape -> BulkFloor.bodies(TARGET, shape, DOCS));
        }
        String small = TestServers.openSearch().httpUrl();
        ModuleProcess big = variants.stream().anyMatch(Variant::bigHeap) ? startBigNode() : null;
        try {
            String bigUrl = big == null ? null : "http://127.0.0.1:" + readyPort(big);
            Map<String, List<double[]>> results = new LinkedHashMap<>();
            System.out.printf(Locale.ROOT, "bulk bench: %,d documents per pass, %d rounds, %d variants; OpenSearch pid %d (512m)%s%n",
                DOCS, ROUNDS, variants.size(), openSearchPid(small), bigUrl == null ? "" : ", pid " + openSearchPid(bigUrl) + " (1g)");
            // round 0 runs every variant once to warm both nodes (JIT, caches) and is not counted
            for (int round = 0; round <= ROUNDS; round++) {
                for (Variant v : variants) {
                    ObjectNode t = template.deepCopy();
                    v.template().accept(t);
                    double[] r = pass(v.bigHeap() ? bigUrl : small, t, bodies.get(v.shape()));
                    System.out.printf(Locale.ROOT, "bulk bench: round %d %-52s %,8.0f docs/s  %6.1f µs CPU/doc  load %.2f%s%n",
                        round, v.name(), r[0], r[1], r[2], round == 0 ? " (warm-up)" : "");
                    if (round > 0) {
                        results.computeIfAbsent(v.name(), k -> new ArrayList<>()).add(r);
                    }
                }
            }
            double base = median(results.get(variants.get(0).name()), 0);
            for (Map.Entry<String, List<double[]>> e : results.entrySet()) {
                double docs = median(e.getValue(), 0);
                System.out.printf(Locale.ROOT, "bulk bench: median %-52s %,8.0f docs/s (%+.0f%%)  %6.1f µs CPU/doc  load %.2f%n",
                    e.getKey(), docs, (docs / base - 1) * 100, median(e.getValue(), 1), median(e.getValue(), 2));
            }
        } finally {
            if (big != null) {
                big.close();
            }
        }
    }

    /** One pass: {docs/s, OpenSearch CPU µs per doc, 1-minute load average at the end}. */
    private static double[] pass(String os, ObjectNode template, List<byte[]> bodies) throws Exception {
        String index = "bulkbench-" + Long.toString(System.nanoTime(), 36);
        BulkFloor.send("PUT", os + "/" + index, JSON.writeValueAsBytes(template.get("template")));
        long pid = openSearchPid(os);
        try {
            long cpu0 = cpuTicks(pid);
            long nanos = BulkFloor.write(os, index, DOCS, bodies::get);
            long cpu = cpuTicks(pid) - cpu0;
            double load = Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
            return new double[]{DOCS / (nanos / 1e9), cpu * 10_000.0 / DOCS, load};
        } finally {
            BulkFloor.send("DELETE", os + "/" + index, null);
        }
    }

    private static ObjectNode template() throws Exception {
        try (InputStream in = BulkFloorBenchmarkIT.class.getResourceAsStream("/opensearch/records-template-v2.json")) {
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8).replace("${refresh_interval}", "250ms");
            return (ObjectNode) JSON.readTree(text);
        }
    }

    private static ObjectNode settings(ObjectNode t) {
        return (ObjectNode) t.get("template").get("settings");
    }

    private static ObjectNode merge(ObjectNode t) {
        return (ObjectNode) settings(t).get("merge").get("policy");
    }

    private static ObjectNode props(ObjectNode t) {
        return (ObjectNode) t.get("template").get("mappings").get("properties");
    }

    private static double median(List<double[]> rs, int k) {
        double[] xs = rs.stream().mapToDouble(r -> r[k]).sorted().toArray();
        return xs.length % 2 == 1 ? xs[xs.length / 2] : (xs[xs.length / 2 - 1] + xs[xs.length / 2]) / 2;
    }

    private static ModuleProcess startBigNode() throws Exception {
        Path dir = Files.createTempDirectory("bulkbench-os");
        return ModuleProcess.builder(Servers.OPENSEARCH_MODULE, Servers.OPENSEARCH_MAIN)
            .name("opensearch-1g")
            .jvmArgs("-Xms1g", "-Xmx1g", "-Dlog4j2.disable.jmx=true")
            .args("--port", Ports.free(), "--transport-port", Ports.free(), "--data-dir", dir.resolve("home"))
            .readyLine(ModuleProcess.READY_LINE)
            .logFile(dir.resolve("opensearch.log"))
            .startTimeout(Duration.ofSeconds(180))
            .start();
    }

    private static int readyPort(ModuleProcess p) {
        var m = ModuleProcess.READY_LINE.matcher(p.readyLine().orElseThrow());
        assertThat(m.find()).isTrue();
        return Integer.parseInt(m.group(1));
    }

    /** The pid of the devstack OpenSearch JVM serving {@code url} (its command line names the port); -1 when not found. */
    private static long openSearchPid(String url) throws Exception {
        String port = url.substring(url.lastIndexOf(':') + 1);
        try (var procs = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) procs::iterator) {
                if (!p.getFileName().toString().matches("\\d+")) {
                    continue;
                }
                try {
                    List<String> a = Arrays.asList(Files.readString(p.resolve("cmdline")).split("\0"));
                    int i = a.indexOf("--port");
                    if (i >= 0 && i + 1 < a.size() && a.get(i + 1).equals(port)
                        && a.stream().anyMatch(s -> s.contains("OpenSearchServerMain"))) {
                        return Long.parseLong(p.getFileName().toString());
                    }
                } catch (java.io.IOException gone) {
                    // the process ended while we looked
                }
            }
        }
        return -1;
    }

    /** utime + stime of the process in clock ticks (1/100 s); 0 when unknown. */
    private static long cpuTicks(long pid) throws Exception {
        if (pid < 0) {
            return 0;
        }
        String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(f[11]) + Long.parseLong(f[12]);
    }
}
