package io.linkbase.gateway.auth;

import io.micronaut.context.annotation.Value;
import jakarta.inject.Singleton;

import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/** A token bucket per tenant, so one tenant cannot starve the others. */
@Singleton
public class TenantRateLimiter {
    private final double ratePerSecond;
    private final double burst;
    private final Map<String, double[]> overrides;
    private final ConcurrentMap<String, Bucket> buckets = new ConcurrentHashMap<>();

    @jakarta.inject.Inject
    public TenantRateLimiter(@Value("${linkbase.rate-limit.requests-per-second:500}") double ratePerSecond,
                             @Value("${linkbase.rate-limit.burst:1000}") double burst,
                             @Value("${linkbase.rate-limit.overrides:}") String overrides) {
        this.ratePerSecond = ratePerSecond;
        this.burst = burst;
        this.overrides = parse(overrides);
    }

    public TenantRateLimiter(double ratePerSecond, double burst) {
        this(ratePerSecond, burst, "");
    }

    /** @return 0 when the request may proceed, else the seconds to wait before retrying */
    public long acquire(String tenant) {
        double[] limit = overrides.getOrDefault(tenant, new double[] {ratePerSecond, burst});
        return buckets.computeIfAbsent(tenant, t -> new Bucket(limit[1])).take(limit[0], limit[1], System.nanoTime());
    }

    /** {@code tenant=rate:burst,…}: tenants with a plan of their own. */
    private static Map<String, double[]> parse(String overrides) {
        Map<String, double[]> map = new HashMap<>();
        if (overrides == null || overrides.isBlank()) {
            return map;
        }
        for (String entry : overrides.split(",")) {
            String[] kv = entry.trim().split("=");
            String[] rb = kv[1].split(":");
            map.put(kv[0], new double[] {Double.parseDouble(rb[0]), Double.parseDouble(rb[1])});
        }
        return map;
    }

    private static final class Bucket {
        private double tokens;
        private long last;

        Bucket(double burst) {
            this.tokens = burst;
            this.last = System.nanoTime();
        }

        synchronized long take(double rate, double burst, long now) {
            tokens = Math.min(burst, tokens + (now - last) / 1e9 * rate);
            last = now;
            if (tokens >= 1) {
                tokens -= 1;
                return 0;
            }
            return Math.max(1, (long) Math.ceil((1 - tokens) / rate));
        }
    }
}
