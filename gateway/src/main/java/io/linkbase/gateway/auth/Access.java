package io.linkbase.gateway.auth;

import io.grpc.StatusRuntimeException;
import io.linkbase.gateway.backend.Backends;
import io.linkbase.gateway.errors.Problem;
import io.linkbase.gateway.errors.ProblemHandler;
import io.linkbase.proto.internal.v1.TenantStatusRequest;
import io.micronaut.http.HttpStatus;
import jakarta.inject.Singleton;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;

/**
 * Authentication, tenant resolution, rate limiting and role checks — the same for HTTP and the
 * public gRPC API, in this order: 401 unauthorized, 403 tenant_not_provisioned, 429
 * rate_limited, 403 forbidden.
 */
@Singleton
public class Access {
    private static final long PROVISIONED_TTL = TimeUnit.SECONDS.toNanos(60);

    private final TokenVerifier verifier;
    private final TenantRateLimiter limiter;
    private final Backends backends;
    private final ConcurrentMap<String, Long> provisionedUntil = new ConcurrentHashMap<>();

    public Access(TokenVerifier verifier, TenantRateLimiter limiter, Backends backends) {
        this.verifier = verifier;
        this.limiter = limiter;
        this.backends = backends;
    }

    /** The principal of an {@code Authorization: Bearer …} header value. */
    public Principal authenticate(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            throw new Problem(HttpStatus.UNAUTHORIZED, "unauthorized", "an Authorization: Bearer <JWT> header is required");
        }
        return verifier.verify(authorization.substring(7).trim());
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
        long wait = limiter.acquire(p.tenant());
        if (wait > 0) {
            throw new Problem(HttpStatus.TOO_MANY_REQUESTS, "rate_limited",
                "too many requests for tenant " + p.tenant(), java.util.List.of(), wait);
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
        Long until = provisionedUntil.get(tenant);
        return until != null && until - System.nanoTime() > 0;
    }

    private void requireProvisioned(String tenant) {
        if (provisionedKnown(tenant)) {
            return;
        }
        long now = System.nanoTime();
        boolean provisioned;
        try {
            provisioned = backends.schemaAdmin()
                .tenantStatus(TenantStatusRequest.newBuilder().setTenantId(tenant).build()).getProvisioned();
        } catch (StatusRuntimeException e) {
            throw ProblemHandler.fromGrpc(e);
        }
        if (!provisioned) {
            throw new Problem(HttpStatus.FORBIDDEN, "tenant_not_provisioned", "tenant " + tenant + " is not provisioned");
        }
        provisionedUntil.put(tenant, now + PROVISIONED_TTL);
    }

    /** Called after provisioning so the next request need not ask schema-service. */
    public void markProvisioned(String tenant) {
        provisionedUntil.put(tenant, System.nanoTime() + PROVISIONED_TTL);
    }
}
