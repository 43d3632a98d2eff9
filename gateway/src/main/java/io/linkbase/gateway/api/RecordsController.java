package io.linkbase.gateway.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.linkbase.gateway.auth.Op;
import io.linkbase.gateway.auth.Operation;
import io.linkbase.gateway.auth.Principal;
import io.linkbase.gateway.errors.Problem;
import io.linkbase.gateway.json.BodyReader;
import io.linkbase.gateway.json.Json;
import io.linkbase.gateway.json.Limits;
import io.linkbase.gateway.json.Values;
import io.linkbase.gateway.ops.RecordOps;
import io.linkbase.proto.v1.Column;
import io.linkbase.proto.v1.CreateRecordRequest;
import io.linkbase.proto.v1.CreateRecordsRequest;
import io.linkbase.proto.v1.DeleteRecordRequest;
import io.linkbase.proto.v1.GetRecordRequest;
import io.linkbase.proto.v1.ListRecordsRequest;
import io.linkbase.proto.v1.ListRecordsResponse;
import io.linkbase.proto.v1.RecordValues;
import io.linkbase.proto.v1.Table;
import io.linkbase.proto.v1.UpdateRecordRequest;
import io.linkbase.proto.v1.Value;
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
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Records (API.md "Records"), served by record-service; values typed by the table's columns. */
@Controller("/api/v1/tables/{tableId}/records")
@ExecuteOn(TaskExecutors.BLOCKING)
class RecordsController {
    private static final Set<String> RECORD_FIELDS = Set.of("values");
    private static final Set<String> BATCH_FIELDS = Set.of("records");

    private final RecordOps records;

    public RecordsController(RecordOps records) {
        this.records = records;
    }

    @Get
    @Op(Operation.LIST_RECORDS)
    public HttpResponse<String> list(Principal p, @PathVariable String tableId, @Nullable @QueryValue String limit, @Nullable @QueryValue String after) {
        Responses.ids(tableId, null);
        ListRecordsRequest.Builder request = ListRecordsRequest.newBuilder().setTableId(tableId)
            .setLimit(Responses.intParam(limit, "limit", 1, Limits.MAX_PAGE, Limits.DEFAULT_PAGE));
        if (after != null && !after.isBlank()) {
            try {
                request.setAfter(Long.parseLong(after.trim()));
            } catch (NumberFormatException e) {
                throw Problem.invalid("after", "must be the cursor of a previous page");
            }
        }
        ListRecordsResponse page = records.list(p, request.build());
        ObjectNode body = Json.MAPPER.createObjectNode();
        ArrayNode list = body.putArray("records");
        page.getRecordsList().forEach(r -> list.add(Json.record(r)));
        if (page.hasNext()) {
            body.put("next", Long.toString(page.getNext()));
        } else {
            body.putNull("next");
        }
        return Responses.ok(body);
    }

    @Post
    @Op(Operation.CREATE_RECORD)
    public HttpResponse<String> create(Principal p, @PathVariable String tableId, @Nullable @Body String body) {
        Responses.ids(tableId, null);
        Bodies.NewRecord in = BodyReader.read(body, Bodies.NewRecord.class);
        Table table = records.table(p, tableId);
        Map<String, Value> values = values(table, in.values(), "values.");
        return Responses.json(HttpStatus.CREATED, Json.record(records.create(p, table,
            CreateRecordRequest.newBuilder().setTableId(tableId).putAllValues(values).build())));
    }

    @Post("/batch")
    @Op(Operation.CREATE_RECORDS)
    public HttpResponse<String> batch(Principal p, @PathVariable String tableId, @Nullable @Body byte[] body) {
        Responses.ids(tableId, null);
        ObjectNode in = Json.object(body, BATCH_FIELDS, Limits.MAX_BATCH_BODY_BYTES);
        ArrayNode batch = Json.array(in, "records", "", true);
        Limits.batch(batch.size()); // before any of its values is converted
        Table table = records.table(p, tableId);
        CreateRecordsRequest.Builder request = CreateRecordsRequest.newBuilder().setTableId(tableId);
        for (int i = 0; i < batch.size(); i++) {
            String prefix = "records[" + i + "].";
            if (!(batch.get(i) instanceof ObjectNode r)) {
                throw Problem.invalid("records[" + i + "]", "must be an object");
            }
            Json.onlyFields(r, RECORD_FIELDS, prefix);
            request.addRecords(RecordValues.newBuilder().putAllValues(
                values(table, Json.object(r, "values", prefix, false), prefix + "values.")));
        }
        ObjectNode out = Json.MAPPER.createObjectNode();
        ArrayNode ids = out.putArray("ids");
        records.createBatch(p, table, request.build()).getIdsList().forEach(ids::add);
        return Responses.json(HttpStatus.CREATED, out);
    }

    @Get("/{recordId}")
    @Op(Operation.GET_RECORD)
    public HttpResponse<String> get(Principal p, @PathVariable String tableId, @PathVariable String recordId) {
        Responses.ids(tableId, null);
        return Responses.ok(Json.record(records.get(p,
            GetRecordRequest.newBuilder().setTableId(tableId).setRecordId(Responses.recordId(recordId)).build())));
    }

    @Patch("/{recordId}")
    @Op(Operation.UPDATE_RECORD)
    public HttpResponse<String> patch(Principal p, @PathVariable String tableId, @PathVariable String recordId,
                                      @Nullable @Body String body) {
        Responses.ids(tableId, null);
        long id = Responses.recordId(recordId);
        Bodies.RecordChange in = BodyReader.read(body, Bodies.RecordChange.class);
        Table table = records.table(p, tableId);
        Map<String, Value> values = values(table, in.values(), "values.");
        return Responses.ok(Json.record(records.update(p, table,
            UpdateRecordRequest.newBuilder().setTableId(tableId).setRecordId(id).putAllValues(values).build())));
    }

    @Delete("/{recordId}")
    @Op(Operation.DELETE_RECORD)
    public HttpResponse<String> delete(Principal p, @PathVariable String tableId, @PathVariable String recordId) {
        Responses.ids(tableId, null);
        records.delete(p,
            DeleteRecordRequest.newBuilder().setTableId(tableId).setRecordId(Responses.recordId(recordId)).build());
        return HttpResponse.noContent();
    }

    /**
     * The JSON values object as typed protobuf values; unknown columns and the primary key are
     * refused (the size limits are checked by {@link RecordOps}, for both faces).
     */
    static Map<String, Value> values(Table table, @Nullable ObjectNode json, String prefix) {
        Map<String, Value> values = new LinkedHashMap<>();
        if (json == null) {
            return values;
        }
        Map<String, Column> columns = new LinkedHashMap<>();
        table.getColumnsList().forEach(c -> columns.put(c.getId(), c));
        for (Iterator<Map.Entry<String, JsonNode>> it = json.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            Column c = columns.get(e.getKey());
            if (c == null) {
                throw Problem.invalid(prefix + e.getKey(), "no such column");
            }
            if (c.getPrimaryKey()) {
                throw Problem.invalid(prefix + e.getKey(), "the primary key is generated");
            }
            values.put(c.getId(), Values.fromJson(e.getValue(), c.getType(), prefix + e.getKey()));
        }
        return values;
    }
}
