package io.linkbase.schema.api;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import io.grpc.stub.StreamObserver;
import io.linkbase.kit.events.Envelopes;
import io.linkbase.kit.grpc.ApiException;
import io.linkbase.kit.grpc.Tenants;
import io.linkbase.kit.grpc.Trace;
import io.linkbase.proto.events.v1.EventEnvelope;
import io.linkbase.proto.v1.ProvisionTenantRequest;
import io.linkbase.proto.v1.ProvisionTenantResponse;
import io.linkbase.proto.internal.v1.SchemaServiceGrpc;
import io.linkbase.proto.internal.v1.TenantStatusRequest;
import io.linkbase.proto.internal.v1.TenantStatusResponse;
import io.linkbase.proto.v1.AddColumnRequest;
import io.linkbase.proto.v1.Column;
import io.linkbase.proto.v1.CreateTableRequest;
import io.linkbase.proto.v1.DeleteTableRequest;
import io.linkbase.proto.v1.DropColumnRequest;
import io.linkbase.proto.v1.Empty;
import io.linkbase.proto.v1.GetLinkRequest;
import io.linkbase.proto.v1.Link;
import io.linkbase.proto.v1.LinkCandidateColumn;
import io.linkbase.proto.v1.LinkCandidateTable;
import io.linkbase.proto.v1.LinkCandidatesRequest;
import io.linkbase.proto.v1.LinkCandidatesResponse;
import io.linkbase.proto.v1.LinkColumnRequest;
import io.linkbase.proto.v1.UndoLinkRequest;
import io.linkbase.proto.v1.UnlinkColumnRequest;
import io.linkbase.proto.v1.UpdateColumnRequest;
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

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** schema-service's gRPC API. Every call is scoped to the tenant in the call's metadata. */
@Singleton
class SchemaGrpcService extends SchemaServiceGrpc.SchemaServiceImplBase {
    private static final TableCommand.IdSource RANDOM_IDS = () -> UUID.randomUUID().toString();

    private final TableStore store;

    SchemaGrpcService(TableStore store) {
        this.store = store;
    }

    @Override
    public void provisionTenant(ProvisionTenantRequest request, StreamObserver<ProvisionTenantResponse> observer) {
        Refusals.unary(observer, () -> {
            if (!Tenants.isValid(request.getTenantId())) {
                throw ApiException.invalid("tenant", "must match [a-z0-9_-]{1,40}");
            }
            boolean created = store.provisionTenant(request.getTenantId(), Trace.currentTraceId());
            return ProvisionTenantResponse.newBuilder().setCreated(created).build();
        });
    }

    @Override
    public void tenantStatus(TenantStatusRequest request, StreamObserver<TenantStatusResponse> observer) {
        Refusals.unary(observer, () -> TenantStatusResponse.newBuilder()
            .setProvisioned(Tenants.isValid(request.getTenantId()) && store.isProvisioned(request.getTenantId()))
            .build());
    }

    @Override
    public void createTable(CreateTableRequest request, StreamObserver<Table> observer) {
        Refusals.unary(observer, () -> {
            List<TableCommand.NewColumnSpec> columns = request.getColumnsList().stream()
                .map(SchemaGrpcService::spec).toList();
            String tableId = UUID.randomUUID().toString();
            return store.execute(Tenants.current(), tableId, null,
                new TableCommand.CreateTable(tableId, request.getName(), columns, RANDOM_IDS), Trace.currentTraceId());
        });
    }

    @Override
    public void updateTable(UpdateTableRequest request, StreamObserver<Table> observer) {
        Refusals.unary(observer, () -> {
            List<TableCommand.Change> changes = new ArrayList<>();
            if (request.hasName()) {
                changes.add(new TableCommand.RenameTable(request.getName()));
            }
            if (request.hasDisplayColumnId()) {
                changes.add(new TableCommand.SetDisplayColumn(request.getDisplayColumnId()));
            }
            return store.execute(Tenants.current(), request.getTableId(), expected(request.hasExpectedVersion(),
                request.getExpectedVersion()), new TableCommand.Batch(changes), Trace.currentTraceId());
        });
    }

