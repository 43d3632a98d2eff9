package io.linkbase.gateway.publicgrpc;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.linkbase.gateway.auth.Access;
import io.linkbase.gateway.auth.Principal;
import io.linkbase.gateway.auth.Role;
import io.linkbase.gateway.backend.Backends;
import io.linkbase.gateway.errors.Problem;
import io.linkbase.gateway.json.Limits;
import io.linkbase.gateway.flows.LinkFlows;
import io.linkbase.kit.grpc.ApiException;
import io.linkbase.kit.grpc.Tenants;
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
import io.linkbase.proto.v1.LinkState;
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
import io.micronaut.context.annotation.Value;
import io.micronaut.http.HttpStatus;
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
import java.util.function.Function;

/**
 * The public gRPC API (linkbase.v1.Linkbase): the same operations, roles and error codes as
 * the HTTP API, with the JWT in the {@code authorization} metadata. The tenant always comes
 * from the token, never from the caller's metadata.
 */
@Singleton
public class PublicGrpcApi extends LinkbaseGrpc.LinkbaseImplBase {
    private final Access access;
    private final Backends backends;
    private final LinkFlows flows;
    /** Open SuggestStreams: users (inner) within their tenant (outer). */
    private final Slots slots;
    private final Duration idleTimeout;
    private final long idleTimeoutNanos;
    private final ScheduledExecutorService timers = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "suggest-stream-idle");
        t.setDaemon(true);
        return t;
    });

    public PublicGrpcApi(Access access, Backends backends, LinkFlows flows,
                         @Value("${linkbase.suggest-stream.per-user:8}") int streamsPerUser,
                         @Value("${linkbase.suggest-stream.per-tenant:64}") int streamsPerTenant,
                         @Value("${linkbase.suggest-stream.idle-timeout:60s}") Duration idleTimeout) {
        this.access = access;
        this.backends = backends;
        this.flows = flows;
        this.slots = new Slots(streamsPerUser, streamsPerTenant);
        if (idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("linkbase.suggest-stream.idle-timeout must be positive");
        }
        this.idleTimeout = idleTimeout;
        this.idleTimeoutNanos = idleTimeout.toNanos();
    }

    @Override
    public void provisionTenant(ProvisionTenantRequest request, StreamObserver<ProvisionTenantResponse> observer) {
        respond(observer, () -> {
            access.platformCall(AuthorizationInterceptor.CONTEXT_KEY.get());
            if (!Tenants.isValid(request.getTenantId())) {
                throw Problem.invalid("tenant_id", "must match [a-z0-9_-]{1,40}");
            }
            ProvisionTenantResponse response = backends.schemaAdmin().provisionTenant(request);
            access.markProvisioned(request.getTenantId());
            return response;
        });
    }

    @Override
    public void createTable(CreateTableRequest request, StreamObserver<Table> observer) {
        call(observer, Role.OWNER, p -> {
            Limits.columnsOfNewTable(request.getColumnsCount(), "columns");
            return backends.schema(p.tenant()).createTable(request);
        });
    }

    @Override
    public void listTables(ListTablesRequest request, StreamObserver<ListTablesResponse> observer) {
        call(observer, Role.VIEWER, p -> backends.schema(p.tenant()).listTables(request));
    }

    @Override
    public void getTable(GetTableRequest request, StreamObserver<Table> observer) {
        call(observer, Role.VIEWER, p -> backends.schema(p.tenant()).getTable(request));
    }

    @Override
    public void updateTable(UpdateTableRequest request, StreamObserver<Table> observer) {
        call(observer, Role.OWNER, p -> backends.schema(p.tenant()).updateTable(request));
    }

    @Override
    public void deleteTable(DeleteTableRequest request, StreamObserver<Empty> observer) {
        call(observer, Role.OWNER, p -> backends.schema(p.tenant()).deleteTable(request));
    }

    @Override
    public void addColumn(AddColumnRequest request, StreamObserver<Column> observer) {
        call(observer, Role.OWNER, p -> backends.schema(p.tenant()).addColumn(request));
    }

    @Override
    public void updateColumn(UpdateColumnRequest request, StreamObserver<Column> observer) {
        call(observer, Role.OWNER, p -> backends.schema(p.tenant()).updateColumn(request));
    }

    @Override
    public void dropColumn(DropColumnRequest request, StreamObserver<Empty> observer) {
        call(observer, Role.OWNER, p -> backends.schema(p.tenant()).dropColumn(request));
    }

    @Override
    public void getLinkCandidates(LinkCandidatesRequest request, StreamObserver<LinkCandidatesResponse> observer) {
        call(observer, Role.VIEWER, p -> backends.schema(p.tenant()).getLinkCandidates(request));
    }

    @Override
    public void linkColumn(LinkColumnRequest request, StreamObserver<Link> observer) {
        call(observer, Role.OWNER, p -> {
            if (request.getWaitSeconds() < 0 || request.getWaitSeconds() > LinkFlows.MAX_WAIT_SECONDS) {
                throw Problem.invalid("wait_seconds", "must be from 0 to " + LinkFlows.MAX_WAIT_SECONDS);
            }
            Link link = backends.schema(p.tenant()).linkColumn(request.toBuilder().clearWaitSeconds().build());
            if (request.getWaitSeconds() > 0 && link.getState() != LinkState.ACTIVE) {
                link = flows.awaitActive(p.tenant(), request.getTableId(), request.getColumnId(), request.getWaitSeconds());
            }
            return link;
        });
    }

    @Override
    public void getLink(GetLinkRequest request, StreamObserver<Link> observer) {
        call(observer, Role.VIEWER, p -> backends.schema(p.tenant()).getLink(request));
    }

    @Override
    public void unlinkColumn(UnlinkColumnRequest request, StreamObserver<Empty> observer) {
        call(observer, Role.OWNER, p -> backends.schema(p.tenant()).unlinkColumn(request));
    }

    @Override
    public void undoLink(UndoLinkRequest request, StreamObserver<Table> observer) {
        call(observer, Role.OWNER, p -> flows.undoLink(p.tenant(), request.getTableId(), request.getColumnId(),
            request.hasExpectedVersion() ? request.getExpectedVersion() : null));
    }

    @Override
    public void listTableEvents(TableEventsRequest request, StreamObserver<TableEventsResponse> observer) {
        call(observer, Role.VIEWER, p -> backends.schema(p.tenant()).listTableEvents(request));
    }

    @Override
    public void previewLink(LinkPreviewRequest request, StreamObserver<LinkPreview> observer) {
        call(observer, Role.OWNER, p -> backends.records(p.tenant(), table(p, request.getTableId()),
            table(p, request.getTargetTableId())).previewLink(request));
    }

    @Override
    public void createRecord(CreateRecordRequest request, StreamObserver<Record> observer) {
        call(observer, Role.EDITOR, p -> {
            Limits.values(request.getValuesMap(), "values.");
            return backends.records(p.tenant(), table(p, request.getTableId())).createRecord(request);
        });
    }

    @Override
    public void createRecords(CreateRecordsRequest request, StreamObserver<CreateRecordsResponse> observer) {
        call(observer, Role.EDITOR, p -> {
            if (request.getRecordsCount() > Limits.MAX_BATCH) {
                throw new Problem(HttpStatus.REQUEST_ENTITY_TOO_LARGE, "payload_too_large", "at most " + Limits.MAX_BATCH
                    + " records per batch; this one has " + request.getRecordsCount());
            }
            for (int i = 0; i < request.getRecordsCount(); i++) {
                Limits.values(request.getRecords(i).getValuesMap(), "records[" + i + "].values.");
            }
            return backends.records(p.tenant(), table(p, request.getTableId())).createRecords(request);
        });
    }

    @Override
    public void getRecord(GetRecordRequest request, StreamObserver<Record> observer) {
        call(observer, Role.VIEWER, p -> backends.records(p.tenant(), table(p, request.getTableId())).getRecord(request));
    }

    @Override
    public void updateRecord(UpdateRecordRequest request, StreamObserver<Record> observer) {
        call(observer, Role.EDITOR, p -> {
            Limits.values(request.getValuesMap(), "values.");
            return backends.records(p.tenant(), table(p, request.getTableId())).updateRecord(request);
        });
    }

    @Override
    public void deleteRecord(DeleteRecordRequest request, StreamObserver<Empty> observer) {
        call(observer, Role.EDITOR, p -> backends.records(p.tenant(), table(p, request.getTableId())).deleteRecord(request));
    }

    @Override
    public void listRecords(ListRecordsRequest request, StreamObserver<ListRecordsResponse> observer) {
        call(observer, Role.VIEWER, p -> backends.records(p.tenant(), table(p, request.getTableId())).listRecords(request));
    }

    @Override
    public void suggest(SuggestRequest request, StreamObserver<SuggestResponse> observer) {
        call(observer, Role.VIEWER, p -> {
            if (request.getQ().length() > Limits.MAX_Q) {
                throw Problem.limit("q", "at most " + Limits.MAX_Q + " characters; it has " + request.getQ().length());
            }
            return backends.search(p.tenant()).suggest(request);
        });
    }

    @Override
    public void createSuggestedRecord(CreateSuggestedRecordRequest request,
                                      StreamObserver<CreateSuggestedRecordResponse> observer) {
        call(observer, Role.EDITOR, p -> {
            Limits.text(request.getText(), "text");
            return flows.createSuggestedRecord(p.tenant(), request.getTableId(), request.getColumnId(), request.getText(),
                request.hasRecordId() ? request.getRecordId() : null);
        });
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
        String authorization = AuthorizationInterceptor.CONTEXT_KEY.get();
        Principal principal;
        try {
            principal = access.tenantCall(authorization, Role.VIEWER);
        } catch (Problem e) {
            client.onError(toStatus(e));
            return IGNORED;
        }
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
                access.tenantCall(authorization, Role.VIEWER);
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

    private Table table(Principal p, String tableId) {
        return backends.schema(p.tenant()).getTable(GetTableRequest.newBuilder().setTableId(tableId).build());
    }

    private <T> void call(StreamObserver<T> observer, Role role, Function<Principal, T> work) {
        respond(observer, () -> work.apply(access.tenantCall(AuthorizationInterceptor.CONTEXT_KEY.get(), role)));
    }

    private static <T> void respond(StreamObserver<T> observer, java.util.function.Supplier<T> work) {
        T result;
        try {
            result = work.get();
        } catch (Problem e) {
            observer.onError(toStatus(e));
            return;
        } catch (StatusRuntimeException e) {
            observer.onError(e); // a service's status and its ErrorInfo trailer, as they are
            return;
        }
        observer.onNext(result);
        observer.onCompleted();
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
