package io.linkbase.gateway.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.util.Timestamps;
import io.linkbase.gateway.auth.Access;
import io.linkbase.gateway.auth.Principal;
import io.linkbase.gateway.auth.Role;
import io.linkbase.gateway.backend.Backends;
import io.linkbase.gateway.errors.Problem;
import io.linkbase.gateway.json.Json;
import io.linkbase.gateway.json.Limits;
import io.linkbase.proto.v1.AddColumnRequest;
import io.linkbase.proto.v1.Column;
import io.linkbase.proto.v1.CreateTableRequest;
import io.linkbase.proto.v1.DeleteTableRequest;
import io.linkbase.proto.v1.DropColumnRequest;
import io.linkbase.proto.v1.GetTableRequest;
import io.linkbase.proto.v1.ListTablesRequest;
import io.linkbase.proto.v1.NewColumn;
import io.linkbase.proto.v1.Table;
import io.linkbase.proto.v1.TableEvent;
import io.linkbase.proto.v1.TableEventsRequest;
import io.linkbase.proto.v1.UpdateColumnRequest;
import io.linkbase.proto.v1.UpdateTableRequest;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Delete;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Header;
import io.micronaut.http.annotation.Patch;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;

import java.util.Set;

/** Tables and columns (API.md "Tables and columns"), served by schema-service. */
@Controller("/api/v1/tables")
@ExecuteOn(TaskExecutors.BLOCKING)
public class TablesController {
    private static final Set<String> CREATE_TABLE = Set.of("name", "columns");
    private static final Set<String> COLUMN_FIELDS = Set.of("name", "type", "unique");
    private static final Set<String> PATCH_TABLE = Set.of("name", "displayColumnId");

    private final Access access;
    private final Backends backends;

    public TablesController(Access access, Backends backends) {
        this.access = access;
        this.backends = backends;
    }

    @Get
    public HttpResponse<String> list(@Nullable @Header("Authorization") String auth) {
        Principal p = access.tenantCall(auth, Role.VIEWER);
        ObjectNode body = Json.MAPPER.createObjectNode();
        ArrayNode tables = body.putArray("tables");
        backends.schema(p.tenant()).listTables(ListTablesRequest.getDefaultInstance()).getTablesList()
            .forEach(t -> tables.add(Json.table(t)));
        return Responses.ok(body);
    }

    @Post
    public HttpResponse<String> create(@Nullable @Header("Authorization") String auth, @Nullable @Body String body) {
        Principal p = access.tenantCall(auth, Role.OWNER);
        ObjectNode in = Json.object(body, CREATE_TABLE);
        CreateTableRequest.Builder request = CreateTableRequest.newBuilder().setName(Json.requiredText(in, "name", ""));
        ArrayNode columns = Json.array(in, "columns", "", false);
        if (columns != null) {
            Limits.columnsOfNewTable(columns.size(), "columns");
            for (int i = 0; i < columns.size(); i++) {
                String prefix = "columns[" + i + "].";
                if (!(columns.get(i) instanceof ObjectNode c)) {
                    throw Problem.invalid("columns[" + i + "]", "must be an object");
                }
                Json.onlyFields(c, COLUMN_FIELDS, prefix);
                request.addColumns(newColumn(c, prefix));
            }
        }
        Table t = backends.schema(p.tenant()).createTable(request.build());
        return tableResponse(HttpStatus.CREATED, t);
    }

    @Get("/{tableId}")
    public HttpResponse<String> get(@PathVariable String tableId, @Nullable @Header("Authorization") String auth) {
        Principal p = access.tenantCall(auth, Role.VIEWER);
        Responses.ids(tableId, null);
        return tableResponse(HttpStatus.OK, table(p, tableId));
    }

    @Patch("/{tableId}")
    public HttpResponse<String> patch(@PathVariable String tableId, @Nullable @Header("Authorization") String auth,
                                      @Nullable @Header("If-Match") String ifMatch, @Nullable @Body String body) {
        Principal p = access.tenantCall(auth, Role.OWNER);
        Responses.ids(tableId, null);
        ObjectNode in = Json.object(body, PATCH_TABLE);
        UpdateTableRequest.Builder request = UpdateTableRequest.newBuilder().setTableId(tableId);
        String name = Json.text(in, "name", "");
        String display = Json.text(in, "displayColumnId", "");
        if (name != null) {
            request.setName(name);
        }
        if (display != null) {
            request.setDisplayColumnId(display);
        }
        Long expected = Responses.expectedVersion(ifMatch);
        if (expected != null) {
            request.setExpectedVersion(expected);
        }
        return tableResponse(HttpStatus.OK, backends.schema(p.tenant()).updateTable(request.build()));
    }

