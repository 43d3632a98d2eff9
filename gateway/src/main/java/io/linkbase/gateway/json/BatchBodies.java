package io.linkbase.gateway.json;

import io.linkbase.gateway.auth.AccessFilter;
import io.linkbase.gateway.config.GatewaySettings;
import io.linkbase.gateway.errors.Problem;
import io.linkbase.gateway.errors.ProblemHandler;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ServerFilter;
import io.micronaut.http.filter.FilterContinuation;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;

import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Batch bodies in flight are bounded (docs/limits.md): a 16 MiB batch costs the gateway several
 * times its size in memory while it is parsed and turned into one gRPC message, so without a
 * bound one tenant's concurrent uploads could exhaust the heap every tenant shares. Each tenant
 * has at most {@code per-tenant} batch requests in flight (429 {@code rate_limited} beyond), and
 * all tenants together at most {@code total-bytes} of batch bodies (a chunked body counts as the
 * largest allowed; 503 {@code unavailable} beyond). The server receives a body whole before any
 * filter runs (bounded by {@code max-request-size}), so what this bounds is the costly part: the
 * parsing, checking and forwarding of batches. What a request holds is given back when its
 * response is done, however it ends.
 */
@ServerFilter("/api/v1/tables/*/records/batch")
class BatchBodies {
    private final int perTenant;
    private final long totalBytes;
    private final ConcurrentMap<String, Integer> tenants = new ConcurrentHashMap<>();
    private final AtomicLong bytes = new AtomicLong();

    public BatchBodies(GatewaySettings.BatchBodies settings) {
        this.perTenant = settings.perTenant();
        this.totalBytes = settings.totalBytes();
    }

    @RequestFilter
    @ExecuteOn(TaskExecutors.BLOCKING)
    public HttpResponse<?> filter(HttpRequest<?> request, FilterContinuation<HttpResponse<?>> next) {
        // AccessFilter ran first: the caller is admitted (no route matched: the router answers)
        String tenant = AccessFilter.admitted(request).map(p -> p.tenant()).orElse(null);
        if (tenant == null) {
            return next.proceed();
        }
        long length = request.getContentLength();
        long size = length < 0 ? Limits.MAX_BATCH_BODY_BYTES : Math.min(length, Limits.MAX_BATCH_BODY_BYTES);
        if (tenants.merge(tenant, 1, Integer::sum) > perTenant) {
            release(tenant, 0);
            return ProblemHandler.render(new Problem(HttpStatus.TOO_MANY_REQUESTS, "rate_limited",
                "at most " + perTenant + " batch requests of a tenant at a time; send the next when one is answered",
                java.util.List.of(), 1L));
        }
        long held = bytes.addAndGet(size);
        if (held > totalBytes && held != size) { // one request alone always fits
            release(tenant, size);
            return ProblemHandler.render(new Problem(HttpStatus.SERVICE_UNAVAILABLE, "unavailable",
                "the gateway is receiving as many batch bodies as it holds at once; retry", java.util.List.of(), 1L));
        }
        try {
            return next.proceed();
        } finally {
            release(tenant, size);
        }
    }

    private void release(String tenant, long size) {
        bytes.addAndGet(-size);
        tenants.computeIfPresent(tenant, (t, n) -> n <= 1 ? null : n - 1);
    }

    /** Batch requests in flight now, and their declared bytes (tests). */
    int inFlight() {
        return tenants.values().stream().mapToInt(Integer::intValue).sum();
    }

    long bytesInFlight() {
        return bytes.get();
    }
}
