package io.linkbase.gateway.auth;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

class AccessTest {
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
