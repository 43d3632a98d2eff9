package io.linkbase.kit.grpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.micronaut.context.annotation.Requires;
import jakarta.inject.Singleton;

/**
 * The one check on every internal gRPC call: a call without valid service credentials
 * ({@link ServiceCredentials}) is refused UNAUTHENTICATED; otherwise the tenant the signed token
 * names goes into the gRPC context, and a {@code x-linkbase-tenant} header that says another
 * tenant is refused. A malformed tenant never reaches a service. The standard health service
 * (grpc.health.v1, what the Kubernetes probe asks) needs no credentials. The gateway's gRPC
 * server is the public API (JWTs, not service tokens): it sets {@code linkbase.grpc.internal: false}.
 */
@Singleton
@Requires(property = "linkbase.grpc.internal", notEquals = "false")
public class TenantInterceptor implements ServerInterceptor {
    public static final Context.Key<String> CALLER_KEY = Context.key("linkbase-calling-service");
    private static final String HEALTH_SERVICE = "grpc.health.v1.Health";
    private final ServiceCredentials credentials;

    public TenantInterceptor(ServiceCredentials credentials) {
        this.credentials = credentials;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        if (HEALTH_SERVICE.equals(call.getMethodDescriptor().getServiceName())) {
            return next.startCall(call, headers);
        }
        ServiceCredentials.Caller caller = credentials.verify(headers.get(ServiceCredentials.METADATA_KEY),
            System.currentTimeMillis() / 1000);
        if (caller == null) {
            return refuse(call, ApiException.unauthenticated("internal call without valid service credentials"));
        }
        String header = headers.get(Tenants.METADATA_KEY);
        if (header != null && !header.equals(caller.tenant())) {
            return refuse(call, ApiException.unauthenticated("the tenant header does not match the service credentials"));
        }
        Context context = Context.current().withValue(CALLER_KEY, caller.service());
        String tenant = caller.tenant();
        if (!tenant.isEmpty()) {
            if (!Tenants.isValid(tenant)) {
                return refuse(call, ApiException.invalid("tenant", "must match [a-z0-9_-]{1,40}"));
            }
            context = context.withValue(Tenants.CONTEXT_KEY, tenant);
        }
        return Contexts.interceptCall(context, call, headers, next);
    }

    private static <Q, R> ServerCall.Listener<Q> refuse(ServerCall<Q, R> call, ApiException e) {
        call.close(e.status(), e.trailers());
        return new ServerCall.Listener<>() {
        };
    }
}
