package io.linkbase.kit.limits;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Counted slots at two levels, each refused beyond its limit: a caller ({@code inner}) within a
 * group ({@code outer}): a user within its tenant (the gateway's SuggestStreams), a tenant within
 * the instance (search-service's). A count exists only while its key holds a slot, so the maps
 * never hold more keys than there are slots taken. A slot is given back by its release handle,
 * once, however many of a stream's end paths (completed, cancelled, failed, timed out) call it.
 */
public final class Slots {
    /** Which limit refused a slot. */
    public enum Level { INNER, OUTER }

    /** A granted slot ({@code release} non-null) or the limit that refused it. */
    public record Grant(Runnable release, Level refusedBy) {
        public boolean granted() {
            return release != null;
        }
    }

    private final int perInner;
    private final int perOuter;
    private final ConcurrentMap<String, Integer> inner = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Integer> outer = new ConcurrentHashMap<>();

    public Slots(int perInner, int perOuter) {
        if (perInner < 1 || perOuter < 1) {
            throw new IllegalArgumentException("slot limits must be at least 1");
        }
        this.perInner = perInner;
        this.perOuter = perOuter;
    }

    public int perInner() {
        return perInner;
    }

    public int perOuter() {
        return perOuter;
    }

    public Grant tryAcquire(String outerKey, String innerKey) {
        String key = outerKey + '\u0000' + innerKey;
        if (!take(inner, key, perInner)) {
            return new Grant(null, Level.INNER);
        }
        if (!take(outer, outerKey, perOuter)) {
            give(inner, key);
            return new Grant(null, Level.OUTER);
        }
        AtomicBoolean released = new AtomicBoolean();
        return new Grant(() -> {
            if (released.compareAndSet(false, true)) {
                give(outer, outerKey);
                give(inner, key);
            }
        }, null);
    }

    /** Slots held now in {@code outerKey}. */
    public int open(String outerKey) {
        return outer.getOrDefault(outerKey, 0);
    }

    /** Slots held now by {@code innerKey} within {@code outerKey}. */
    public int open(String outerKey, String innerKey) {
        return inner.getOrDefault(outerKey + '\u0000' + innerKey, 0);
    }

    /** Keys held now (inner + outer): zero when no slot is taken. */
    public int keys() {
        return inner.size() + outer.size();
    }

    private static boolean take(ConcurrentMap<String, Integer> counts, String key, int limit) {
        boolean[] granted = new boolean[1];
        counts.compute(key, (k, n) -> {
            int now = n == null ? 0 : n;
            if (now >= limit) {
                return n;
            }
            granted[0] = true;
            return now + 1;
        });
        return granted[0];
    }

    private static void give(ConcurrentMap<String, Integer> counts, String key) {
        counts.computeIfPresent(key, (k, n) -> n <= 1 ? null : n - 1);
    }
}
