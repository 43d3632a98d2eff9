package io.linkbase.schema.api;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.grpc.stub.StreamObserver;
import io.linkbase.kit.events.Envelopes;
import io.linkbase.kit.grpc.ApiException;
import io.linkbase.kit.grpc.Calls;
import io.linkbase.kit.grpc.Tenants;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.internal.v1.ProvisionTenantRequest;
import io.linkbase.proto.internal.v1.ProvisionTenantResponse;
import io.linkbase.proto.internal.v1.SchemaServiceGrpc;
import io.linkbase.proto.internal.v1.TenantStatusRequest;
import io.linkbase.proto.internal.v1.TenantStatusResponse;
import io.linkbase.proto.v1.AddColumnRequest;
import io.linkbase.proto.v1.Column;
import io.linkbase.proto.v1.CreateTableRequest;
import io.linkbase.proto.v1.UpdateTableRequest;
import io.linkbase.proto.v1.GetTableRequest;
import io.linkbase.proto.v1.ListTablesRequest;
import io.linkbase.proto.v1.ListTablesResponse;
import io.linkbase.proto.v1.NewColumn;
import io.linkbase.proto.v1.Table;
import io.linkbase.proto.v1.TableEvent;
import io.linkbase.proto.v1.TableEventsRequest;
import io.linkbase.proto.v1.TableEventsResponse;
import io.linkbase.schema.store.TableStore;
import io.linkbase.schema.table.TableCommand;
import jakarta.inject.Singleton;

import java.util.List;
import java.util.UUID;

/** schema-service's gRPC API. Every call is scoped to the tenant in the call's metadata. */
@Singleton
public class SchemaGrpcService extends SchemaServiceGrpc.SchemaServiceImplBase {
    private static final TableCommand.IdSource RANDOM_IDS = () -> UUID.randomUUID().toString();

    private final TableStore store;

    public SchemaGrpcService(TableStore store) {
        this.store = store;
    }

    @Override
    public void provisionTenant(ProvisionTenantRequest request, StreamObserver<ProvisionTenantResponse> observer) {
        Calls.unary(observer, () -> {
            if (!Tenants.isValid(request.getTenantId())) {
                throw ApiException.invalid("tenant", "must match [a-z0-9_-]{1,40}");
            }
            boolean created = store.provisionTenant(request.getTenantId(), "");
            return ProvisionTenantResponse.newBuilder().setCreated(created).build();
        });
    }

    @Override
    public void tenantStatus(TenantStatusRequest request, StreamObserver<TenantStatusResponse> observer) {
        Calls.unary(observer, () -> TenantStatusResponse.newBuilder()
            .setProvisioned(Tenants.isValid(request.getTenantId()) && store.isProvisioned(request.getTenantId()))
            .build());
    }

    @Override
    public void createTable(CreateTableRequest request, StreamObserver<Table> observer) {
        Calls.unary(observer, () -> {
            List<TableCommand.NewColumnSpec> columns = request.getColumnsList().stream()
                .map(SchemaGrpcService::spec).toList();
            String tableId = UUID.randomUUID().toString();
            return store.execute(Tenants.current(), tableId, null,
                new TableCommand.CreateTable(tableId, request.getName(), columns, RANDOM_IDS), "");
        });
    }

    @Override
    public void updateTable(UpdateTableRequest request, StreamObserver<Table> observer) {
        Calls.unary(observer, () -> {
            String tenant = Tenants.current();
            Table table = store.find(tenant, request.getTableId())
                .orElseThrow(() -> ApiException.notFound("table " + request.getTableId()));
            Long expected = request.hasExpectedVersion() ? request.getExpectedVersion() : null;
            if (request.hasName()) {
                table = store.execute(tenant, request.getTableId(), expected,
                    new TableCommand.RenameTable(request.getName()), "");
            }
            return table;
        });
    }

    @Override
    public void addColumn(AddColumnRequest request, StreamObserver<Column> observer) {
        Calls.unary(observer, () -> {
            String tenant = Tenants.current();
            if (store.find(tenant, request.getTableId()).isEmpty()) {
                throw ApiException.notFound("table " + request.getTableId());
            }
            Table table = store.execute(tenant, request.getTableId(),
                request.hasExpectedVersion() ? request.getExpectedVersion() : null,
                new TableCommand.AddColumn(spec(request.getColumn()), RANDOM_IDS), "");
            return table.getColumns(table.getColumnsCount() - 1);
        });
    }

    @Override
    public void getTable(GetTableRequest request, StreamObserver<Table> observer) {
        Calls.unary(observer, () -> store.find(Tenants.current(), request.getTableId())
            .orElseThrow(() -> ApiException.notFound("table " + request.getTableId())));
    }

    @Override
    public void listTables(ListTablesRequest request, StreamObserver<ListTablesResponse> observer) {
        Calls.unary(observer, () -> ListTablesResponse.newBuilder()
            .addAllTables(store.list(Tenants.current())).build());
    }

    @Override
    public void listTableEvents(TableEventsRequest request, StreamObserver<TableEventsResponse> observer) {
        Calls.unary(observer, () -> {
            String tenant = Tenants.current();
            if (store.find(tenant, request.getTableId()).isEmpty()) {
                throw ApiException.notFound("table " + request.getTableId());
            }
            TableEventsResponse.Builder response = TableEventsResponse.newBuilder();
            for (EventEnvelope e : store.history(tenant, request.getTableId())) {
                response.addEvents(TableEvent.newBuilder()
                    .setType(e.getEventType())
                    .setVersion(e.getAggregateVersion())
                    .setOccurredAt(e.getOccurredAt())
                    .setDataJson(payloadJson(e)));
            }
            return response.build();
        });
    }

    private static TableCommand.NewColumnSpec spec(NewColumn c) {
        return new TableCommand.NewColumnSpec(c.hasName() ? c.getName() : null,
            c.hasType() ? c.getType() : null, c.hasUnique() && c.getUnique());
    }

    static String payloadJson(EventEnvelope e) {
        Object payload = e.getField(e.getDescriptorForType().findFieldByNumber(e.getPayloadCase().getNumber()));
        try {
            return JsonFormat.printer().omittingInsignificantWhitespace().print((Message) payload);
        } catch (InvalidProtocolBufferException ex) {
            throw new IllegalStateException(ex);
        }
    }

}
