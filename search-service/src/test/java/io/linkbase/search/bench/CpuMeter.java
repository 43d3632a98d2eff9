package io.linkbase.search.bench;

import io.linkbase.devstack.TestServers;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * CPU time per request of one side of the benchmark (service or raw), summed over its slices: of
 * this JVM (load generator, and for the service side search-service itself, which runs in-JVM),
 * of the OpenSearch child process when the devstack started one, and of this JVM's threads grouped
 * by name (digits dropped), so a reader sees where the service's extra CPU goes. On a 2-core
 * machine where OpenSearch is CPU-bound, CPU per request is the figure that decides the 16-client
 * throughput ratio. It is less at the mercy of other processes than wall-clock throughput, but on
 * a loaded box it still moved by tens of percent between runs (JIT, GC, caches): compare sides of
 * one run, and thread groups rather than the JVM total.
 */
final class CpuMeter {
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();
    private static final com.sun.management.OperatingSystemMXBean OS =
        (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
    /** The devstack's OpenSearch child JVM (its handle names the pid), empty for an external or Docker one. */
    private static final Optional<ProcessHandle> OPENSEARCH = Optional.of(
            java.util.regex.Pattern.compile("child JVM pid ([0-9]+)").matcher(TestServers.openSearch().toString()))
        .filter(java.util.regex.Matcher::find)
        .flatMap(m -> ProcessHandle.of(Long.parseLong(m.group(1))));

    private long jvmNanos;
    private long openSearchNanos = -1;
    private long requests;
    private final Map<String, Long> groups = new HashMap<>();

    /** A snapshot before a slice. */
    static final class Mark {
        final long jvm = OS.getProcessCpuTime();
        final long openSearch = openSearchCpu();
        final Map<Long, Long> threads = new HashMap<>();

        Mark() {
            for (long id : THREADS.getAllThreadIds()) {
                long t = THREADS.getThreadCpuTime(id);
                if (t >= 0) {
                    threads.put(id, t);
                }
            }
        }
    }

    /** CPU of the load generator's own threads (they end with each slice, so the thread groups miss them). */
    private final java.util.concurrent.atomic.LongAdder clientNanos = new java.util.concurrent.atomic.LongAdder();

    /** {@code call}, its calling thread's CPU counted as the load generator's. */
    io.linkbase.devstack.bench.Load.Call counted(io.linkbase.devstack.bench.Load.Call call) {
        return i -> {
            long t0 = THREADS.getCurrentThreadCpuTime();
            try {
                call.run(i);
            } finally {
                clientNanos.add(THREADS.getCurrentThreadCpuTime() - t0);
            }
        };
    }

    static Mark mark() {
        return new Mark();
    }

    /** Adds what was spent since {@code m} for {@code n} requests. */
    synchronized void add(Mark m, long n) {
        long jvm = OS.getProcessCpuTime();
        long os = openSearchCpu();
        jvmNanos += jvm - m.jvm;
        if (os >= 0 && m.openSearch >= 0) {
            openSearchNanos = Math.max(0, openSearchNanos) + (os - m.openSearch);
        }
        requests += n;
        for (var info : THREADS.getThreadInfo(THREADS.getAllThreadIds())) {
            if (info == null) {
                continue;
            }
            long now = THREADS.getThreadCpuTime(info.getThreadId());
            if (now < 0) {
                continue;
            }
            long spent = now - m.threads.getOrDefault(info.getThreadId(), 0L);
            groups.merge(info.getThreadName().replaceAll("[0-9]+", "N"), spent, Long::sum);
        }
    }

    double jvmMicrosPerRequest() {
        return requests == 0 ? Double.NaN : jvmNanos / 1e3 / requests;
    }

    double openSearchMicrosPerRequest() {
        return requests == 0 || openSearchNanos < 0 ? Double.NaN : openSearchNanos / 1e3 / requests;
    }

    /** "this JVM N µs, OpenSearch M µs per request (n requests); threads: ..." (thread groups over 2 % of the JVM's CPU). */
    String line(String what) {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT, "%-36s this JVM %7.0f µs, OpenSearch %7.0f µs per request (n=%d)",
            what, jvmMicrosPerRequest(), openSearchMicrosPerRequest(), requests));
        b.append("\n    threads (µs per request):");
        new TreeMap<>(groups).entrySet().stream()
            .filter(e -> e.getValue() > jvmNanos / 50)
            .sorted((x, y) -> Long.compare(y.getValue(), x.getValue()))
            .forEach(e -> b.append(String.format(Locale.ROOT, " %s %.0f;", e.getKey(), e.getValue() / 1e3 / requests)));
        long inThreads = groups.values().stream().mapToLong(Long::longValue).sum() + clientNanos.sum();
        b.append(String.format(Locale.ROOT, " load-client (calling threads) %.0f; other (ended threads, GC, JIT) %.0f",
            clientNanos.sum() / 1e3 / requests, (jvmNanos - inThreads) / 1e3 / requests));
        return b.toString();
    }

    private static long openSearchCpu() {
        return OPENSEARCH.flatMap(p -> p.info().totalCpuDuration()).map(Duration::toNanos).orElse(-1L);
    }
}
