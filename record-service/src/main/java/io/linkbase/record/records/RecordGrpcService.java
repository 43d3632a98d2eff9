package io.linkbase.record.records;

import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.linkbase.kit.grpc.ApiException;
import io.linkbase.kit.grpc.Calls;
import io.linkbase.kit.grpc.Tenants;
import io.linkbase.proto.internal.v1.ExportRecordsRequest;
import io.linkbase.proto.internal.v1.ExportedPage;
import io.linkbase.proto.internal.v1.RecordServiceGrpc;
import io.linkbase.proto.v1.CreateRecordRequest;
import io.linkbase.proto.v1.CreateRecordsRequest;
import io.linkbase.proto.v1.CreateRecordsResponse;
import io.linkbase.proto.v1.DeleteRecordRequest;
import io.linkbase.proto.v1.Empty;
import io.linkbase.proto.v1.GetRecordRequest;
import io.linkbase.proto.v1.LinkPreview;
import io.linkbase.proto.v1.LinkPreviewRequest;
import io.linkbase.proto.v1.ListRecordsRequest;
import io.linkbase.proto.v1.ListRecordsResponse;
import io.linkbase.proto.v1.Record;
import io.linkbase.proto.v1.UndoLinkRequest;
import io.linkbase.proto.v1.UpdateRecordRequest;
import jakarta.inject.Singleton;

/** record-service's gRPC API (internal/v1/record_service.proto); the tenant comes from the call's metadata. */
@Singleton
class RecordGrpcService extends RecordServiceGrpc.RecordServiceImplBase {

    private final Records records;
    private final RecordDeletes deletes;
    private final LinkChecks linkChecks;
    private final RecordExport export;
    private final SchemaCatchUp catchUp;

    RecordGrpcService(Records records, RecordDeletes deletes, LinkChecks linkChecks, RecordExport export,
                      SchemaCatchUp catchUp) {
        this.records = records;
        this.deletes = deletes;
        this.linkChecks = linkChecks;
        this.export = export;
        this.catchUp = catchUp;
    }

    /** The calling tenant, once this service has caught up with the table versions the caller saw. */
    private String tenant() {
        String tenant = Tenants.current();
        catchUp.await(tenant);
        return tenant;
    }

    /** As {@link #tenant()} for a single-record write, which may go on at a link still clearing its column. */
    private String writer() {
        String tenant = Tenants.current();
        catchUp.awaitForWrite(tenant);
        return tenant;
    }

    @Override
    public void createRecord(CreateRecordRequest request, StreamObserver<Record> observer) {
        Calls.unary(observer, () -> records.create(writer(), request.getTableId(), request.getValuesMap()));
    }

    @Override
    public void createRecords(CreateRecordsRequest request, StreamObserver<CreateRecordsResponse> observer) {
        Calls.unary(observer, () -> CreateRecordsResponse.newBuilder()
            .addAllIds(records.createMany(tenant(), request.getTableId(), request.getRecordsList())).build());
    }

    @Override
    public void getRecord(GetRecordRequest request, StreamObserver<Record> observer) {
        Calls.unary(observer, () -> records.get(tenant(), request.getTableId(), request.getRecordId()));
    }

    @Override
    public void updateRecord(UpdateRecordRequest request, StreamObserver<Record> observer) {
        Calls.unary(observer, () -> records.update(writer(), request.getTableId(), request.getRecordId(),
            request.getValuesMap()));
    }

    @Override
    public void deleteRecord(DeleteRecordRequest request, StreamObserver<Empty> observer) {
        Calls.unary(observer, () -> {
            deletes.delete(tenant(), request.getTableId(), request.getRecordId());
            return Empty.getDefaultInstance();
        });
    }

    @Override
    public void listRecords(ListRecordsRequest request, StreamObserver<ListRecordsResponse> observer) {
        Calls.unary(observer, () -> {
            Records.Page page = records.list(tenant(), request.getTableId(), request.getLimit(),
                request.hasAfter() ? request.getAfter() : null);
            ListRecordsResponse.Builder response = ListRecordsResponse.newBuilder().addAllRecords(page.records());
            if (page.next() != null) {
                response.setNext(page.next());
            }
            return response.build();
        });
    }

    @Override
    public void previewLink(LinkPreviewRequest request, StreamObserver<LinkPreview> observer) {
        Calls.unary(observer, () -> linkChecks.preview(tenant(), request.getTableId(), request.getColumnId(),
            request.getTargetTableId(), request.hasTargetColumnId() ? request.getTargetColumnId() : null));
    }

    @Override
    public void checkLinkUndo(UndoLinkRequest request, StreamObserver<Empty> observer) {
        Calls.unary(observer, () -> {
            linkChecks.checkLinkUndo(tenant(), request.getTableId(), request.getColumnId());
            return Empty.getDefaultInstance();
        });
    }

    private static void pause() {
        try {
            Thread.sleep(2);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw Status.CANCELLED.withDescription("interrupted").asRuntimeException();
        }
    }

    @Override
    public void exportRecords(ExportRecordsRequest request, StreamObserver<ExportedPage> observer) {
        ServerCallStreamObserver<ExportedPage> call = (ServerCallStreamObserver<ExportedPage>) observer;
        try {
            export.export(Tenants.current(), request.getTableId(), page -> {
                // Back-pressure: hold the cursor (and the snapshot) while the client is slow,
                // instead of buffering a whole table in memory.
                while (!call.isReady() && !call.isCancelled()) {
                    pause();
                }
                if (call.isCancelled()) {
                    throw Status.CANCELLED.withDescription("export cancelled").asRuntimeException();
                }
                call.onNext(page);
            });
            call.onCompleted();
        } catch (ApiException e) {
            call.onError(e.toStatusException());
        } catch (RuntimeException e) {
            call.onError(io.linkbase.kit.grpc.Calls.unexpected(e));
        }
    }
}