    @Override
    public void deleteTable(DeleteTableRequest request, StreamObserver<Empty> observer) {
        Refusals.unary(observer, () -> {
            store.execute(Tenants.current(), request.getTableId(),
                expected(request.hasExpectedVersion(), request.getExpectedVersion()),
                lookup -> new TableCommand.DeleteTable(lookup.linksTo(request.getTableId())), Trace.currentTraceId());
            return Empty.getDefaultInstance();
        });
    }

    @Override
    public void addColumn(AddColumnRequest request, StreamObserver<Column> observer) {
        Refusals.unary(observer, () -> {
            Table table = store.execute(Tenants.current(), request.getTableId(),
                expected(request.hasExpectedVersion(), request.getExpectedVersion()),
                new TableCommand.AddColumn(spec(request.getColumn()), RANDOM_IDS), Trace.currentTraceId());
            return table.getColumns(table.getColumnsCount() - 1);
        });
    }

    @Override
    public void updateColumn(UpdateColumnRequest request, StreamObserver<Column> observer) {
        Refusals.unary(observer, () -> {
            String tableId = request.getTableId();
            String columnId = request.getColumnId();
            Table table = store.execute(Tenants.current(), tableId,
                expected(request.hasExpectedVersion(), request.getExpectedVersion()), lookup -> {
                    List<TableCommand.IncomingLink> incoming = lookup.linksTo(tableId);
                    List<TableCommand.Change> changes = new ArrayList<>();
                    if (request.hasName()) {
                        changes.add(new TableCommand.RenameColumn(columnId, request.getName()));
                    }
                    if (request.hasType()) {
                        changes.add(new TableCommand.RetypeColumn(columnId, request.getType(), incoming));
                    }
                    if (request.hasUnique()) {
                        changes.add(new TableCommand.SetUnique(columnId, request.getUnique(), incoming));
                    }
                    return new TableCommand.Batch(changes);
                }, Trace.currentTraceId());
            return column(table, columnId);
        });
    }

    @Override
    public void dropColumn(DropColumnRequest request, StreamObserver<Empty> observer) {
        Refusals.unary(observer, () -> {
            store.execute(Tenants.current(), request.getTableId(),
                expected(request.hasExpectedVersion(), request.getExpectedVersion()),
                lookup -> new TableCommand.DropColumn(request.getColumnId(), lookup.linksTo(request.getTableId())), Trace.currentTraceId());
            return Empty.getDefaultInstance();
        });
    }

    @Override
    public void getLinkCandidates(LinkCandidatesRequest request, StreamObserver<LinkCandidatesResponse> observer) {
        Refusals.unary(observer, () -> {
            String tenant = Tenants.current();
            Table table = store.find(tenant, request.getTableId())
                .orElseThrow(() -> ApiException.notFound("table " + request.getTableId()));
            column(table, request.getColumnId());
            LinkCandidatesResponse.Builder response = LinkCandidatesResponse.newBuilder();
            for (Table t : store.list(tenant)) {
                LinkCandidateTable.Builder candidate = LinkCandidateTable.newBuilder()
                    .setTableId(t.getId()).setName(t.getName()).setDefaultColumnId(t.getPrimaryKeyColumnId());
                for (Column c : t.getColumnsList()) {
                    boolean itself = t.getId().equals(table.getId()) && c.getId().equals(request.getColumnId());
                    if ((c.getPrimaryKey() || c.getUnique()) && !itself) {
                        candidate.addColumns(LinkCandidateColumn.newBuilder().setColumnId(c.getId())
                            .setName(c.getName()).setType(c.getType()).setPrimaryKey(c.getPrimaryKey())
                            .setUnique(true));
                    }
                }
                response.addTables(candidate);
            }
            return response.build();
        });
    }

    @Override
    public void linkColumn(LinkColumnRequest request, StreamObserver<Link> observer) {
        Refusals.unary(observer, () -> {
            if (request.getTargetTableId().isEmpty()) {
                throw ApiException.invalid("targetTableId", "is required");
            }
            Table table = store.execute(Tenants.current(), request.getTableId(),
                expected(request.hasExpectedVersion(), request.getExpectedVersion()),
                lookup -> new TableCommand.LinkColumn(request.getColumnId(),
                    lookup.table(request.getTargetTableId()).orElse(null),
                    request.hasTargetColumnId() ? request.getTargetColumnId() : null,
                    request.getOnDelete(), lookup.linksTo(request.getTableId())), Trace.currentTraceId());
            return column(table, request.getColumnId()).getLink();
        });
    }

