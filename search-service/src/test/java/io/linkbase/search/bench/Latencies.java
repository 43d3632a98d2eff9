package io.linkbase.search.bench;

import java.util.Arrays;

/** Recorded latencies (nanoseconds) and their percentiles. */
final class Latencies {
    private long[] values = new long[1024];
    private int size;

    synchronized void add(long nanos) {
        if (size == values.length) {
            values = Arrays.copyOf(values, size * 2);
        }
        values[size++] = nanos;
    }

    synchronized void addAll(Latencies other) {
        for (int i = 0; i < other.size; i++) {
            add(other.values[i]);
        }
    }

    synchronized int count() {
        return size;
    }

    synchronized double percentileMs(double p) {
        if (size == 0) {
            return Double.NaN;
        }
        long[] sorted = Arrays.copyOf(values, size);
        Arrays.sort(sorted);
        int idx = (int) Math.ceil(p / 100.0 * size) - 1;
        return sorted[Math.max(0, Math.min(size - 1, idx))] / 1e6;
    }

    String summary() {
        return String.format("p50 %.2f ms  p95 %.2f ms  p99 %.2f ms  (n=%d)", percentileMs(50), percentileMs(95),
            percentileMs(99), count());
    }
}