    @Delete("/{tableId}")
    public HttpResponse<String> delete(@PathVariable String tableId, @Nullable @Header("Authorization") String auth,
                                       @Nullable @Header("If-Match") String ifMatch) {
        Principal p = access.tenantCall(auth, Role.OWNER);
        Responses.ids(tableId, null);
        DeleteTableRequest.Builder request = DeleteTableRequest.newBuilder().setTableId(tableId);
        Long expected = Responses.expectedVersion(ifMatch);
        if (expected != null) {
            request.setExpectedVersion(expected);
        }
        backends.schema(p.tenant()).deleteTable(request.build());
        return HttpResponse.noContent();
    }

    @Post("/{tableId}/columns")
    public HttpResponse<String> addColumn(@PathVariable String tableId, @Nullable @Header("Authorization") String auth,
                                          @Nullable @Header("If-Match") String ifMatch, @Nullable @Body String body) {
        Principal p = access.tenantCall(auth, Role.OWNER);
        Responses.ids(tableId, null);
        ObjectNode in = Json.object(body, COLUMN_FIELDS);
        AddColumnRequest.Builder request = AddColumnRequest.newBuilder().setTableId(tableId).setColumn(newColumn(in, ""));
        Long expected = Responses.expectedVersion(ifMatch);
        if (expected != null) {
            request.setExpectedVersion(expected);
        }
        Column c = backends.schema(p.tenant()).addColumn(request.build());
        return Responses.json(HttpStatus.CREATED, Json.column(c));
    }

    @Patch("/{tableId}/columns/{columnId}")
    public HttpResponse<String> patchColumn(@PathVariable String tableId, @PathVariable String columnId,
                                            @Nullable @Header("Authorization") String auth,
                                            @Nullable @Header("If-Match") String ifMatch, @Nullable @Body String body) {
        Principal p = access.tenantCall(auth, Role.OWNER);
        Responses.ids(tableId, columnId);
        ObjectNode in = Json.object(body, COLUMN_FIELDS);
        UpdateColumnRequest.Builder request = UpdateColumnRequest.newBuilder().setTableId(tableId).setColumnId(columnId);
        String name = Json.text(in, "name", "");
        if (name != null) {
            request.setName(name);
        }
        if (Json.text(in, "type", "") != null) {
            request.setType(Json.columnType(Json.text(in, "type", ""), "type"));
        }
        Boolean unique = Json.bool(in, "unique", "");
        if (unique != null) {
            request.setUnique(unique);
        }
        Long expected = Responses.expectedVersion(ifMatch);
        if (expected != null) {
            request.setExpectedVersion(expected);
        }
        return Responses.ok(Json.column(backends.schema(p.tenant()).updateColumn(request.build())));
    }

    @Delete("/{tableId}/columns/{columnId}")
    public HttpResponse<String> dropColumn(@PathVariable String tableId, @PathVariable String columnId,
                                           @Nullable @Header("Authorization") String auth,
                                           @Nullable @Header("If-Match") String ifMatch) {
        Principal p = access.tenantCall(auth, Role.OWNER);
        Responses.ids(tableId, columnId);
        DropColumnRequest.Builder request = DropColumnRequest.newBuilder().setTableId(tableId).setColumnId(columnId);
        Long expected = Responses.expectedVersion(ifMatch);
        if (expected != null) {
            request.setExpectedVersion(expected);
        }
        backends.schema(p.tenant()).dropColumn(request.build());
        return HttpResponse.noContent();
    }

    @Get("/{tableId}/events")
    public HttpResponse<String> events(@PathVariable String tableId, @Nullable @Header("Authorization") String auth) {
        Principal p = access.tenantCall(auth, Role.VIEWER);
        Responses.ids(tableId, null);
        ObjectNode body = Json.MAPPER.createObjectNode();
        ArrayNode events = body.putArray("events");
        for (TableEvent e : backends.schema(p.tenant())
            .listTableEvents(TableEventsRequest.newBuilder().setTableId(tableId).build()).getEventsList()) {
            ObjectNode o = events.addObject();
            o.put("type", e.getType());
            o.put("version", e.getVersion());
            o.put("occurredAt", Timestamps.toString(e.getOccurredAt()));
            o.set("data", parse(e.getDataJson()));
        }
        return Responses.ok(body);
    }

    private Table table(Principal p, String tableId) {
        return backends.schema(p.tenant()).getTable(GetTableRequest.newBuilder().setTableId(tableId).build());
    }

    private static HttpResponse<String> tableResponse(HttpStatus status, Table t) {
        return Responses.json(status, Json.table(t)).header("ETag", "\"" + t.getVersion() + "\"");
    }

    private static NewColumn newColumn(ObjectNode c, String prefix) {
        NewColumn.Builder column = NewColumn.newBuilder();
        String name = Json.text(c, "name", prefix);
        if (name != null) {
            column.setName(name);
        }
        String type = Json.text(c, "type", prefix);
        if (type != null) {
            column.setType(Json.columnType(type, prefix + "type"));
        }
        Boolean unique = Json.bool(c, "unique", prefix);
        if (unique != null) {
            column.setUnique(unique);
        }
        return column.build();
    }

    private static JsonNode parse(String json) {
        try {
            return Json.MAPPER.readTree(json.isEmpty() ? "{}" : json);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }
}
