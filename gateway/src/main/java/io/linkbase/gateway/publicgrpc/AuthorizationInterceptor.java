package io.linkbase.gateway.publicgrpc;

import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.StatusRuntimeException;
import io.linkbase.gateway.auth.Access;
import io.linkbase.gateway.auth.Operation;
import io.linkbase.gateway.auth.Principal;
import io.linkbase.gateway.errors.Problem;
import jakarta.inject.Singleton;

/**
 * Admits every public gRPC call before its method runs — the same check, in the same order, as
 * HTTP's AccessFilter: the JWT in the {@code authorization} metadata, the tenant, the rate limit
 * and the role its {@link Operation} needs. The method finds the caller in the call's context;
 * the tenant always comes from the token, never from the caller's metadata. Methods of no
 * operation (health) pass as they are.
 */
@Singleton
class AuthorizationInterceptor implements ServerInterceptor {
    static final Metadata.Key<String> AUTHORIZATION = Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
    static final Context.Key<String> AUTHORIZATION_KEY = Context.key("linkbase-authorization");
    private static final Context.Key<Principal> PRINCIPAL_KEY = Context.key("linkbase-principal");

    private final Access access;

    public AuthorizationInterceptor(Access access) {
        this.access = access;
    }

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        Operation op = Operation.ofGrpcMethod(call.getMethodDescriptor().getFullMethodName());
        if (op == null) {
            return next.startCall(call, headers);
        }
        String authorization = headers.get(AUTHORIZATION);
        Principal principal;
        try {
            principal = access.admit(authorization, op.role());
        } catch (Problem | StatusRuntimeException e) {
            StatusRuntimeException status = (StatusRuntimeException) ProblemStatuses.relay(e);
            call.close(status.getStatus(), status.getTrailers() == null ? new Metadata() : status.getTrailers());
            return new ServerCall.Listener<>() {
            };
        }
        Context context = Context.current().withValue(PRINCIPAL_KEY, principal);
        if (authorization != null) {
            context = context.withValue(AUTHORIZATION_KEY, authorization);
        }
        return Contexts.interceptCall(context, call, headers, next);
    }

    /** The caller admitted for the current call. */
    static Principal principal() {
        Principal p = PRINCIPAL_KEY.get();
        if (p == null) {
            throw new IllegalStateException("a public gRPC method without an Operation");
        }
        return p;
    }
}
