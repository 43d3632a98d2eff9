package io.linkbase.gateway.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.linkbase.gateway.auth.Access;
import io.linkbase.gateway.auth.Principal;
import io.linkbase.gateway.auth.Role;
import io.linkbase.gateway.backend.Backends;
import io.linkbase.gateway.errors.Problem;
import io.linkbase.gateway.json.Json;
import io.linkbase.gateway.json.Limits;
import io.linkbase.gateway.json.Values;
import io.linkbase.proto.v1.Column;
import io.linkbase.proto.v1.CreateRecordRequest;
import io.linkbase.proto.v1.CreateRecordsRequest;
import io.linkbase.proto.v1.DeleteRecordRequest;
import io.linkbase.proto.v1.GetRecordRequest;
import io.linkbase.proto.v1.GetTableRequest;
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
public class RecordsController {
    static final int MAX_BATCH = Limits.MAX_BATCH;
    private static final Set<String> RECORD_FIELDS = Set.of("values");
    private static final Set<String> BATCH_FIELDS = Set.of("records");

    private final Access access;
    private final Backends backends;

    public RecordsController(Access access, Backends backends) {
        this.access = access;
        this.backends = backends;
    }

    @Get
    public HttpResponse<String> list(@PathVariable String tableId, @Nullable @Header("Authorization") String auth,
                                     @Nullable @QueryValue String limit, @Nullable @QueryValue String after) {
        Principal p = access.tenantCall(auth, Role.VIEWER);
        Responses.ids(tableId, null);
        ListRecordsRequest.Builder request = ListRecordsRequest.newBuilder().setTableId(tableId)
            .setLimit(Responses.intParam(limit, "limit", 1, 1000, 100));
        if (after != null && !after.isBlank()) {
            try {
                request.setAfter(Long.parseLong(after.trim()));
            } catch (NumberFormatException e) {
                throw Problem.invalid("after", "must be the cursor of a previous page");
            }
        }
        ListRecordsResponse page = backends.records(p.tenant(), table(p, tableId)).listRecords(request.build());
        ObjectNode body = Json.MAPPER.createObjectNode();
        ArrayNode records = body.putArray("records");
        page.getRecordsList().forEach(r -> records.add(Json.record(r)));
        if (page.hasNext()) {
            body.put("next", Long.toString(page.getNext()));
        } else {
            body.putNull("next");
        }
        return Responses.ok(body);
    }

    @Post
    public HttpResponse<String> create(@PathVariable String tableId, @Nullable @Header("Authorization") String auth,
                                       @Nullable @Body String body) {
        Principal p = access.tenantCall(auth, Role.EDITOR);
        Responses.ids(tableId, null);
        ObjectNode in = Json.object(body, RECORD_FIELDS);
        Table table = table(p, tableId);
        Map<String, Value> values = values(table, Json.object(in, "values", "", false), "values.");
        return Responses.json(HttpStatus.CREATED, Json.record(backends.records(p.tenant(), table).createRecord(
            CreateRecordRequest.newBuilder().setTableId(tableId).putAllValues(values).build())));
    }

    @Post("/batch")
    public HttpResponse<String> batch(@PathVariable String tableId, @Nullable @Header("Authorization") String auth,
                                      @Nullable @Body byte[] body) {
        Principal p = access.tenantCall(auth, Role.EDITOR);
        Responses.ids(tableId, null);
        ObjectNode in = Json.object(body, BATCH_FIELDS, Limits.MAX_BATCH_BODY_BYTES);
        ArrayNode records = Json.array(in, "records", "", true);
        if (records.size() > MAX_BATCH) {
            throw new Problem(HttpStatus.REQUEST_ENTITY_TOO_LARGE, "payload_too_large",
                "at most " + MAX_BATCH + " records per batch; this one has " + records.size(),
                List.of(new Problem.FieldError("records", "at most " + MAX_BATCH + " records")), null);
        }
        Table table = table(p, tableId);
        CreateRecordsRequest.Builder request = CreateRecordsRequest.newBuilder().setTableId(tableId);
        for (int i = 0; i < records.size(); i++) {
            String prefix = "records[" + i + "].";
            if (!(records.get(i) instanceof ObjectNode r)) {
                throw Problem.invalid("records[" + i + "]", "must be an object");
            }
            Json.onlyFields(r, RECORD_FIELDS, prefix);
            request.addRecords(RecordValues.newBuilder().putAllValues(
                values(table, Json.object(r, "values", prefix, false), prefix + "values.")));
        }
        ObjectNode out = Json.MAPPER.createObjectNode();
        ArrayNode ids = out.putArray("ids");
        backends.records(p.tenant(), table).createRecords(request.build()).getIdsList().forEach(ids::add);
        return Responses.json(HttpStatus.CREATED, out);
    }

    @Get("/{recordId}")
    public HttpResponse<String> get(@PathVariable String tableId, @PathVariable String recordId,
                                    @Nullable @Header("Authorization") String auth) {
        Principal p = access.tenantCall(auth, Role.VIEWER);
        Responses.ids(tableId, null);
        return Responses.ok(Json.record(backends.records(p.tenant(), table(p, tableId)).getRecord(
            GetRecordRequest.newBuilder().setTableId(tableId).setRecordId(Responses.recordId(recordId)).build())));
    }

    @Patch("/{recordId}")
    public HttpResponse<String> patch(@PathVariable String tableId, @PathVariable String recordId,
                                      @Nullable @Header("Authorization") String auth, @Nullable @Body String body) {
        Principal p = access.tenantCall(auth, Role.EDITOR);
        Responses.ids(tableId, null);
        long id = Responses.recordId(recordId);
        ObjectNode in = Json.object(body, RECORD_FIELDS);
        Table table = table(p, tableId);
        Map<String, Value> values = values(table, Json.object(in, "values", "", true), "values.");
        return Responses.ok(Json.record(backends.records(p.tenant(), table).updateRecord(
            UpdateRecordRequest.newBuilder().setTableId(tableId).setRecordId(id).putAllValues(values).build())));
    }

    @Delete("/{recordId}")
    public HttpResponse<String> delete(@PathVariable String tableId, @PathVariable String recordId,
                                       @Nullable @Header("Authorization") String auth) {
        Principal p = access.tenantCall(auth, Role.EDITOR);
        Responses.ids(tableId, null);
        backends.records(p.tenant(), table(p, tableId)).deleteRecord(
            DeleteRecordRequest.newBuilder().setTableId(tableId).setRecordId(Responses.recordId(recordId)).build());
        return HttpResponse.noContent();
    }

    private Table table(Principal p, String tableId) {
        return backends.schema(p.tenant()).getTable(GetTableRequest.newBuilder().setTableId(tableId).build());
    }

    /** The JSON values object as typed protobuf values; unknown columns and the primary key are refused. */
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
        Limits.values(values, prefix);
        return values;
    }
}
