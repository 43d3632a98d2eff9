package io.linkbase.gateway.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.util.Timestamps;
import io.linkbase.gateway.auth.Op;
import io.linkbase.gateway.auth.Operation;
import io.linkbase.gateway.auth.Principal;
import io.linkbase.gateway.errors.Problem;
import io.linkbase.gateway.json.BodyReader;
import io.linkbase.gateway.json.Json;
import io.linkbase.gateway.ops.TableOps;
import io.linkbase.proto.v1.AddColumnRequest;
import io.linkbase.proto.v1.Column;
import io.linkbase.proto.v1.CreateTableRequest;
import io.linkbase.proto.v1.DeleteTableRequest;
import io.linkbase.proto.v1.DropColumnRequest;
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
class TablesController {
    private final TableOps tables;

    public TablesController(TableOps tables) {
        this.tables = tables;
    }

    @Get
    @Op(Operation.LIST_TABLES)
    public HttpResponse<String> list(Principal p) {
        ObjectNode body = Json.MAPPER.createObjectNode();
        ArrayNode list = body.putArray("tables");
        tables.list(p, ListTablesRequest.getDefaultInstance()).getTablesList()
            .forEach(t -> list.add(Json.table(t)));
        return Responses.ok(body);
    }

    @Post
    @Op(Operation.CREATE_TABLE)
    public HttpResponse<String> create(Principal p, @Nullable @Body String body) {
        Bodies.CreateTable in = BodyReader.read(body, Bodies.CreateTable.class);
        CreateTableRequest.Builder request = CreateTableRequest.newBuilder().setName(in.name());
        if (in.columns() != null) {
            for (int i = 0; i < in.columns().size(); i++) {
                request.addColumns(newColumn(in.columns().get(i), "columns[" + i + "]."));
            }
        }
        Table t = tables.create(p, request.build());
        return tableResponse(HttpStatus.CREATED, t);
    }

    @Get("/{tableId}")
    @Op(Operation.GET_TABLE)
    public HttpResponse<String> get(Principal p, @PathVariable String tableId) {
        Responses.ids(tableId, null);
        return tableResponse(HttpStatus.OK, tables.get(p, tableId));
    }

    @Patch("/{tableId}")
    @Op(Operation.UPDATE_TABLE)
    public HttpResponse<String> patch(Principal p, @PathVariable String tableId, @Nullable @Header("If-Match") String ifMatch, @Nullable @Body String body) {
        Responses.ids(tableId, null);
        Bodies.PatchTable in = BodyReader.read(body, Bodies.PatchTable.class);
        UpdateTableRequest.Builder request = UpdateTableRequest.newBuilder().setTableId(tableId);
        String name = in.name();
        String display = in.displayColumnId();
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
        return tableResponse(HttpStatus.OK, tables.update(p, request.build()));
    }

    @Delete("/{tableId}")
    @Op(Operation.DELETE_TABLE)
    public HttpResponse<String> delete(Principal p, @PathVariable String tableId, @Nullable @Header("If-Match") String ifMatch) {
        Responses.ids(tableId, null);
        DeleteTableRequest.Builder request = DeleteTableRequest.newBuilder().setTableId(tableId);
        Long expected = Responses.expectedVersion(ifMatch);
        if (expected != null) {
            request.setExpectedVersion(expected);
        }
        tables.delete(p, request.build());
        return HttpResponse.noContent();
    }

    @Post("/{tableId}/columns")
    @Op(Operation.ADD_COLUMN)
    public HttpResponse<String> addColumn(Principal p, @PathVariable String tableId, @Nullable @Header("If-Match") String ifMatch, @Nullable @Body String body) {
        Responses.ids(tableId, null);
        AddColumnRequest.Builder request = AddColumnRequest.newBuilder().setTableId(tableId)
            .setColumn(newColumn(BodyReader.read(body, Bodies.NewColumn.class), ""));
        Long expected = Responses.expectedVersion(ifMatch);
        if (expected != null) {
            request.setExpectedVersion(expected);
        }
        Column c = tables.addColumn(p, request.build());
        return Responses.json(HttpStatus.CREATED, Json.column(c));
    }

    @Patch("/{tableId}/columns/{columnId}")
    @Op(Operation.UPDATE_COLUMN)
    public HttpResponse<String> patchColumn(Principal p, @PathVariable String tableId, @PathVariable String columnId,
                                            @Nullable @Header("If-Match") String ifMatch, @Nullable @Body String body) {
        Responses.ids(tableId, columnId);
        Bodies.NewColumn in = BodyReader.read(body, Bodies.NewColumn.class);
        UpdateColumnRequest.Builder request = UpdateColumnRequest.newBuilder().setTableId(tableId).setColumnId(columnId);
        if (in.name() != null) {
            request.setName(in.name());
        }
        if (in.type() != null) {
            request.setType(Json.columnType(in.type(), "type"));
        }
        if (in.unique() != null) {
            request.setUnique(in.unique());
        }
        Long expected = Responses.expectedVersion(ifMatch);
        if (expected != null) {
            request.setExpectedVersion(expected);
        }
        return Responses.ok(Json.column(tables.updateColumn(p, request.build())));
    }

    @Delete("/{tableId}/columns/{columnId}")
    @Op(Operation.DROP_COLUMN)
    public HttpResponse<String> dropColumn(Principal p, @PathVariable String tableId, @PathVariable String columnId,
                                           @Nullable @Header("If-Match") String ifMatch) {
        Responses.ids(tableId, columnId);
        DropColumnRequest.Builder request = DropColumnRequest.newBuilder().setTableId(tableId).setColumnId(columnId);
        Long expected = Responses.expectedVersion(ifMatch);
        if (expected != null) {
            request.setExpectedVersion(expected);
        }
        tables.dropColumn(p, request.build());
        return HttpResponse.noContent();
    }

    @Get("/{tableId}/events")
    @Op(Operation.LIST_TABLE_EVENTS)
    public HttpResponse<String> events(Principal p, @PathVariable String tableId) {
        Responses.ids(tableId, null);
        ObjectNode body = Json.MAPPER.createObjectNode();
        ArrayNode events = body.putArray("events");
        for (TableEvent e : tables.events(p, TableEventsRequest.newBuilder().setTableId(tableId).build()).getEventsList()) {
            ObjectNode o = events.addObject();
            o.put("type", e.getType());
            o.put("version", e.getVersion());
            o.put("occurredAt", Timestamps.toString(e.getOccurredAt()));
            o.set("data", parse(e.getDataJson()));
        }
        return Responses.ok(body);
    }

    private static HttpResponse<String> tableResponse(HttpStatus status, Table t) {
        return Responses.json(status, Json.table(t)).header("ETag", "\"" + t.getVersion() + "\"");
    }

    private static NewColumn newColumn(Bodies.NewColumn c, String prefix) {
        NewColumn.Builder column = NewColumn.newBuilder();
        if (c.name() != null) {
            column.setName(c.name());
        }
        if (c.type() != null) {
            column.setType(Json.columnType(c.type(), prefix + "type"));
        }
        if (c.unique() != null) {
            column.setUnique(c.unique());
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
