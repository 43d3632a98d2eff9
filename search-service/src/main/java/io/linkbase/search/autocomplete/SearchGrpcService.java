package io.linkbase.search.autocomplete;

import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.linkbase.kit.grpc.ApiException;
import io.linkbase.kit.grpc.Calls;
import io.linkbase.kit.grpc.Tenants;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.linkbase.proto.internal.v1.RebuildRequest;
import io.linkbase.proto.internal.v1.RebuildResponse;
import io.linkbase.proto.internal.v1.SearchServiceGrpc;
import io.linkbase.proto.v1.SuggestRequest;
import io.linkbase.proto.v1.SuggestResponse;
import io.linkbase.search.index.Rebuilder;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/** search-service's gRPC API; every suggestion is scoped to the tenant in the call's metadata. */
@Singleton
public class SearchGrpcService extends SearchServiceGrpc.SearchServiceImplBase {
    private static final Logger LOG = LoggerFactory.getLogger(SearchGrpcService.class);

    private final Suggester suggester;
    private final Rebuilder rebuilder;
    private final ExecutorService streams = Executors.newFixedThreadPool(
        Math.max(4, Runtime.getRuntime().availableProcessors() * 2), r -> {
            Thread t = new Thread(r, "suggest-stream");
            t.setDaemon(true);
            return t;
        });

    private final Timer latency;

    public SearchGrpcService(Suggester suggester, Rebuilder rebuilder, MeterRegistry meters) {
        this.suggester = suggester;
        this.rebuilder = rebuilder;
        this.latency = Timer.builder("linkbase.autocomplete.latency")
            .description("Suggest, from the call to the answer")
            .publishPercentiles(0.5, 0.95, 0.99).register(meters);
    }

    @Override
    public void suggest(SuggestRequest request, StreamObserver<SuggestResponse> observer) {
        java.util.concurrent.CompletableFuture<SuggestResponse> answer;
        Timer.Sample sample = Timer.start();
        try {
            answer = suggester.suggestAsync(Tenants.current(), request);
        } catch (ApiException e) {
            observer.onError(e.toStatusException());
            return;
        } catch (RuntimeException e) {
            LOG.error("internal error", e);
            observer.onError(Status.INTERNAL.withDescription("internal error").asRuntimeException());
            return;
        }
        answer.whenComplete((response, failure) -> {
            sample.stop(latency);
            if (failure == null) {
                observer.onNext(response);
                observer.onCompleted();
            } else {
                Throwable cause = failure instanceof java.util.concurrent.CompletionException ? failure.getCause() : failure;
                LOG.error("suggest failed", cause);
                observer.onError(Status.INTERNAL.withDescription("internal error").asRuntimeException());
            }
        });
    }

    /**
     * Newest query wins: each stream runs at most one query at a time; a keystroke that arrives
     * while one runs replaces any waiting one, and a result is sent only if no newer query
     * arrived meanwhile (the older one's answer is dropped).
     */
    @Override
    public StreamObserver<SuggestRequest> suggestStream(StreamObserver<SuggestResponse> observer) {
        String tenant;
        try {
            tenant = Tenants.current();
        } catch (ApiException e) {
            observer.onError(e.toStatusException());
            return new StreamObserver<>() {
                @Override
                public void onNext(SuggestRequest value) {
                }

                @Override
                public void onError(Throwable t) {
                }

                @Override
                public void onCompleted() {
                }
            };
        }
        Context context = Context.current();
        ServerCallStreamObserver<SuggestResponse> out = (ServerCallStreamObserver<SuggestResponse>) observer;
        AtomicReference<SuggestRequest> latest = new AtomicReference<>();
        AtomicBoolean busy = new AtomicBoolean();
        AtomicBoolean clientDone = new AtomicBoolean();
        AtomicBoolean closed = new AtomicBoolean();
        Runnable[] drain = new Runnable[1];
        drain[0] = () -> {
            try {
                SuggestRequest next;
                while (!closed.get() && (next = latest.getAndSet(null)) != null) {
                    SuggestResponse answer;
                    try {
                        SuggestRequest query = next;
                        answer = context.call(() -> suggester.suggest(tenant, query));
                    } catch (ApiException e) {
                        if (closed.compareAndSet(false, true)) {
                            out.onError(e.toStatusException());
                        }
                        return;
                    } catch (Exception e) {
                        LOG.error("internal error", e);
                        if (closed.compareAndSet(false, true)) {
                            out.onError(Status.INTERNAL.withDescription("internal error").asRuntimeException());
                        }
                        return;
                    }
                    if (latest.get() == null && !closed.get() && !out.isCancelled()) {
                        synchronized (out) {
                            out.onNext(answer);
                        }
                    }
                }
            } finally {
                busy.set(false);
            }
            // a query that arrived after the loop's last look, or the client's end
            if (latest.get() != null && !closed.get() && busy.compareAndSet(false, true)) {
                streams.execute(drain[0]);
            } else if (clientDone.get() && latest.get() == null && !busy.get() && closed.compareAndSet(false, true)) {
                out.onCompleted();
            }
        };
        return new StreamObserver<>() {
            @Override
            public void onNext(SuggestRequest request) {
                latest.set(request);
                if (busy.compareAndSet(false, true)) {
                    streams.execute(drain[0]);
                }
            }

            @Override
            public void onError(Throwable t) {
                closed.set(true);
            }

            @Override
            public void onCompleted() {
                clientDone.set(true);
                if (latest.get() == null && busy.compareAndSet(false, true)) {
                    busy.set(false);
                    if (closed.compareAndSet(false, true)) {
                        out.onCompleted();
                    }
                }
            }
        };
    }

    @Override
    public void rebuild(RebuildRequest request, StreamObserver<RebuildResponse> observer) {
        Context context = Context.current();
        streams.execute(context.wrap(() -> rebuildNow(request, observer))); // long: never on a transport thread
    }

    private void rebuildNow(RebuildRequest request, StreamObserver<RebuildResponse> observer) {
        Calls.unary(observer, () -> {
            String tenant = request.hasTenantId() ? request.getTenantId() : null;
            if (tenant != null && !Tenants.isValid(tenant)) {
                throw ApiException.invalid("tenantId", "must match [a-z0-9_-]{1,40}");
            }
            Rebuilder.Result r = rebuilder.rebuild(tenant);
            return RebuildResponse.newBuilder().setIndex(r.index()).setDocuments(r.documents()).build();
        });
    }

    @PreDestroy
    void close() {
        streams.shutdownNow();
    }
}
