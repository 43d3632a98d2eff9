package io.linkbase.gateway.publicgrpc;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.linkbase.gateway.auth.Access;
import io.linkbase.gateway.auth.Principal;
import io.linkbase.gateway.auth.Operation;
import io.linkbase.gateway.backend.Backends;
import io.linkbase.gateway.config.GatewaySettings;
import io.linkbase.gateway.errors.Problem;
import io.linkbase.gateway.json.Limits;
import io.linkbase.gateway.ops.LinkOps;
import io.linkbase.gateway.ops.RecordOps;
import io.linkbase.gateway.ops.SuggestionOps;
import io.linkbase.gateway.ops.TableOps;
import io.linkbase.gateway.ops.TenantOps;
import io.linkbase.kit.grpc.ApiException;
import io.linkbase.kit.limits.Slots;
import io.linkbase.proto.internal.v1.FieldViolation;
import io.linkbase.proto.v1.AddColumnRequest;
import io.linkbase.proto.v1.Column;
import io.linkbase.proto.v1.CreateRecordRequest;
import io.linkbase.proto.v1.CreateRecordsRequest;
import io.linkbase.proto.v1.CreateRecordsResponse;
import io.linkbase.proto.v1.CreateSuggestedRecordRequest;
import io.linkbase.proto.v1.CreateSuggestedRecordResponse;
import io.linkbase.proto.v1.CreateTableRequest;
import io.linkbase.proto.v1.DeleteRecordRequest;
import io.linkbase.proto.v1.DeleteTableRequest;
import io.linkbase.proto.v1.DropColumnRequest;
import io.linkbase.proto.v1.Empty;
import io.linkbase.proto.v1.GetLinkRequest;
import io.linkbase.proto.v1.GetRecordRequest;
import io.linkbase.proto.v1.GetTableRequest;
import io.linkbase.proto.v1.Link;
import io.linkbase.proto.v1.LinkCandidatesRequest;
import io.linkbase.proto.v1.LinkCandidatesResponse;
import io.linkbase.proto.v1.LinkColumnRequest;
import io.linkbase.proto.v1.LinkPreview;
import io.linkbase.proto.v1.LinkPreviewRequest;
import io.linkbase.proto.v1.LinkbaseGrpc;
import io.linkbase.proto.v1.ListRecordsRequest;
import io.linkbase.proto.v1.ListRecordsResponse;
import io.linkbase.proto.v1.ListTablesRequest;
import io.linkbase.proto.v1.ListTablesResponse;
import io.linkbase.proto.v1.ProvisionTenantRequest;
import io.linkbase.proto.v1.ProvisionTenantResponse;
import io.linkbase.proto.v1.Record;
import io.linkbase.proto.v1.SuggestRequest;
import io.linkbase.proto.v1.SuggestResponse;
import io.linkbase.proto.v1.Table;
import io.linkbase.proto.v1.TableEventsRequest;
import io.linkbase.proto.v1.TableEventsResponse;
import io.linkbase.proto.v1.UndoLinkRequest;
import io.linkbase.proto.v1.UnlinkColumnRequest;
import io.linkbase.proto.v1.UpdateColumnRequest;
import io.linkbase.proto.v1.UpdateRecordRequest;
import io.linkbase.proto.v1.UpdateTableRequest;
import jakarta.annotation.PreDestroy;
import jakarta.inject.Singleton;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * The public gRPC API (linkbase.v1.Linkbase): the same operations, roles and error codes as
 * the HTTP API, with the JWT in the {@code authorization} metadata. The tenant always comes
 * from the token, never from the caller's metadata.
 */
@Singleton
class PublicGrpcApi extends LinkbaseGrpc.LinkbaseImplBase {
    private final TenantOps tenants;
    private final TableOps tables;
    private final RecordOps records;
    private final LinkOps links;
    private final SuggestionOps suggestions;
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

