package io.linkbase.gateway.auth;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TenantRateLimiterTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);

    @Test
    void aTenantOverItsBurstWaitsWhileOtherTenantsDoNot() {
        TenantRateLimiter limiter = new TenantRateLimiter(1, 3);
        assertThat(limiter.acquire("a")).isZero();
        assertThat(limiter.acquire("a")).isZero();
        assertThat(limiter.acquire("a")).isZero();
        assertThat(limiter.acquire("a")).isPositive();
        assertThat(limiter.acquire("b")).isZero();
    }

    @Test
    void aTenantWithItsOwnPlanGetsItsOwnLimit() {
        TenantRateLimiter limiter = new TenantRateLimiter(1, 1, "big=1000:1000");
        for (int i = 0; i < 500; i++) {
            assertThat(limiter.acquire("big")).isZero();
        }
        assertThat(limiter.acquire("small")).isZero();
        assertThat(limiter.acquire("small")).isPositive();
    }

    @Test
    void aUserOverItsShareWaitsWhileAnotherUserOfTheSameTenantGetsThrough() {
        TenantRateLimiter limiter = limiter(10, 10, "", 0.5, 1);
        for (int i = 0; i < 5; i++) { // half the tenant's burst
            assertThat(limiter.acquire("acme", "ada")).isNull();
        }
        TenantRateLimiter.Refusal refused = limiter.acquire("acme", "ada");
        assertThat(refused.scope()).isEqualTo(TenantRateLimiter.Scope.USER);
        assertThat(refused.retryAfterSeconds()).isPositive();
        assertThat(refused.ratePerSecond()).isEqualTo(5);
        for (int i = 0; i < 5; i++) { // the refused request took nothing from the tenant
            assertThat(limiter.acquire("acme", "bob")).isNull();
        }
        // the tenant's own limit: every user is refused now, and it says so
        TenantRateLimiter.Refusal tenantFull = limiter.acquire("acme", "cy");
        assertThat(tenantFull.scope()).isEqualTo(TenantRateLimiter.Scope.TENANT);
        assertThat(limiter.acquire("other", "ada")).isNull(); // same subject, another tenant: its own buckets

        now.addAndGet(Duration.ofSeconds(1).toNanos()); // refills: 10 for the tenant, 5 for each user
        assertThat(limiter.acquire("acme", "cy")).isNull();
    }

    @Test
    void aRequestRefusedByTheTenantDoesNotCostTheUser() {
        TenantRateLimiter limiter = limiter(1, 2, "", 1, 1);
        assertThat(limiter.acquire("acme", "ada")).isNull();
        assertThat(limiter.acquire("acme", "bob")).isNull();
        assertThat(limiter.acquire("acme", "ada").scope()).isEqualTo(TenantRateLimiter.Scope.TENANT);
        now.addAndGet(Duration.ofSeconds(1).toNanos());
        assertThat(limiter.acquire("acme", "ada")).isNull(); // ada's bucket still had its token
    }

    @Test
    void replicasDivideEveryPlan() {
        TenantRateLimiter limiter = limiter(100, 30, "big=1000:90", 1, 3);
        for (int i = 0; i < 10; i++) {
            assertThat(limiter.acquire("acme", "ada")).isNull();
        }
        assertThat(limiter.acquire("acme", "ada").ratePerSecond()).isCloseTo(100 / 3.0, org.assertj.core.data.Offset.offset(1e-9));
        for (int i = 0; i < 30; i++) {
            assertThat(limiter.acquire("big", "ada")).isNull();
        }
        assertThat(limiter.acquire("big", "ada")).isNotNull();
        assertThatThrownBy(() -> limiter(1, 1, "", 1, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> limiter(1, 1, "", 0, 1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void bucketMapsStayBoundedAndIdleBucketsAreDropped() {
        TenantRateLimiter limiter = new TenantRateLimiter(10, 20, "", 0.5, 1, 100, 300, now::get);
        for (int i = 0; i < 1000; i++) {
            limiter.acquire("t" + (i % 500), "user-" + i);
        }
        assertThat(limiter.sizes()).containsExactly(100, 300);

        // buckets are dropped only once idle for longer than they take to refill: nothing is lost
        assertThat(limiter.idleAfter()).isEqualTo(Duration.ofMinutes(1));
        now.addAndGet(limiter.idleAfter().toNanos() - 1);
        limiter.acquire("t1", "user-1");
        now.addAndGet(2);
        assertThat(limiter.sizes()).containsExactly(1, 1); // only the one used meanwhile is kept
        now.addAndGet(limiter.idleAfter().toNanos());
        assertThat(limiter.sizes()).containsExactly(0, 0);
    }

    @Test
    void aSlowPlanKeepsIdleBucketsUntilTheyHaveRefilled() {
        TenantRateLimiter limiter = limiter(1, 600, "", 1, 1); // 10 minutes to refill
        assertThat(limiter.idleAfter()).isEqualTo(Duration.ofMinutes(10));
    }

    private TenantRateLimiter limiter(double rate, double burst, String overrides, double userShare, int replicas) {
        return new TenantRateLimiter(rate, burst, overrides, userShare, replicas, 1000, 1000, now::get);
    }
}
