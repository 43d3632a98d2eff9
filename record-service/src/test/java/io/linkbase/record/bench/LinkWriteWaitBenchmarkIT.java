package io.linkbase.record.bench;

import io.linkbase.devstack.TestServers;
import io.linkbase.record.support.LinkUnderWrites;
import io.linkbase.record.support.RecordServiceHarness;
import io.linkbase.record.support.SchemaEvents;
import io.micronaut.test.extensions.junit5.annotation.MicronautTest;
import org.HdrHistogram.Histogram; // micrometer's own (runtime) HdrHistogram: declaring it for tests would take it off the service's runtime classpath
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * How long single-row writes to the linking and the target table wait while a large link
 * reconciles, next to the same writes with no link running (the baseline, same run, same data).
 * Opt-in: {@code -Dlinkbase.bench.link-writes=true}; sizes {@code -Dlinkbase.bench.link-targets}
 * (default 1,000,000) and {@code -Dlinkbase.bench.link-rows} (default 100,000). The writers call
 * record-service's gRPC API; the linking table's writers once as a direct client and once as the
 * gateway calls it (with the table version that includes the link, so record-service first waits
 * until it has applied the link as far as a write needs). docs/benchmarks.md has the command.
 */
@MicronautTest(transactional = false)
@EnabledIfSystemProperty(named = "linkbase.bench.link-writes", matches = "true")
class LinkWriteWaitBenchmarkIT extends RecordServiceHarness {
    private static final int TARGETS = Integer.getInteger("linkbase.bench.link-targets", 1_000_000);
    private static final int ROWS = Integer.getInteger("linkbase.bench.link-rows", 100_000);
    private static final long BASELINE_MS = Long.getLong("linkbase.bench.baseline-ms", 10_000);

    @Override
    protected String database() {
        return "record_link_wait_bench";
    }

    @Test
    void writesDuringALargeLink() throws Exception {
        for (boolean asTheGateway : List.of(false, true)) {
            SchemaEvents s = newTenant(asTheGateway ? "gw" : "direct");
            LinkUnderWrites run = new LinkUnderWrites(db, s, () -> api(s.tenant()), TestServers.postgres().jdbcUrl(database()),
                TestServers.postgres().user(), TestServers.postgres().password(), TARGETS, ROWS);
            run.setUp();
            // baseline: the same writers for BASELINE_MS with no link running (writes to the link
            // column go to the records after the reserved ones' first half, so the link's writers keep theirs)
            // (the gateway-like writers carry the table's version before the link: 1, then the link's: 2)
            Phase baseline = writeFor(run, asTheGateway, 1, () -> Thread.sleep(BASELINE_MS));
            run.writes.clear();
            long[] linkNanos = new long[1];
            Phase during = writeFor(run, asTheGateway, 2, () -> {
                Thread.sleep(300);
                long t0 = System.nanoTime();
                run.link();
                linkNanos[0] = System.nanoTime() - t0;
            });
            assertThat(run.dangling()).isZero();
            System.out.printf("%n[bench] link of %,d rows to %,d targets (%s writers of the linking table): %,d ms from "
                    + "ColumnLinked sent to applied%n", ROWS, TARGETS, asTheGateway ? "gateway-like" : "direct",
                linkNanos[0] / 1_000_000);
            System.out.printf("[bench] %-44s %18s %18s %18s %18s%n", "writer", "baseline n/err", "base p50/p99/max ms",
                "during n/err", "link p50/p99/max ms");
            for (String writer : baseline.byWriter.keySet()) {
                Stats b = baseline.byWriter.get(writer);
                Stats d = during.byWriter.getOrDefault(writer, new Stats());
                System.out.printf("[bench] %-44s %18s %18s %18s %18s%n", writer, b.n() + "/" + b.errors, b.ms(),
                    d.n() + "/" + d.errors, d.ms());
            }
            for (Map.Entry<String, Stats> e : during.byWriter.entrySet()) {
                Stats b = baseline.byWriter.get(e.getKey());
                for (Stats st : b == null ? List.of(e.getValue()) : List.of(b, e.getValue())) {
                    if (st.firstError != null) {
                        System.out.printf("[bench] %s: %d error(s), e.g. %s%n", e.getKey(), st.errors, st.firstError);
                    }
                }
            }
            for (String table : List.of("track", "artist")) {
                Stats b = baseline.byTable.get(table);
                Stats d = during.byTable.get(table);
                System.out.printf("[bench] ALL writes to %-32s %18s %18s %18s %18s%n", table + (table.equals("track")
                    ? " (linking)" : " (target)"), b.n() + "/" + b.errors, b.ms(), d.n() + "/" + d.errors, d.ms());
            }
        }
    }

    @FunctionalInterface
    private interface Body {
        void run() throws Exception;
    }

    private static final class Stats {
        final Histogram h = new Histogram(60_000_000L, 3);
        long errors;
        String firstError;

        long n() {
            return h.getTotalCount();
        }

        String ms() {
            return n() == 0 ? "-" : String.format("%.1f/%.1f/%.1f", h.getValueAtPercentile(50) / 1000.0,
                h.getValueAtPercentile(99) / 1000.0, h.getMaxValue() / 1000.0);
        }
    }

    private record Phase(Map<String, Stats> byWriter, Map<String, Stats> byTable) {
    }

    /** Runs the writers while {@code body} runs; the latency of every write that overlapped it, in µs. */
    private Phase writeFor(LinkUnderWrites run, boolean asTheGateway, long tableVersion, Body body) throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> threads = new ArrayList<>();
        for (Runnable w : run.writers(stop, asTheGateway, tableVersion)) {
            Thread t = new Thread(w, "writer");
            t.setDaemon(true);
            t.start();
            threads.add(t);
        }
        long from;
        long to;
        try {
            Thread.sleep(200);
            from = System.nanoTime();
            body.run();
            to = System.nanoTime();
        } finally {
            stop.set(true);
            for (Thread t : threads) {
                t.join(60_000);
            }
        }
        Map<String, Stats> byWriter = new TreeMap<>();
        Map<String, Stats> byTable = new TreeMap<>();
        for (LinkUnderWrites.Write w : List.copyOf(run.writes)) {
            if (w.end() < from || w.start() > to) {
                continue;
            }
            for (Stats st : List.of(byWriter.computeIfAbsent(w.writer(), k -> new Stats()),
                byTable.computeIfAbsent(w.table(), k -> new Stats()))) {
                if (w.outcome().equals("ok") || w.outcome().equals("refused")) {
                    st.h.recordValue(Math.max(1, w.micros()));
                } else {
                    st.errors++;
                    st.firstError = st.firstError == null ? w.outcome() : st.firstError;
                }
            }
        }
        return new Phase(byWriter, byTable);
    }
}
