package io.linkbase.kit.grpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import jakarta.inject.Singleton;

/** Puts the caller's tenant into the gRPC context; a malformed tenant never reaches a service. */
@Singleton
public class TenantInterceptor implements ServerInterceptor {
    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                       ServerCallHandler<Q, R> next) {
        String tenant = headers.get(Tenants.METADATA_KEY);
        if (tenant == null) {
            return next.startCall(call, headers);
        }
        if (!Tenants.isValid(tenant)) {
            ApiException e = ApiException.invalid("tenant", "must match [a-z0-9_-]{1,40}");
            call.close(e.status(), e.trailers());
            return new ServerCall.Listener<>() {
            };
        }
        return Contexts.interceptCall(Context.current().withValue(Tenants.CONTEXT_KEY, tenant), call, headers, next);
    }

}
