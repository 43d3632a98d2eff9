package io.linkbase.gateway.auth;

import io.linkbase.gateway.errors.Problem;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AccessTest {
    private static final String SECRET = "0123456789abcdef0123456789abcdef";

    @Test
    void aUserOverItsShareGets429WhileAnotherUserOfTheSameTenantGetsThrough() throws Exception {
        // 2 requests/s with a burst of 4 for the tenant; each user half of that
        Access access = new Access(JwtVerifier.hs256(SECRET), new TenantRateLimiter(2, 4, "", 0.5, 1, 100, 100,
            com.github.benmanes.caffeine.cache.Ticker.disabledTicker()), null, 100,
            com.github.benmanes.caffeine.cache.Ticker.disabledTicker());
        access.markProvisioned("acme");
        String ada = "Bearer " + token("ada");
        String bob = "Bearer " + token("bob");
        access.tenantCall(ada, Role.VIEWER);
        access.tenantCall(ada, Role.VIEWER);
        assertThatThrownBy(() -> access.tenantCall(ada, Role.VIEWER)).isInstanceOfSatisfying(Problem.class, p -> {
            assertThat(p.status().getCode()).isEqualTo(429);
            assertThat(p.code()).isEqualTo("rate_limited");
            assertThat(p.getMessage()).contains("this user").contains("1 requests/s");
            assertThat(p.retryAfterSeconds()).isPositive();
        });
        assertThat(access.tenantCall(bob, Role.VIEWER).subject()).isEqualTo("bob");
        assertThat(access.tenantCall(bob, Role.VIEWER).subject()).isEqualTo("bob");
        assertThatThrownBy(() -> access.tenantCall("Bearer " + token("cy"), Role.VIEWER))
            .isInstanceOfSatisfying(Problem.class, p -> {
                assertThat(p.status().getCode()).isEqualTo(429);
                assertThat(p.getMessage()).contains("for tenant acme").contains("the tenant's limit");
            });
    }

    private static String token(String subject) throws Exception {
        return JwtVerifierTest.token(SECRET, new com.nimbusds.jwt.JWTClaimsSet.Builder().subject(subject)
            .claim("tenant", "acme").claim("roles", java.util.List.of("viewer"))
            .expirationTime(new java.util.Date(System.currentTimeMillis() + 60_000)).build());
    }

    @Test
    void theProvisioningStatusCacheIsBoundedInSizeAndTime() {
        AtomicLong now = new AtomicLong();
        Access access = new Access(JwtVerifier.hs256("0123456789abcdef0123456789abcdef"),
            new TenantRateLimiter(10, 10), null, 100, now::get);
        for (int i = 0; i < 1000; i++) {
            access.markProvisioned("tenant-" + i);
        }
        assertThat(access.provisionedKept()).isEqualTo(100);
        now.addAndGet(Access.PROVISIONED_TTL.toNanos() - 1);
        assertThat(access.provisionedKept()).isEqualTo(100);
        now.addAndGet(1);
        assertThat(access.provisionedKept()).isZero(); // asked again after 60 s
    }
}
