package io.linkbase.gateway.publicgrpc;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Open SuggestStreams counted per user (tenant and {@code sub}) and per tenant, each refused
 * beyond its limit. A count exists only while its user or tenant has a stream open, so the maps
 * never hold more keys than there are open streams. A slot is given back by its release handle,
 * once, however many of a stream's end paths call it.
 */
final class StreamSlots {
    /** A granted slot ({@code release} non-null) or which limit refused it. */
    record Grant(Runnable release, String refusedBy) {
    }

    private final int perUser;
    private final int perTenant;
    private final ConcurrentMap<String, Integer> users = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Integer> tenants = new ConcurrentHashMap<>();

    StreamSlots(int perUser, int perTenant) {
        if (perUser < 1 || perTenant < 1) {
            throw new IllegalArgumentException("stream limits must be at least 1");
        }
        this.perUser = perUser;
        this.perTenant = perTenant;
    }

    int perUser() {
        return perUser;
    }

    int perTenant() {
        return perTenant;
    }

    Grant tryAcquire(String tenant, String user) {
        String userKey = tenant + '\u0000' + user;
        if (!take(users, userKey, perUser)) {
            return new Grant(null, "user");
        }
        if (!take(tenants, tenant, perTenant)) {
            give(users, userKey);
            return new Grant(null, "tenant");
        }
        AtomicBoolean released = new AtomicBoolean();
        return new Grant(() -> {
            if (released.compareAndSet(false, true)) {
                give(tenants, tenant);
                give(users, userKey);
            }
        }, null);
    }

    int openForTenant(String tenant) {
        return tenants.getOrDefault(tenant, 0);
    }

    int openForUser(String tenant, String user) {
        return users.getOrDefault(tenant + '\u0000' + user, 0);
    }

    /** Keys held now (users + tenants): zero when no stream is open. */
    int keys() {
        return users.size() + tenants.size();
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
