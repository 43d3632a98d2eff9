package io.linkbase.search.autocomplete;

import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.linkbase.kit.grpc.ApiException;
import io.linkbase.kit.grpc.Calls;
import io.linkbase.kit.grpc.Tenants;
import io.linkbase.kit.limits.Slots;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.linkbase.proto.internal.v1.RebuildRequest;
import io.linkbase.proto.internal.v1.RebuildStatus;
import io.linkbase.proto.internal.v1.RebuildStatusRequest;
import io.linkbase.proto.internal.v1.RebuildResponse;
import io.linkbase.proto.internal.v1.SearchServiceGrpc;
import io.linkbase.proto.v1.SuggestRequest;
import io.linkbase.proto.v1.SuggestResponse;
import io.linkbase.search.targets.Rebuilder;
import io.linkbase.search.targets.SchemaView;
import io.micronaut.context.annotation.Value;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/** search-service's gRPC API; every suggestion is scoped to the tenant in the call's metadata. */
@Singleton
public class SearchGrpcService extends SearchServiceGrpc.SearchServiceImplBase {

    private final Suggester suggester;
    private final Rebuilder rebuilder;
    private final ExecutorService streams = Executors.newFixedThreadPool(
        Math.max(4, Runtime.getRuntime().availableProcessors() * 2), r -> {
            Thread t = new Thread(r, "suggest-stream");
            t.setDaemon(true);
            return t;
        });

    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "suggest-stream-idle");
        t.setDaemon(true);
        return t;
    });

    private final Timer latency;
    /** Open SuggestStreams: tenants (inner) within this instance (the one outer key). */
    private final Slots slots;
    private static final String INSTANCE = "";
    private final Duration idleTimeout;
    private final long idleTimeoutNanos;

    public SearchGrpcService(Suggester suggester, Rebuilder rebuilder, MeterRegistry meters,
                             @Value("${linkbase.search.streams.per-tenant:64}") int streamsPerTenant,
                             @Value("${linkbase.search.streams.total:10000}") int streamsTotal,
                             @Value("${linkbase.search.streams.idle-timeout:90s}") Duration idleTimeout) {
        this.suggester = suggester;
        this.rebuilder = rebuilder;
        this.slots = new Slots(streamsPerTenant, streamsTotal);
        if (idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("linkbase.search.streams.idle-timeout must be positive");
        }
        this.idleTimeout = idleTimeout;
        this.idleTimeoutNanos = idleTimeout.toNanos();
        Gauge.builder("linkbase.suggest.streams.open", slots, x -> x.open(INSTANCE))
            .description("SuggestStreams open now").register(meters);
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
            observer.onError(Calls.unexpected(e));
            return;
        }
        answer.whenComplete((response, failure) -> {
            sample.stop(latency);
            if (failure == null) {
                observer.onNext(response);
                observer.onCompleted();
            } else {
                Throwable cause = failure instanceof java.util.concurrent.CompletionException ? failure.getCause() : failure;
                observer.onError(cause instanceof ApiException a ? a.toStatusException() : Calls.unexpected(cause));
            }
        });
    }

    /**
     * Newest query wins: each stream runs at most one query at a time; a keystroke that arrives
     * while one runs replaces any waiting one, and a result is sent only if no newer query
     * arrived meanwhile (the older one's answer is dropped).
     *
     * <p>Bounded: at most {@code linkbase.search.streams.per-tenant} streams open per tenant and
     * {@code linkbase.search.streams.total} in all (beyond: RESOURCE_EXHAUSTED
     * {@code limit_exceeded}), and a stream that sends no query for
     * {@code linkbase.search.streams.idle-timeout} is closed with DEADLINE_EXCEEDED
     * {@code idle_timeout}. The slot is given back on every end: completed, cancelled, failed,
     * timed out.
     */
    @Override
    public StreamObserver<SuggestRequest> suggestStream(StreamObserver<SuggestResponse> observer) {
        String tenant;
        try {
            tenant = Tenants.current();
            if (!SchemaView.validTenant(tenant)) {
                throw ApiException.invalid("tenant", "must match [a-z0-9_-]{1,40}");
            }
        } catch (ApiException e) {
            observer.onError(e.toStatusException());
            return IGNORED;
        }
        Runnable slot = slots.tryAcquire(INSTANCE, tenant).release();
        if (slot == null) {
            observer.onError(new ApiException(Status.Code.RESOURCE_EXHAUSTED, "limit_exceeded",
                "too many open SuggestStreams: at most " + slots.perInner() + " per tenant (and "
                    + slots.perOuter() + " per search-service instance); close one first", List.of()).toStatusException());
            return IGNORED;
        }
        Context context = Context.current();
        ServerCallStreamObserver<SuggestResponse> out = (ServerCallStreamObserver<SuggestResponse>) observer;
        AtomicReference<SuggestRequest> latest = new AtomicReference<>();
        AtomicBoolean busy = new AtomicBoolean();
        AtomicBoolean clientDone = new AtomicBoolean();
        AtomicBoolean closed = new AtomicBoolean();
        AtomicReference<ScheduledFuture<?>> idleCheck = new AtomicReference<>();
        long[] lastQuery = {System.nanoTime()};
        Runnable ended = () -> {
            closed.set(true);
            ScheduledFuture<?> pending = idleCheck.getAndSet(null);
            if (pending != null) {
                pending.cancel(false);
            }
            slot.run();
        };
        out.setOnCancelHandler(ended::run); // the client cancelled, its deadline passed, or the connection broke
        out.setOnCloseHandler(ended::run); // the server's own end (completed, failed, timed out) went out
        Consumer<Runnable> finish = terminal -> {
            synchronized (out) {
                if (closed.compareAndSet(false, true)) {
                    terminal.run();
                }
            }
        };
        Runnable[] idle = new Runnable[1];
        idle[0] = () -> {
            long quiet;
            synchronized (lastQuery) {
                quiet = System.nanoTime() - lastQuery[0];
            }
            if (closed.get()) {
                return;
            }
            if (quiet >= idleTimeoutNanos) {
                finish.accept(() -> out.onError(new ApiException(Status.Code.DEADLINE_EXCEEDED, "idle_timeout",
                    "no query for " + idleTimeout.toSeconds() + " s: the stream is closed; open a new one", List.of())
                    .toStatusException()));
            } else {
                schedule(idleCheck, idle[0], idleTimeoutNanos - quiet, closed);
            }
        };
        schedule(idleCheck, idle[0], idleTimeoutNanos, closed);
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
                        finish.accept(() -> out.onError(e.toStatusException()));
                        return;
                    } catch (Exception e) {
                        finish.accept(() -> out.onError(Calls.unexpected(e)));
                        return;
                    }
                    if (latest.get() == null) {
                        synchronized (out) {
                            if (!closed.get() && !out.isCancelled()) {
                                out.onNext(answer);
                            }
                        }
                    }
                }
            } finally {
                busy.set(false);
            }
            // a query that arrived after the loop's last look, or the client's end
            if (latest.get() != null && !closed.get() && busy.compareAndSet(false, true)) {
                streams.execute(drain[0]);
            } else if (clientDone.get() && latest.get() == null && !busy.get()) {
                finish.accept(out::onCompleted);
            }
        };
        return new StreamObserver<>() {
            @Override
            public void onNext(SuggestRequest request) {
                synchronized (lastQuery) {
                    lastQuery[0] = System.nanoTime();
                }
                latest.set(request);
                if (busy.compareAndSet(false, true)) {
                    streams.execute(drain[0]);
                }
            }

            @Override
            public void onError(Throwable t) {
                ended.run(); // the client's side failed (a cancel); onCancel follows and finds it released
            }

            @Override
            public void onCompleted() {
                clientDone.set(true);
                if (latest.get() == null && busy.compareAndSet(false, true)) {
                    busy.set(false);
                    finish.accept(out::onCompleted);
                }
            }
        };
    }

    private void schedule(AtomicReference<ScheduledFuture<?>> holder, Runnable check, long delayNanos, AtomicBoolean closed) {
        if (closed.get()) {
            return;
        }
        try {
            holder.set(timers.schedule(check, delayNanos, TimeUnit.NANOSECONDS));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            return; // shutting down
        }
        if (closed.get()) { // ended meanwhile: do not keep the timer
            ScheduledFuture<?> pending = holder.getAndSet(null);
            if (pending != null) {
                pending.cancel(false);
            }
        }
    }

    /** SuggestStreams open now for a tenant. */
    public int openStreams(String tenant) {
        return slots.open(INSTANCE, tenant);
    }

    /** SuggestStreams open now in all. */
    public int openStreams() {
        return slots.open(INSTANCE);
    }

    private static final StreamObserver<SuggestRequest> IGNORED = new StreamObserver<>() {
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

    @Override
    public void rebuild(RebuildRequest request, StreamObserver<RebuildResponse> observer) {
        Context context = Context.current();
        streams.execute(context.wrap(() -> rebuildNow(request, observer))); // long: never on a transport thread
    }

    @Override
    public void getRebuildStatus(RebuildStatusRequest request, StreamObserver<RebuildStatus> observer) {
        Calls.unary(observer, rebuilder::status);
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
        timers.shutdownNow();
        streams.shutdownNow();
    }
}
