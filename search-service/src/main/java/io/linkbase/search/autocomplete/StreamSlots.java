package io.linkbase.search.autocomplete;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Open SuggestStreams counted per caller (the tenant here) and in all, each refused beyond its
 * limit. A caller's count exists only while it has a stream open, so the map holds at most
 * {@code total} keys. A slot is given back by its release handle, which does so once however
 * many of a stream's end paths (completed, cancelled, failed, timed out) call it.
 */
final class StreamSlots {
    private final int perCaller;
    private final int total;
    private final ConcurrentMap<String, Integer> open = new ConcurrentHashMap<>();
    private final AtomicInteger all = new AtomicInteger();

    StreamSlots(int perCaller, int total) {
        if (perCaller < 1 || total < 1) {
            throw new IllegalArgumentException("stream limits must be at least 1");
        }
        this.perCaller = perCaller;
        this.total = total;
    }

    int perCaller() {
        return perCaller;
    }

    int total() {
        return total;
    }

    /** A slot for {@code caller}: its release handle, or null when the caller or the service is at its limit. */
    Runnable tryAcquire(String caller) {
        if (all.incrementAndGet() > total) {
            all.decrementAndGet();
            return null;
        }
        boolean[] granted = new boolean[1];
        open.compute(caller, (k, n) -> {
            int now = n == null ? 0 : n;
            if (now >= perCaller) {
                return n;
            }
            granted[0] = true;
            return now + 1;
        });
        if (!granted[0]) {
            all.decrementAndGet();
            return null;
        }
        AtomicBoolean released = new AtomicBoolean();
        return () -> {
            if (released.compareAndSet(false, true)) {
                open.computeIfPresent(caller, (k, n) -> n <= 1 ? null : n - 1);
                all.decrementAndGet();
            }
        };
    }

    /** Streams open now for {@code caller}. */
    int open(String caller) {
        return open.getOrDefault(caller, 0);
    }

    /** Streams open now in all. */
    int open() {
        return all.get();
    }

    /** Callers with a stream open now (the map's size). */
    int callers() {
        return open.size();
    }
}
