package io.linkbase.gateway.ops;

import io.linkbase.gateway.auth.Principal;
import io.linkbase.gateway.backend.Backends;
import io.linkbase.gateway.json.Limits;
import io.linkbase.proto.internal.v1.SchemaServiceGrpc;
import io.linkbase.proto.v1.AddColumnRequest;
import io.linkbase.proto.v1.Column;
import io.linkbase.proto.v1.CreateTableRequest;
import io.linkbase.proto.v1.DeleteTableRequest;
import io.linkbase.proto.v1.DropColumnRequest;
import io.linkbase.proto.v1.Empty;
import io.linkbase.proto.v1.GetTableRequest;
import io.linkbase.proto.v1.ListTablesRequest;
import io.linkbase.proto.v1.ListTablesResponse;
import io.linkbase.proto.v1.Table;
import io.linkbase.proto.v1.TableEventsRequest;
import io.linkbase.proto.v1.TableEventsResponse;
import io.linkbase.proto.v1.UpdateColumnRequest;
import io.linkbase.proto.v1.UpdateTableRequest;
import jakarta.inject.Singleton;

/**
 * Tables and columns, for both faces of the API (HTTP controllers and the public gRPC service):
 * the limits the gateway checks, then schema-service. Callers are admitted before they get here.
 */
@Singleton
public class TableOps {
    private final Backends backends;

    public TableOps(Backends backends) {
        this.backends = backends;
    }

    private SchemaServiceGrpc.SchemaServiceBlockingStub schema(Principal p) {
        return backends.schema(p.tenant());
    }

    public Table get(Principal p, String tableId) {
        return schema(p).getTable(GetTableRequest.newBuilder().setTableId(tableId).build());
    }

    public ListTablesResponse list(Principal p, ListTablesRequest request) {
        return schema(p).listTables(request);
    }

    public Table create(Principal p, CreateTableRequest request) {
        Limits.columnsOfNewTable(request.getColumnsCount(), "columns");
        return schema(p).createTable(request);
    }

    public Table update(Principal p, UpdateTableRequest request) {
        return schema(p).updateTable(request);
    }

    public Empty delete(Principal p, DeleteTableRequest request) {
        return schema(p).deleteTable(request);
    }

    public Column addColumn(Principal p, AddColumnRequest request) {
        return schema(p).addColumn(request);
    }

    public Column updateColumn(Principal p, UpdateColumnRequest request) {
        return schema(p).updateColumn(request);
    }

    public Empty dropColumn(Principal p, DropColumnRequest request) {
        return schema(p).dropColumn(request);
    }

    public TableEventsResponse events(Principal p, TableEventsRequest request) {
        return schema(p).listTableEvents(request);
    }
}
