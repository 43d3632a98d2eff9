package io.linkbase.gateway.auth;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Ticker;
import io.grpc.StatusRuntimeException;
import io.linkbase.gateway.backend.Backends;
import io.linkbase.gateway.errors.Problem;
import io.linkbase.gateway.errors.ProblemHandler;
import io.linkbase.proto.internal.v1.TenantStatusRequest;
import io.micronaut.http.HttpStatus;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;

import java.math.BigDecimal;
import java.math.MathContext;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * Authentication, tenant resolution, rate limiting and role checks — the same for HTTP and the
 * public gRPC API, in this order: 401 unauthorized, 403 tenant_not_provisioned, 429
 * rate_limited, 403 forbidden.
 */
@Singleton
public class Access {
    /** How long a tenant known to be provisioned is not asked about again. */
    static final Duration PROVISIONED_TTL = Duration.ofSeconds(60);
    /** Tenants whose provisioning is remembered at most (the least used are forgotten first). */
    static final int MAX_PROVISIONED = 100_000;

    private final TokenVerifier verifier;
    private final TenantRateLimiter limiter;
    private final Backends backends;
    /** Only tenants found provisioned are kept (a tenant not provisioned yet is asked about every time). */
    private final Cache<String, Boolean> provisioned;

    @Inject
    public Access(TokenVerifier verifier, TenantRateLimiter limiter, Backends backends) {
        this(verifier, limiter, backends, MAX_PROVISIONED, Ticker.systemTicker());
    }

    Access(TokenVerifier verifier, TenantRateLimiter limiter, Backends backends, int maxProvisioned, Ticker ticker) {
        this.verifier = verifier;
        this.limiter = limiter;
        this.backends = backends;
        this.provisioned = Caffeine.newBuilder().maximumSize(maxProvisioned).expireAfterWrite(PROVISIONED_TTL)
            .ticker(ticker).build();
    }

    /** The principal of an {@code Authorization: Bearer …} header value. */
    public Principal authenticate(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw new Problem(HttpStatus.UNAUTHORIZED, "unauthorized", "an Authorization: Bearer <JWT> header is required");
        }
        return verifier.verify(authorization.substring(7).trim());
    }

    /**
     * The one admission check of both faces ({@link AccessFilter} for HTTP, the public gRPC
     * interceptor): a platform admin for {@link Role#PLATFORM_ADMIN}, else {@link #tenantCall}.
     */
    public Principal admit(String authorization, Role role) {
        return role == Role.PLATFORM_ADMIN ? platformCall(authorization) : tenantCall(authorization, role);
    }

    /** {@link #admit} for a caller on an event loop (see {@link #tenantCallAsync}). */
    public CompletableFuture<Principal> admitAsync(String authorization, Role role, Executor blocking) {
        if (role == Role.PLATFORM_ADMIN) {
            return verifier.mayBlock() ? CompletableFuture.supplyAsync(() -> platformCall(authorization), blocking)
                : CompletableFuture.completedFuture(platformCall(authorization));
        }
        return tenantCallAsync(authorization, role, blocking);
    }

    /** A caller acting inside its tenant with at least {@code role}. */
    public Principal tenantCall(String authorization, Role role) {
        return authorize(authenticate(authorization), role);
    }

    /**
     * {@link #tenantCall} for a caller on an event loop: answered at once when nothing has to
     * wait on the network (HS256 token, provisioning known), else run on {@code blocking}.
     */
    public CompletableFuture<Principal> tenantCallAsync(String authorization, Role role, Executor blocking) {
        if (verifier.mayBlock()) {
            return CompletableFuture.supplyAsync(() -> tenantCall(authorization, role), blocking);
        }
        Principal p = authenticate(authorization);
        return provisionedKnown(p.tenant())
            ? CompletableFuture.completedFuture(authorize(p, role))
            : CompletableFuture.supplyAsync(() -> authorize(p, role), blocking);
    }

    private Principal authorize(Principal p, Role role) {
        boolean onlyPlatformAdmin = p.has(Role.PLATFORM_ADMIN) && !p.has(Role.VIEWER);
        if (!onlyPlatformAdmin) { // a pure platform admin is refused below, whatever its tenant
            requireProvisioned(p.tenant());
        }
        TenantRateLimiter.Refusal refused = limiter.acquire(p.tenant(), p.subject());
        if (refused != null) {
            String rate = new BigDecimal(refused.ratePerSecond()).round(new MathContext(4)).stripTrailingZeros()
                .toPlainString() + " requests/s";
            throw new Problem(HttpStatus.TOO_MANY_REQUESTS, "rate_limited", refused.scope() == TenantRateLimiter.Scope.USER
                ? "too many requests from this user (the per-user limit of tenant " + p.tenant() + ", " + rate
                    + " per gateway replica); retry after " + refused.retryAfterSeconds() + " s"
                : "too many requests for tenant " + p.tenant() + " (the tenant's limit, " + rate
                    + " per gateway replica); retry after " + refused.retryAfterSeconds() + " s",
                List.of(), refused.retryAfterSeconds());
        }
        if (!p.has(role)) {
            throw new Problem(HttpStatus.FORBIDDEN, "forbidden", "this needs the role " + role.name().toLowerCase().replace('_', '-'));
        }
        return p;
    }

    /** A platform admin (tenant provisioning). */
    public Principal platformCall(String authorization) {
        Principal p = authenticate(authorization);
        if (!p.has(Role.PLATFORM_ADMIN)) {
            throw new Problem(HttpStatus.FORBIDDEN, "forbidden", "this needs the role platform-admin");
        }
        return p;
    }

    private boolean provisionedKnown(String tenant) {
        return provisioned.getIfPresent(tenant) != null;
    }

    /** Tenants whose provisioning is remembered now, after pending evictions (tests). */
    long provisionedKept() {
        provisioned.cleanUp();
        return provisioned.estimatedSize();
    }

    private void requireProvisioned(String tenant) {
        if (provisionedKnown(tenant)) {
            return;
        }
        boolean found;
        try {
            found = backends.schemaAdmin()
                .tenantStatus(TenantStatusRequest.newBuilder().setTenantId(tenant).build()).getProvisioned();
        } catch (StatusRuntimeException e) {
            throw ProblemHandler.fromGrpc(e);
        }
        if (!found) {
            throw new Problem(HttpStatus.FORBIDDEN, "tenant_not_provisioned", "tenant " + tenant + " is not provisioned");
        }
        provisioned.put(tenant, Boolean.TRUE);
    }

    /** Called after provisioning so the next request need not ask schema-service. */
    public void markProvisioned(String tenant) {
        provisioned.put(tenant, Boolean.TRUE);
    }
}
