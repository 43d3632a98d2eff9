package io.linkbase.gateway.publicgrpc;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.linkbase.gateway.auth.Access;
import io.linkbase.gateway.auth.Operation;
import io.linkbase.gateway.auth.Principal;
import io.linkbase.gateway.backend.Backends;
import io.linkbase.gateway.config.GatewaySettings;
import io.linkbase.gateway.errors.Problem;
import io.linkbase.kit.grpc.ApiException;
import io.linkbase.kit.limits.Slots;
import io.linkbase.proto.v1.SuggestRequest;
import io.linkbase.proto.v1.SuggestResponse;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/** The public SuggestStreams of {@link PublicGrpcApi}: each open one relayed to search-service's, bounded and timed out. */
@Singleton
class SuggestStreams {
    private final Access access;
    private final Backends backends;
    /** Open SuggestStreams: users (inner) within their tenant (outer). */
    private final Slots slots;
    private final Duration idleTimeout;
    private final long idleTimeoutNanos;
    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "suggest-stream-idle");
        t.setDaemon(true);
        return t;
    });

    SuggestStreams(Access access, Backends backends, GatewaySettings.SuggestStream streams) {
        this.access = access;
        this.backends = backends;
        this.slots = new Slots(streams.perUser(), streams.perTenant());
        Duration idleTimeout = streams.idleTimeout();
        if (idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("linkbase.suggest-stream.idle-timeout must be positive");
        }
        this.idleTimeout = idleTimeout;
        this.idleTimeoutNanos = idleTimeout.toNanos();
    }

    /**
     * Relays keystrokes to search-service's own stream, which answers only the newest query;
     * every keystroke is authorised (and counted against the user's and the tenant's rate limits).
     *
     * <p>Bounded: at most {@code linkbase.suggest-stream.per-user} streams open per user and
     * {@code per-tenant} per tenant on this replica (beyond: RESOURCE_EXHAUSTED
     * {@code limit_exceeded}), and a stream with no query for {@code idle-timeout} is closed with
     * DEADLINE_EXCEEDED {@code idle_timeout} (search-service's stream is cancelled with it). The
     * slot is given back on every end: completed, cancelled, failed, timed out.
     */
    StreamObserver<SuggestRequest> open(StreamObserver<SuggestResponse> client) {
        String authorization = AuthorizationInterceptor.AUTHORIZATION_KEY.get();
        Principal principal = AuthorizationInterceptor.principal(); // admitted by the interceptor
        Slots.Grant grant = slots.tryAcquire(principal.tenant(), principal.subject());
        if (!grant.granted()) {
            client.onError(new ApiException(Status.Code.RESOURCE_EXHAUSTED, "limit_exceeded", grant.refusedBy() == Slots.Level.INNER
                ? "too many open SuggestStreams for this user: at most " + slots.perInner()
                    + " per user (per gateway replica); close one first"
                : "too many open SuggestStreams for tenant " + principal.tenant() + ": at most " + slots.perOuter()
                    + " per tenant (per gateway replica); close one first", List.of()).toStatusException());
            return IGNORED;
        }
        return new Relay((ServerCallStreamObserver<SuggestResponse>) client, authorization, principal, grant.release())
            .start();
    }

    /** One public SuggestStream and the search-service stream behind it. */
    private final class Relay implements StreamObserver<SuggestRequest> {
        private final ServerCallStreamObserver<SuggestResponse> client;
        private final String authorization;
        private final Principal principal;
        private final Runnable release;
        private final Object clientLock = new Object();
        private final Object searchLock = new Object();
        private final AtomicBoolean ended = new AtomicBoolean();
        private final AtomicReference<ScheduledFuture<?>> idleCheck = new AtomicReference<>();
        private volatile long lastQuery = System.nanoTime();
        private boolean clientClosed; // under clientLock
        private boolean searchHalfClosed; // under searchLock
        private boolean searchCancelled; // under searchLock
        private StreamObserver<SuggestRequest> toSearch;

        Relay(ServerCallStreamObserver<SuggestResponse> client, String authorization, Principal principal, Runnable release) {
            this.client = client;
            this.authorization = authorization;
            this.principal = principal;
            this.release = release;
        }

        Relay start() {
            client.setOnCancelHandler(() -> { // the client cancelled, its deadline passed, or the connection broke
                end();
                cancelSearch("the client cancelled");
            });
            client.setOnCloseHandler(this::end); // our own end (completed, failed, timed out) went out
            toSearch = backends.searchAsync(principal.tenant()).suggestStream(new StreamObserver<>() {
                public void onNext(SuggestResponse value) {
                    synchronized (clientLock) {
                        if (!clientClosed) {
                            client.onNext(value);
                        }
                    }
                }

                public void onError(Throwable t) {
                    closeClient(() -> client.onError(ProblemStatuses.relay(t))); // search-service's status and ErrorInfo, as they are
                }

                public void onCompleted() {
                    closeClient(client::onCompleted);
                }
            });
            scheduleIdleCheck(idleTimeoutNanos);
            return this;
        }

        @Override
        public void onNext(SuggestRequest request) {
            lastQuery = System.nanoTime();
            try {
                access.admit(authorization, Operation.SUGGEST_STREAM.role());
            } catch (Problem e) {
                fail(ProblemStatuses.toStatus(e));
                return;
            }
            synchronized (searchLock) {
                if (!searchHalfClosed && !searchCancelled) {
                    toSearch.onNext(request);
                }
            }
        }

        @Override
        public void onError(Throwable t) {
            end();
            cancelSearch("the client cancelled");
        }

        @Override
        public void onCompleted() {
            synchronized (searchLock) {
                if (!searchHalfClosed && !searchCancelled) {
                    searchHalfClosed = true;
                    toSearch.onCompleted(); // search-service answers what is pending, then completes
                }
            }
        }

        private void fail(StatusRuntimeException status) {
            // The client's status first: cancelling the search call makes search-service's side
            // end with CANCELLED, which must not reach the client before this status does.
            closeClient(() -> client.onError(status));
            cancelSearch(status.getStatus().getDescription());
        }

        private void cancelSearch(String why) {
            synchronized (searchLock) {
                if (!searchCancelled) {
                    searchCancelled = true;
                    toSearch.onError(Status.CANCELLED.withDescription(why).asRuntimeException());
                }
            }
        }

        private void closeClient(Runnable terminal) {
            synchronized (clientLock) {
                if (clientClosed || ended.get()) {
                    return;
                }
                clientClosed = true;
                terminal.run();
            }
        }

        /** Every end path comes here, at least once: the slot and the timer are given back once. */
        private void end() {
            if (ended.compareAndSet(false, true)) {
                ScheduledFuture<?> pending = idleCheck.getAndSet(null);
                if (pending != null) {
                    pending.cancel(false);
                }
                release.run();
            }
        }

        private void idle() {
            if (ended.get()) {
                return;
            }
            long quiet = System.nanoTime() - lastQuery;
            if (quiet >= idleTimeoutNanos) {
                fail(new ApiException(Status.Code.DEADLINE_EXCEEDED, "idle_timeout", "no query for "
                    + idleTimeout.toSeconds() + " s: the stream is closed; open a new one", List.of()).toStatusException());
            } else {
                scheduleIdleCheck(idleTimeoutNanos - quiet);
            }
        }

        private void scheduleIdleCheck(long delayNanos) {
            try {
                idleCheck.set(timers.schedule(this::idle, delayNanos, TimeUnit.NANOSECONDS));
            } catch (RejectedExecutionException e) {
                return; // shutting down
            }
            if (ended.get()) {
                ScheduledFuture<?> pending = idleCheck.getAndSet(null);
                if (pending != null) {
                    pending.cancel(false);
                }
            }
        }
    }

    private static final StreamObserver<SuggestRequest> IGNORED = new StreamObserver<>() {
        public void onNext(SuggestRequest value) {
        }

        public void onError(Throwable t) {
        }

        public void onCompleted() {
        }
    };

    @PreDestroy
    void close() {
        timers.shutdownNow();
    }
}