    public PublicGrpcApi(TenantOps tenants, TableOps tables, RecordOps records, LinkOps links, SuggestionOps suggestions,
                         Access access, Backends backends, GatewaySettings.SuggestStream streams) {
        this.tenants = tenants;
        this.tables = tables;
        this.records = records;
        this.links = links;
        this.suggestions = suggestions;
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

    @Override
    public void provisionTenant(ProvisionTenantRequest request, StreamObserver<ProvisionTenantResponse> observer) {
        call(observer, p -> tenants.provision(request.getTenantId(), "tenant_id"));
    }

    @Override
    public void createTable(CreateTableRequest request, StreamObserver<Table> observer) {
        call(observer, p -> tables.create(p, request));
    }

    @Override
    public void listTables(ListTablesRequest request, StreamObserver<ListTablesResponse> observer) {
        call(observer, p -> tables.list(p, request));
    }

    @Override
    public void getTable(GetTableRequest request, StreamObserver<Table> observer) {
        call(observer, p -> tables.get(p, request.getTableId()));
    }

    @Override
    public void updateTable(UpdateTableRequest request, StreamObserver<Table> observer) {
        call(observer, p -> tables.update(p, request));
    }

    @Override
    public void deleteTable(DeleteTableRequest request, StreamObserver<Empty> observer) {
        call(observer, p -> tables.delete(p, request));
    }

    @Override
    public void addColumn(AddColumnRequest request, StreamObserver<Column> observer) {
        call(observer, p -> tables.addColumn(p, request));
    }

    @Override
    public void updateColumn(UpdateColumnRequest request, StreamObserver<Column> observer) {
        call(observer, p -> tables.updateColumn(p, request));
    }

    @Override
    public void dropColumn(DropColumnRequest request, StreamObserver<Empty> observer) {
        call(observer, p -> tables.dropColumn(p, request));
    }

    @Override
    public void listTableEvents(TableEventsRequest request, StreamObserver<TableEventsResponse> observer) {
        call(observer, p -> tables.events(p, request));
    }

    @Override
    public void getLinkCandidates(LinkCandidatesRequest request, StreamObserver<LinkCandidatesResponse> observer) {
        call(observer, p -> links.candidates(p, request));
    }

    @Override
    public void linkColumn(LinkColumnRequest request, StreamObserver<Link> observer) {
        call(observer, p -> {
            if (request.getWaitSeconds() < 0 || request.getWaitSeconds() > Limits.MAX_WAIT_SECONDS) {
                throw Problem.invalid("wait_seconds", "must be from 0 to " + Limits.MAX_WAIT_SECONDS);
            }
            return links.link(p, request.toBuilder().clearWaitSeconds().build(), request.getWaitSeconds());
        });
    }

    @Override
    public void getLink(GetLinkRequest request, StreamObserver<Link> observer) {
        call(observer, p -> links.get(p, request));
    }

    @Override
    public void unlinkColumn(UnlinkColumnRequest request, StreamObserver<Empty> observer) {
        call(observer, p -> links.unlink(p, request));
    }

    @Override
    public void undoLink(UndoLinkRequest request, StreamObserver<Table> observer) {
        call(observer, p -> links.undo(p, request.getTableId(), request.getColumnId(),
            request.hasExpectedVersion() ? request.getExpectedVersion() : null));
    }

    @Override
    public void previewLink(LinkPreviewRequest request, StreamObserver<LinkPreview> observer) {
        call(observer, p -> links.preview(p, request));
    }

    @Override
    public void createRecord(CreateRecordRequest request, StreamObserver<Record> observer) {
        call(observer, p -> records.create(p, request));
    }

    @Override
    public void createRecords(CreateRecordsRequest request, StreamObserver<CreateRecordsResponse> observer) {
        call(observer, p -> records.createBatch(p, request));
    }

    @Override
    public void getRecord(GetRecordRequest request, StreamObserver<Record> observer) {
        call(observer, p -> records.get(p, request));
    }

    @Override
    public void updateRecord(UpdateRecordRequest request, StreamObserver<Record> observer) {
        call(observer, p -> records.update(p, request));
    }

    @Override
    public void deleteRecord(DeleteRecordRequest request, StreamObserver<Empty> observer) {
        call(observer, p -> records.delete(p, request));
    }

    @Override
    public void listRecords(ListRecordsRequest request, StreamObserver<ListRecordsResponse> observer) {
        call(observer, p -> records.list(p, request));
    }

    @Override
    public void suggest(SuggestRequest request, StreamObserver<SuggestResponse> observer) {
        CompletableFuture<SuggestResponse> answer;
        try {
            answer = suggestions.suggest(AuthorizationInterceptor.principal(), request);
        } catch (Problem | StatusRuntimeException e) {
            fail(observer, e);
            return;
        }
        answer.whenComplete((response, failure) -> {
            if (failure == null) {
                observer.onNext(response);
                observer.onCompleted();
            } else {
                fail(observer, failure instanceof CompletionException && failure.getCause() != null
                    ? failure.getCause() : failure);
            }
        });
    }

    @Override
    public void createSuggestedRecord(CreateSuggestedRecordRequest request,
                                      StreamObserver<CreateSuggestedRecordResponse> observer) {
        call(observer, p -> suggestions.createRecord(p, request.getTableId(), request.getColumnId(), request.getText(),
            request.hasRecordId() ? request.getRecordId() : null));
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
    @Override
    public StreamObserver<SuggestRequest> suggestStream(StreamObserver<SuggestResponse> client) {
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
                    closeClient(() -> client.onError(t)); // search-service's status and ErrorInfo, as they are
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
                fail(toStatus(e));
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

    /** SuggestStreams open now on this replica for a tenant, and for one of its users (tests). */
    int openStreams(String tenant) {
        return slots.open(tenant);
    }

    int openStreams(String tenant, String user) {
        return slots.open(tenant, user);
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

    /** A unary call of the caller the interceptor admitted: its answer, or its failure as a status. */
    private static <T> void call(StreamObserver<T> observer, Function<Principal, T> work) {
        T result;
        try {
            result = work.apply(AuthorizationInterceptor.principal());
        } catch (Problem | StatusRuntimeException e) {
            fail(observer, e);
            return;
        }
        observer.onNext(result);
        observer.onCompleted();
    }

    /** Our problems as their status; a service's status and its ErrorInfo trailer as they are. */
    private static void fail(StreamObserver<?> observer, Throwable failure) {
        observer.onError(failure instanceof Problem p ? toStatus(p) : failure);
    }

    static StatusRuntimeException toStatus(Problem p) {
        Status.Code code = switch (p.status().getCode()) {
            case 400 -> Status.Code.INVALID_ARGUMENT;
            case 401 -> Status.Code.UNAUTHENTICATED;
            case 403 -> Status.Code.PERMISSION_DENIED;
            case 404 -> Status.Code.NOT_FOUND;
            case 409 -> "version_conflict".equals(p.code()) ? Status.Code.ABORTED : Status.Code.FAILED_PRECONDITION;
            case 413, 429 -> Status.Code.RESOURCE_EXHAUSTED;
            case 503 -> Status.Code.UNAVAILABLE;
            default -> Status.Code.INTERNAL;
        };
        return new ApiException(code, p.code(), p.getMessage(), p.errors().stream()
            .map(e -> FieldViolation.newBuilder().setField(e.field()).setMessage(e.message()).build()).toList())
            .toStatusException();
    }
}
