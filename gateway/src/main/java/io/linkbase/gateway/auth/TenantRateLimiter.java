package io.linkbase.gateway.auth;

import io.micronaut.context.annotation.Value;
import jakarta.inject.Singleton;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;

/** A token bucket per tenant, so one tenant cannot starve the others. */
@Singleton
public class TenantRateLimiter {
    private final double ratePerSecond;
    private final double burst;
    private final ConcurrentMap<String, Bucket> buckets = new ConcurrentHashMap<>();

    public TenantRateLimiter(@Value("${linkbase.rate-limit.requests-per-second:500}") double ratePerSecond,
                             @Value("${linkbase.rate-limit.burst:1000}") double burst) {
        this.ratePerSecond = ratePerSecond;
        this.burst = burst;
    }

    /** @return 0 when the request may proceed, else the seconds to wait before retrying */
    public long acquire(String tenant) {
        return buckets.computeIfAbsent(tenant, t -> new Bucket(burst)).take(ratePerSecond, burst, System.nanoTime());
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
