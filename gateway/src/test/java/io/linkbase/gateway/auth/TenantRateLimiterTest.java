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
}
