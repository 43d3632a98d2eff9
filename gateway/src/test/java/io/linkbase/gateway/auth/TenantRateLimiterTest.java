package io.linkbase.gateway.auth;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class TenantRateLimiterTest {
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
}
