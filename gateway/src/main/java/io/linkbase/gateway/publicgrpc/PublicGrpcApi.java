package io.linkbase.gateway.publicgrpc;

import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import io.linkbase.gateway.auth.Principal;
import io.linkbase.gateway.errors.Problem;
import io.linkbase.gateway.json.Limits;
import io.linkbase.gateway.ops.LinkOps;
import io.linkbase.gateway.ops.RecordOps;
import io.linkbase.gateway.ops.SuggestionOps;
import io.linkbase.gateway.ops.TableOps;
import io.linkbase.gateway.ops.TenantOps;
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
import jakarta.inject.Singleton;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
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
    private final SuggestStreams streams;

    public PublicGrpcApi(TenantOps tenants, TableOps tables, RecordOps records, LinkOps links, SuggestionOps suggestions,
                         SuggestStreams streams) {
        this.tenants = tenants;
        this.tables = tables;
        this.records = records;
        this.links = links;
        this.suggestions = suggestions;
        this.streams = streams;
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

    /** Relays keystrokes to search-service's own stream: see {@link SuggestStreams}. */
    @Override
    public StreamObserver<SuggestRequest> suggestStream(StreamObserver<SuggestResponse> client) {
        return streams.open(client);
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

    /** Our problems as their status; a service's status and its ErrorInfo trailer as they are ({@link ProblemStatuses#relay}). */
    private static void fail(StreamObserver<?> observer, Throwable failure) {
        observer.onError(ProblemStatuses.relay(failure));
    }
}
