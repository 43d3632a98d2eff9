package io.linkbase.e2e;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Follows a link through {@code GET …/link} until it is ACTIVE, keeping every answer: its state
 * and {@code progress} (phase, done, total) with the time since the watch started.
 */
final class LinkWatch {
    record Sample(long millis, String state, String phase, long done, long total) {
        boolean hasProgress() {
            return phase != null;
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%6d ms %-11s %s", millis, state,
                hasProgress() ? phase + " " + done + "/" + total : "-");
        }
    }

    private LinkWatch() {
    }

    /** Polls every {@code every} until ACTIVE (or {@code atMost} passed: AssertionError). */
    static List<Sample> untilActive(Api api, String tableId, String columnId, long startNanos, Duration every,
                                    Duration atMost) throws InterruptedException {
        return until(api, tableId, columnId, startNanos, every, atMost, s -> "ACTIVE".equals(s.state()));
    }

    /** Polls every {@code every} until a sample is {@code enough} (or {@code atMost} passed: AssertionError). */
    static List<Sample> until(Api api, String tableId, String columnId, long startNanos, Duration every,
                              Duration atMost, java.util.function.Predicate<Sample> enough) throws InterruptedException {
        List<Sample> samples = new ArrayList<>();
        long deadline = System.nanoTime() + atMost.toNanos();
        while (true) {
            Api.Response r = api.get("/api/v1/tables/" + tableId + "/columns/" + columnId + "/link");
            if (r.status() != 200) {
                throw new AssertionError("GET link: " + r);
            }
            JsonNode b = r.body();
            JsonNode p = b.path("progress");
            Sample s = new Sample((System.nanoTime() - startNanos) / 1_000_000, b.path("state").asText(),
                p.isMissingNode() ? null : p.path("phase").asText(), p.path("done").asLong(), p.path("total").asLong());
            samples.add(s);
            if (enough.test(s)) {
                return samples;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("link not as awaited after " + atMost + ": " + samples.subList(
                    Math.max(0, samples.size() - 5), samples.size()));
            }
            Thread.sleep(every.toMillis());
        }
    }

    /**
     * Checks the samples move only forward: state RECONCILING → INDEXING → ACTIVE, progress present
     * exactly while not ACTIVE with the state as its phase, done never falling within a phase and
     * never above a known total.
     */
    static void assertMonotonic(List<Sample> samples) {
        List<String> order = List.of("RECONCILING", "INDEXING", "ACTIVE");
        Sample previous = null;
        for (Sample s : samples) {
            if (!order.contains(s.state())) {
                throw new AssertionError("unknown state " + s);
            }
            if (s.state().equals("ACTIVE") == s.hasProgress()) {
                throw new AssertionError("progress must be present exactly while not ACTIVE: " + s);
            }
            if (s.hasProgress() && !s.phase().equals(s.state())) {
                throw new AssertionError("phase is not the state: " + s);
            }
            if (s.hasProgress() && s.total() > 0 && s.done() > s.total()) {
                throw new AssertionError("done above total: " + s);
            }
            if (previous != null) {
                int was = order.indexOf(previous.state());
                int is = order.indexOf(s.state());
                if (is < was) {
                    throw new AssertionError("state went back: " + previous + " then " + s);
                }
                if (is == was && s.hasProgress() && (s.done() < previous.done() || s.total() < previous.total())) {
                    throw new AssertionError("progress went back: " + previous + " then " + s);
                }
            }
            previous = s;
        }
    }
}
