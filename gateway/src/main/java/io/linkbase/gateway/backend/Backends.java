package io.linkbase.gateway.backend;

import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.common.util.concurrent.MoreExecutors;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import io.linkbase.gateway.config.GatewaySettings;
import io.linkbase.kit.grpc.Consistency;
import io.linkbase.kit.grpc.ServiceCredentials;
import io.linkbase.kit.grpc.Tenants;
import io.linkbase.kit.grpc.Trace;
import io.micronaut.http.context.ServerRequestContext;
import io.linkbase.proto.v1.Table;
import io.linkbase.proto.internal.v1.RecordServiceGrpc;
import io.linkbase.proto.internal.v1.SchemaServiceGrpc;
import io.linkbase.proto.internal.v1.SearchServiceGrpc;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * The gRPC clients of the three services. Every stub it hands out carries the caller's tenant
 * in the metadata, which is how each service scopes every query.
 */
@Singleton
public class Backends {
    private static final String TRACE_ATTRIBUTE = "linkbase.trace-id";
    private final ManagedChannel schema;
    private final ManagedChannel record;
    private final ManagedChannel search;
    private final long deadlineMillis;

    public Backends(ServiceCredentials credentials, GatewaySettings.Services services) {
        // every call signed: the services trust the tenant only from a caller holding the secret
        this.schema = credentials.channel(services.schema()).build();
        this.record = credentials.channel(services.record()).build();
        // answers of the non-blocking suggestions path complete on the transport thread: no hand-off
        this.search = credentials.channel(services.search()).directExecutor().build();
        this.deadlineMillis = services.deadline().toMillis();
    }

    public SchemaServiceGrpc.SchemaServiceBlockingStub schema(String tenant) {
        return scoped(SchemaServiceGrpc.newBlockingStub(schema), tenant);
    }

    public SchemaServiceGrpc.SchemaServiceBlockingStub schemaAdmin() {
        return SchemaServiceGrpc.newBlockingStub(schema).withDeadlineAfter(deadlineMillis, TimeUnit.MILLISECONDS);
    }

    /**
     * record-service, told which table versions the call depends on: it answers once its own
     * tables have caught up with them (read-your-writes after a schema change).
     */
    public RecordServiceGrpc.RecordServiceBlockingStub records(String tenant, Table... tables) {
        Map<String, Long> versions = new LinkedHashMap<>();
        for (Table t : tables) {
            versions.put(t.getId(), t.getVersion());
        }
        return Consistency.after(scoped(RecordServiceGrpc.newBlockingStub(record), tenant), versions);
    }

    public SearchServiceGrpc.SearchServiceBlockingStub search(String tenant) {
        return scoped(SearchServiceGrpc.newBlockingStub(search), tenant);
    }

    /** search-service without blocking: the answer completes on the channel's transport thread. */
    public SearchServiceGrpc.SearchServiceFutureStub searchFuture(String tenant) {
        return scoped(SearchServiceGrpc.newFutureStub(search), tenant);
    }

    /** A gRPC future as a CompletableFuture (failures are the call's StatusRuntimeException). */
    public static <T> CompletableFuture<T> completable(ListenableFuture<T> call) {
        CompletableFuture<T> result = new CompletableFuture<>();
        Futures.addCallback(call, new FutureCallback<>() {
            @Override
            public void onSuccess(T value) {
                result.complete(value);
            }

            @Override
            public void onFailure(Throwable failure) {
                result.completeExceptionally(failure);
            }
        }, MoreExecutors.directExecutor());
        return result;
    }

    public SearchServiceGrpc.SearchServiceStub searchAsync(String tenant) {
        Metadata md = new Metadata();
        md.put(Tenants.METADATA_KEY, tenant);
        return SearchServiceGrpc.newStub(search).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md));
    }

    private <S extends AbstractStub<S>> S scoped(S stub, String tenant) {
        Metadata md = new Metadata();
        md.put(Tenants.METADATA_KEY, tenant);
        md.put(Trace.METADATA_KEY, Trace.traceparent(traceId()));
        return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(md))
            .withDeadlineAfter(deadlineMillis, TimeUnit.MILLISECONDS);
    }

    /**
     * The trace this call belongs to: the public gRPC call's, or the HTTP request's
     * {@code traceparent} (one is made per request when the client sent none).
     */
    static String traceId() {
        String grpcTrace = Trace.currentTraceId();
        if (!grpcTrace.isEmpty()) {
            return grpcTrace;
        }
        return ServerRequestContext.currentRequest().map(request -> {
            Object known = request.getAttribute(TRACE_ATTRIBUTE).orElse(null);
            if (known instanceof String id) {
                return id;
            }
            String id = Trace.traceIdOf(request.getHeaders().get("traceparent"));
            request.setAttribute(TRACE_ATTRIBUTE, id);
            return id;
        }).orElseGet(() -> Trace.traceIdOf(null));
    }

    @PreDestroy
    void close() {
        schema.shutdownNow();
        record.shutdownNow();
        search.shutdownNow();
    }
}