    @Override
    public void getLink(GetLinkRequest request, StreamObserver<Link> observer) {
        Refusals.unary(observer, () -> {
            Table table = store.find(Tenants.current(), request.getTableId())
                .orElseThrow(() -> ApiException.notFound("table " + request.getTableId()));
            Column column = column(table, request.getColumnId());
            if (!column.hasLink()) {
                throw ApiException.notFound("link of column " + column.getId());
            }
            return column.getLink();
        });
    }

    @Override
    public void unlinkColumn(UnlinkColumnRequest request, StreamObserver<Empty> observer) {
        Refusals.unary(observer, () -> {
            store.execute(Tenants.current(), request.getTableId(),
                expected(request.hasExpectedVersion(), request.getExpectedVersion()),
                new TableCommand.UnlinkColumn(request.getColumnId()), Trace.currentTraceId());
            return Empty.getDefaultInstance();
        });
    }

    @Override
    public void undoLink(UndoLinkRequest request, StreamObserver<Table> observer) {
        Refusals.unary(observer, () -> {
            String tenant = Tenants.current();
            store.execute(tenant, request.getTableId(), expected(request.hasExpectedVersion(), request.getExpectedVersion()),
                lookup -> new TableCommand.UndoLink(request.getColumnId(), lookup.linksTo(request.getTableId())),
                Trace.currentTraceId());
            // As users see it: the state of the table's other links included.
            return store.find(tenant, request.getTableId())
                .orElseThrow(() -> ApiException.notFound("table " + request.getTableId()));
        });
    }

    private static Long expected(boolean present, long version) {
        return present ? version : null;
    }

    private static Column column(Table table, String columnId) {
        return table.getColumnsList().stream().filter(c -> c.getId().equals(columnId)).findFirst()
            .orElseThrow(() -> ApiException.notFound("column " + columnId));
    }

    @Override
    public void getTable(GetTableRequest request, StreamObserver<Table> observer) {
        Refusals.unary(observer, () -> store.find(Tenants.current(), request.getTableId())
            .orElseThrow(() -> ApiException.notFound("table " + request.getTableId())));
    }

    @Override
    public void listTables(ListTablesRequest request, StreamObserver<ListTablesResponse> observer) {
        Refusals.unary(observer, () -> ListTablesResponse.newBuilder()
            .addAllTables(store.list(Tenants.current())).build());
    }

    @Override
    public void listTableEvents(TableEventsRequest request, StreamObserver<TableEventsResponse> observer) {
        Refusals.unary(observer, () -> {
            String tenant = Tenants.current();
            if (store.find(tenant, request.getTableId()).isEmpty()) {
                throw ApiException.notFound("table " + request.getTableId());
            }
            TableEventsResponse.Builder response = TableEventsResponse.newBuilder();
            Map<Long, long[]> outcomes = store.linkOutcomes(tenant, request.getTableId());
            for (EventEnvelope e : store.history(tenant, request.getTableId())) {
                String data = payloadJson(e);
                long[] outcome = e.getPayloadCase() == EventEnvelope.PayloadCase.COLUMN_LINKED
                    ? outcomes.get(e.getAggregateVersion()) : null;
                if (outcome != null) {
                    data = withCounts(data, outcome[0], outcome[1]);
                }
                response.addEvents(TableEvent.newBuilder()
                    .setType(e.getEventType())
                    .setVersion(e.getAggregateVersion())
                    .setOccurredAt(e.getOccurredAt())
                    .setDataJson(data));
            }
            return response.build();
        });
    }

    private static TableCommand.NewColumnSpec spec(NewColumn c) {
        return new TableCommand.NewColumnSpec(c.hasName() ? c.getName() : null,
            c.hasType() ? c.getType() : null, c.hasUnique() && c.getUnique());
    }

    /**
     * A ColumnLinked's data with what its reconciliation did ({@code keptCount}, {@code clearedCount},
     * as in Link), once record-service reported it: the history keeps them after the link is gone.
     */
    static String withCounts(String objectJson, long kept, long cleared) {
        String head = objectJson.substring(0, objectJson.lastIndexOf('}')).strip();
        return head + (head.equals("{") ? "" : ",") + "\"keptCount\":" + kept + ",\"clearedCount\":" + cleared + "}";
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
