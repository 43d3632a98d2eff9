package io.linkbase.gateway.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import io.linkbase.gateway.config.GatewaySettings;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * Token buckets per tenant and per user (the token's {@code sub} within its tenant), so one
 * tenant cannot starve the others and one user cannot use up the tenant's share.
 *
 * <ul>
 *   <li>A tenant's bucket has the tenant's plan: {@code requests-per-second}/{@code burst}, or
 *   its own from {@code overrides} ({@code tenant=rate:burst,…}).</li>
 *   <li>A user's bucket has {@code user-share} of its tenant's plan (default half; 1 turns the
 *   per-user limit off), and never less than one request of burst.</li>
 *   <li>Limits are per gateway replica: every rate and burst is divided by {@code replicas}
 *   ({@code LINKBASE_GATEWAY_REPLICAS}), so with that many replicas a tenant can never get more
 *   than its plan in all; when its requests reach fewer replicas it gets less (at worst
 *   plan/replicas). No state is shared between replicas.</li>
 *   <li>Buckets live in bounded Caffeine maps ({@link #MAX_TENANTS}, {@link #MAX_USERS}) and are
 *   dropped after {@link #idleAfter()} without a request: by then they would be full again, so
 *   dropping one changes nothing. At the size bound the least used go first and start full.</li>
 * </ul>
 * A request takes a token from both buckets or from neither.
 */
@Singleton
class TenantRateLimiter {
    public static final int MAX_TENANTS = 100_000;
    public static final int MAX_USERS = 200_000;
    private static final Duration MIN_IDLE = Duration.ofMinutes(1);

    /** Why a request waits, and how long (whole seconds, at least 1). */
    public record Refusal(Scope scope, long retryAfterSeconds, double ratePerSecond) {
    }

    public enum Scope { USER, TENANT }

    private record Plan(double rate, double burst) {
    }

    private final Plan defaultPlan;
    private final Map<String, Plan> overrides;
    private final double userShare;
    private final Duration idleAfter;
    private final Ticker ticker;
    private final Cache<String, Bucket> tenants;
    private final Cache<String, Bucket> users;

    @Inject
    public TenantRateLimiter(GatewaySettings.RateLimit settings) {
        this(settings.requestsPerSecond(), settings.burst(), settings.overrides() == null ? "" : settings.overrides(),
            settings.userShare(), settings.replicas(), MAX_TENANTS, MAX_USERS, Ticker.systemTicker());
    }

    /** Per tenant only, one replica (tests). */
    public TenantRateLimiter(double ratePerSecond, double burst) {
        this(ratePerSecond, burst, "");
    }

    /** Per tenant only, one replica (tests). */
    public TenantRateLimiter(double ratePerSecond, double burst, String overrides) {
        this(ratePerSecond, burst, overrides, 1, 1, MAX_TENANTS, MAX_USERS, Ticker.systemTicker());
    }

    TenantRateLimiter(double ratePerSecond, double burst, String overrides, double userShare, int replicas,
                      int maxTenants, int maxUsers, Ticker ticker) {
        if (replicas < 1) {
            throw new IllegalArgumentException("linkbase.rate-limit.replicas must be at least 1");
        }
        if (!(userShare > 0 && userShare <= 1)) {
            throw new IllegalArgumentException("linkbase.rate-limit.user-share must be in (0, 1]");
        }
        this.defaultPlan = perReplica(new Plan(ratePerSecond, burst), replicas);
        this.overrides = parse(overrides, replicas);
        this.userShare = userShare;
        double slowestRefill = defaultPlan.burst() / defaultPlan.rate();
        for (Plan p : this.overrides.values()) {
            slowestRefill = Math.max(slowestRefill, p.burst() / p.rate());
        }
        this.idleAfter = MIN_IDLE.compareTo(Duration.ofMillis((long) Math.ceil(slowestRefill * 1000))) >= 0
            ? MIN_IDLE : Duration.ofMillis((long) Math.ceil(slowestRefill * 1000));
        this.ticker = ticker;
        this.tenants = Caffeine.newBuilder().maximumSize(maxTenants).expireAfterAccess(idleAfter).ticker(ticker).build();
        this.users = Caffeine.newBuilder().maximumSize(maxUsers).expireAfterAccess(idleAfter).ticker(ticker).build();
    }

    /** How long a bucket is kept without a request: at least as long as the slowest plan takes to refill. */
    public Duration idleAfter() {
        return idleAfter;
    }

    /** Per tenant only: 0 when the request may proceed, else the seconds to wait before retrying. */
    public long acquire(String tenant) {
        Plan plan = plan(tenant);
        return tenants.get(tenant, t -> new Bucket(plan.burst(), ticker.read())).take(plan, ticker.read());
    }

    /** A request of {@code user} in {@code tenant}: null when it may proceed, else which limit it hit. */
    public Refusal acquire(String tenant, String user) {
        Plan tenantPlan = plan(tenant);
        Plan userPlan = new Plan(tenantPlan.rate() * userShare, Math.max(1, tenantPlan.burst() * userShare));
        long now = ticker.read();
        Bucket userBucket = users.get(tenant + '\u0000' + user, k -> new Bucket(userPlan.burst(), now));
        long wait = userBucket.take(userPlan, now);
        if (wait > 0) {
            return new Refusal(Scope.USER, wait, userPlan.rate());
        }
        wait = tenants.get(tenant, t -> new Bucket(tenantPlan.burst(), now)).take(tenantPlan, now);
        if (wait > 0) {
            userBucket.giveBack(userPlan);
            return new Refusal(Scope.TENANT, wait, tenantPlan.rate());
        }
        return null;
    }

    /** Buckets held now (tenants, users), after pending evictions: for tests and metrics. */
    long[] sizes() {
        tenants.cleanUp();
        users.cleanUp();
        return new long[] {tenants.estimatedSize(), users.estimatedSize()};
    }

    private Plan plan(String tenant) {
        Plan own = overrides.get(tenant);
        return own != null ? own : defaultPlan;
    }

    private static Plan perReplica(Plan p, int replicas) {
        if (!(p.rate() > 0) || !(p.burst() >= 1)) {
            throw new IllegalArgumentException("a rate limit needs a rate above 0 and a burst of at least 1: " + p);
        }
        return new Plan(p.rate() / replicas, Math.max(1, p.burst() / replicas));
    }

    /** {@code tenant=rate:burst,…}: tenants with a plan of their own. */
    private static Map<String, Plan> parse(String overrides, int replicas) {
        Map<String, Plan> map = new HashMap<>();
        if (overrides == null || overrides.isBlank()) {
            return map;
        }
        for (String entry : overrides.split(",")) {
            String[] kv = entry.trim().split("=");
            String[] rb = kv[1].split(":");
            map.put(kv[0], perReplica(new Plan(Double.parseDouble(rb[0]), Double.parseDouble(rb[1])), replicas));
        }
        return map;
    }

    private static final class Bucket {
        private double tokens;
        private long last;

        Bucket(double burst, long now) {
            this.tokens = burst;
            this.last = now;
        }

        synchronized long take(Plan plan, long now) {
            tokens = Math.min(plan.burst(), tokens + Math.max(0, now - last) / 1e9 * plan.rate());
            last = Math.max(last, now);
            if (tokens >= 1) {
                tokens -= 1;
                return 0;
            }
            return Math.max(1, (long) Math.ceil((1 - tokens) / plan.rate()));
        }

        synchronized void giveBack(Plan plan) {
            tokens = Math.min(plan.burst(), tokens + 1);
        }
    }
}
