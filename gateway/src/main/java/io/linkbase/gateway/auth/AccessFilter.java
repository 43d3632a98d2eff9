package io.linkbase.gateway.auth;

import io.linkbase.gateway.errors.Problem;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.core.annotation.Order;
import io.micronaut.core.bind.ArgumentBinder;
import io.micronaut.core.convert.ArgumentConversionContext;
import io.micronaut.core.order.Ordered;
import io.micronaut.core.type.Argument;
import io.micronaut.http.HttpHeaders;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.annotation.Header;
import io.micronaut.http.annotation.RequestFilter;
import io.micronaut.http.annotation.ServerFilter;
import io.micronaut.http.bind.binders.TypedRequestArgumentBinder;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.web.router.RouteMatch;
import jakarta.inject.Named;
import jakarta.inject.Singleton;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * Authentication, tenant, rate limit and role for every HTTP route that names its
 * {@link Operation} with {@link Op}, before the route runs (and before its body is read): the
 * caller becomes the request's {@link Principal}, which a controller takes as a parameter. Runs
 * on the event loop and answers at once when nothing waits on the network (HS256 token,
 * provisioning known); otherwise on the blocking pool (a JWKS fetch, a tenant-status call).
 *
 * <p>The filter's future always completes with the request (go on to the route) or fails with the
 * {@link Problem} that refused the caller (rendered by errors/ProblemHandler like any other), and
 * never with {@code null}: Micronaut 4.10 takes a request filter's {@code CompletableFuture} that
 * completes with {@code null} <em>later</em> (here: after a tenant-status call) as an empty
 * result of the whole request, and its server then answers 503 with an empty body
 * (docs/decisions.md, "A request filter never completes with null").
 */
@ServerFilter("/api/**")
@Order(Ordered.HIGHEST_PRECEDENCE)
public class AccessFilter {
    static final String PRINCIPAL = "linkbase.principal";

    private final Access access;
    private final Executor blocking;

    public AccessFilter(Access access, @Named(TaskExecutors.BLOCKING) Executor blocking) {
        this.access = access;
        this.blocking = blocking;
    }

    @RequestFilter
    public CompletableFuture<HttpRequest<?>> admit(HttpRequest<?> request, @Nullable RouteMatch<?> route,
                                                   @Nullable @Header(HttpHeaders.AUTHORIZATION) String authorization) {
        Operation op = route == null ? null : route.getAnnotationMetadata().enumValue(Op.class, Operation.class).orElse(null);
        if (op == null) {
            return CompletableFuture.completedFuture(request); // not an API operation (unknown route: the router answers)
        }
        CompletableFuture<Principal> admitted;
        try {
            admitted = access.admitAsync(authorization, op.role(), blocking);
        } catch (RuntimeException refused) {
            return CompletableFuture.failedFuture(refused);
        }
        return admitted.thenApply(principal -> {
            request.setAttribute(PRINCIPAL, principal);
            return request;
        });
    }

    /** The caller admitted for a request; empty when its route names no operation (or none matched). */
    public static Optional<Principal> admitted(HttpRequest<?> request) {
        return request.getAttribute(PRINCIPAL, Principal.class);
    }

    /** Binds a controller's {@link Principal} parameter to the caller admitted by the filter. */
    @Singleton
    static class PrincipalBinder implements TypedRequestArgumentBinder<Principal> {
        @Override
        public Argument<Principal> argumentType() {
            return Argument.of(Principal.class);
        }

        @Override
        public ArgumentBinder.BindingResult<Principal> bind(ArgumentConversionContext<Principal> context, HttpRequest<?> source) {
            Optional<Principal> p = admitted(source);
            if (p.isEmpty()) {
                throw new IllegalStateException("a Principal parameter on a route without @Op: " + source.getPath());
            }
            return () -> p;
        }
    }
}
