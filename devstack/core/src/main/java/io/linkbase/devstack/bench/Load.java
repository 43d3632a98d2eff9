package io.linkbase.devstack.bench;

import org.HdrHistogram.Histogram;

import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The load generator of the benchmarks (docs/benchmarks.md, "How the benchmarks measure"): closed
 * loops of N clients and an open loop at a fixed rate, latencies in an HdrHistogram, and every
 * failed or timed-out request counted and reported (a client never dies on an exception; an open
 * loop's request that has not answered by the end of its grace period counts as timed out). A
 * percentile is printed only with enough samples for it ({@link #enoughFor}); goals are printed
 * as ratios to a floor measured in the same run ({@link #ratio}).
 */
public final class Load {
    /** Latencies are kept up to this; a longer one is recorded as this. */
    private static final long MAX_NANOS = TimeUnit.MINUTES.toNanos(10);

    private Load() {
    }

    /** One request; {@code i} numbers the requests of a phase (e.g. to pick a query). */
    @FunctionalInterface
    public interface Call {
        void run(int i) throws Exception;
    }

    /** Whether {@code t} (or a cause) says the request ran out of time rather than failed. */
    public static boolean isTimeout(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof SocketTimeoutException || c instanceof java.util.concurrent.TimeoutException
                || c instanceof java.net.http.HttpTimeoutException
                || String.valueOf(c.getMessage()).startsWith("DEADLINE_EXCEEDED")
                || c.getClass().getSimpleName().contains("Timeout")) {
                return true;
            }
            if (c.getCause() == c) {
                break;
            }
        }
        return false;
    }

    /**
     * At least 10 samples beyond a percentile, else it is not quoted: p50 needs 20, p95 200,
     * p99 1,000.
     */
    public static long enoughFor(double percentile) {
        return (long) Math.ceil(10 / (1 - percentile / 100.0));
    }

    /** The outcome of one phase: successes' latencies, failures and time-outs, wall time. */
    public static final class Result {
        private final Histogram latencies = new Histogram(MAX_NANOS, 3);
        private long failed;
        private long timedOut;
        private final Map<String, Long> failures = new TreeMap<>();
        private double seconds;
        /** Set once a phase is over: a request answering later is not counted again. */
        private boolean sealed;

        /** A request that answered after {@code nanos}. */
        public synchronized void ok(long nanos) {
            if (sealed) {
                return;
            }
            latencies.recordValue(Math.max(1, Math.min(MAX_NANOS, nanos)));
        }

        /** A request that failed (or timed out, by {@link #isTimeout}). */
        public synchronized void failed(Throwable t) {
            if (sealed) {
                return;
            }
            if (isTimeout(t)) {
                timedOut++;
            } else {
                failed++;
            }
            // one kind per cause, not per figure in its message ("deadline exceeded after 9.97s");
            // short numbers (a status code) stay
            String kind = t.getClass().getSimpleName() + ": " + String.valueOf(t.getMessage()).lines().findFirst().orElse("")
                .replaceAll("[0-9]+\\.[0-9]+|[0-9]{4,}", "N");
            failures.merge(kind.length() > 120 ? kind.substring(0, 120) : kind, 1L, Long::sum);
        }

        synchronized void timedOut(long n) {
            sealed = true;
            timedOut += n;
            if (n > 0) {
                failures.merge("no answer by the end of the grace period", n, Long::sum);
            }
        }

        /** A phase run in slices, as one: all samples, requests over the summed time. */
        public static Result plus(Result a, Result b) {
            if (a == null) {
                return b;
            }
            Result r = new Result();
            for (Result x : List.of(a, b)) {
                synchronized (x) {
                    r.latencies.add(x.latencies);
                    r.failed += x.failed;
                    r.timedOut += x.timedOut;
                    x.failures.forEach((k, v) -> r.failures.merge(k, v, Long::sum));
                    r.seconds += x.seconds;
                }
            }
            return r;
        }

        public synchronized long count() {
            return latencies.getTotalCount();
        }

        public synchronized long failed() {
            return failed;
        }

        public synchronized long timedOut() {
            return timedOut;
        }

        /** Failed or timed out. */
        public synchronized long errors() {
            return failed + timedOut;
        }

        public synchronized double seconds() {
            return seconds;
        }

        /** The wall time the phase took (for requests per second). */
        public synchronized void seconds(double wall) {
            seconds = wall;
        }

        /** The percentile in ms, or NaN without enough samples for it. */
        public synchronized double p(double percentile) {
            return latencies.getTotalCount() < enoughFor(percentile) ? Double.NaN
                : latencies.getValueAtPercentile(percentile) / 1e6;
        }

        public synchronized double maxMs() {
            return latencies.getTotalCount() == 0 ? Double.NaN : latencies.getMaxValue() / 1e6;
        }

        /** Successful requests per second of wall time. */
        public synchronized double throughput() {
            return seconds <= 0 ? Double.NaN : latencies.getTotalCount() / seconds;
        }

        /** One line: p50/p95/p99/max, rate, samples, failures and time-outs (with their kinds). */
        public synchronized String line(String what) {
            String kinds = failures.isEmpty() ? "" : "  " + failures;
            return String.format(Locale.ROOT, "%-36s %8s %8s %8s %8.2f %9.0f %8d %6d %6d%s", what, ms(p(50)), ms(p(95)),
                ms(p(99)), maxMs(), throughput(), count(), failed, timedOut, kinds);
        }

        /** The header of {@link #line}. */
        public static String header() {
            return String.format(Locale.ROOT, "%-36s %8s %8s %8s %8s %9s %8s %6s %6s", "phase", "p50 ms", "p95 ms",
                "p99 ms", "max ms", "req/s", "n", "failed", "t/o");
        }
    }

    private static String ms(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.2f", v);
    }

    /**
     * {@code measured / floor} next to its goal, e.g. "service/raw open-loop p99 1.84x (goal <= 2x):
     * met"; "not valid" when either side had errors or too few samples.
     */
    public static String ratio(String what, double measured, double floor, boolean atMost, double goal,
                               Result... phases) {
        double r = measured / floor;
        boolean valid = !Double.isNaN(r) && !Double.isInfinite(r);
        for (Result p : phases) {
            valid &= p.errors() == 0;
        }
        String verdict = !valid ? "not valid (errors or too few samples)" : (atMost ? r <= goal : r >= goal) ? "met" : "missed";
        return String.format(Locale.ROOT, "%s %.2fx (goal %s %.2fx): %s", what, r, atMost ? "<=" : ">=", goal, verdict);
    }

    /**
     * {@code clients} threads each calling in a loop until {@code maxCalls} calls were started or
     * {@code maxTime} passed. A failed call is counted and the client goes on.
     */
    public static Result closedLoop(Call call, int clients, long maxCalls, Duration maxTime) throws InterruptedException {
        Result r = new Result();
        AtomicLong next = new AtomicLong();
        long t0 = System.nanoTime();
        long end = t0 + maxTime.toNanos();
        List<Thread> threads = new ArrayList<>();
        for (int c = 0; c < clients; c++) {
            Thread t = new Thread(() -> {
                while (System.nanoTime() < end) {
                    long i = next.getAndIncrement();
                    if (i >= maxCalls) {
                        break;
                    }
                    long s = System.nanoTime();
                    try {
                        call.run((int) (i % Integer.MAX_VALUE));
                        r.ok(System.nanoTime() - s);
                    } catch (Exception | AssertionError e) {
                        r.failed(e);
                    }
                }
            }, "load-client-" + c);
            t.setDaemon(true);
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) {
            t.join();
        }
        r.seconds((System.nanoTime() - t0) / 1e9);
        return r;
    }

    /**
     * {@code perSecond} requests a second for {@code duration}, each started at its scheduled time
     * on one of {@code threads} threads whatever the earlier ones do, its latency counted from the
     * scheduled time (no coordinated omission). A request not answered {@code grace} after the last
     * was due counts as timed out.
     */
    public static Result openLoop(Call call, int perSecond, Duration duration, int threads, Duration grace)
        throws InterruptedException {
        int total = (int) (perSecond * duration.toMillis() / 1000);
        Result r = new Result();
        ExecutorService pool = Executors.newFixedThreadPool(threads, task -> {
            Thread t = new Thread(task, "load-open");
            t.setDaemon(true);
            return t;
        });
        long interval = TimeUnit.SECONDS.toNanos(1) / perSecond;
        long t0 = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(50);
        List<Future<?>> sent = new ArrayList<>(total);
        try {
            for (int k = 0; k < total; k++) {
                int n = k;
                long due = t0 + n * interval;
                sent.add(pool.submit(() -> {
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        TimeUnit.NANOSECONDS.sleep(wait);
                    }
                    try {
                        call.run(n);
                        r.ok(System.nanoTime() - due);
                    } catch (Exception | AssertionError e) {
                        r.failed(e);
                    }
                    return null;
                }));
            }
            pool.shutdown();
            long lastDue = t0 + (total - 1) * interval;
            boolean all = pool.awaitTermination(Math.max(0, lastDue + grace.toNanos() - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (!all) {
                r.timedOut(sent.stream().filter(f -> !f.isDone()).count());
            }
        } finally {
            pool.shutdownNow();
        }
        r.seconds((System.nanoTime() - t0) / 1e9);
        return r;
    }
}
