package io.linkbase.gateway.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.linkbase.gateway.auth.Access;
import io.linkbase.gateway.auth.Principal;
import io.linkbase.gateway.auth.Role;
import io.linkbase.gateway.backend.Backends;
import io.linkbase.gateway.errors.Problem;
import io.linkbase.gateway.json.Json;
import io.linkbase.proto.v1.Column;
import io.linkbase.proto.v1.ColumnType;
import io.linkbase.proto.v1.CreateRecordRequest;
import io.linkbase.proto.v1.GetTableRequest;
import io.linkbase.proto.v1.Link;
import io.linkbase.proto.v1.Record;
import io.linkbase.proto.v1.SuggestRequest;
import io.linkbase.proto.v1.SuggestResponse;
import io.linkbase.proto.v1.Suggestion;
import io.linkbase.proto.v1.Table;
import io.linkbase.proto.v1.Value;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Header;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;

import java.util.Set;

/** Autocomplete on a linked column and "add a new record" (API.md "Autocomplete"). */
@Controller("/api/v1/tables/{tableId}/columns/{columnId}/suggestions")
@ExecuteOn(TaskExecutors.BLOCKING)
public class SuggestionsController {
    private static final Set<String> CREATE_FIELDS = Set.of("text");

    private final Access access;
    private final Backends backends;

    public SuggestionsController(Access access, Backends backends) {
        this.access = access;
        this.backends = backends;
    }

    @Get
    public HttpResponse<String> suggest(@PathVariable String tableId, @PathVariable String columnId,
                                        @Nullable @Header("Authorization") String auth,
                                        @Nullable @QueryValue String q, @Nullable @QueryValue String limit) {
        Principal p = access.tenantCall(auth, Role.VIEWER);
        SuggestResponse response = backends.search(p.tenant()).suggest(SuggestRequest.newBuilder()
            .setTableId(tableId).setColumnId(columnId).setQ(q == null ? "" : q)
            .setLimit(Responses.intParam(limit, "limit", 1, 50, 10)).build());
        return Responses.ok(render(response));
    }

    static ObjectNode render(SuggestResponse response) {
        ObjectNode body = Json.MAPPER.createObjectNode();
        ArrayNode suggestions = body.putArray("suggestions");
        for (Suggestion s : response.getSuggestionsList()) {
            ObjectNode o = suggestions.addObject();
            o.put("recordId", s.getRecordId());
            o.set("value", Json.value(s.getValue()));
            o.put("summary", s.getSummary());
            o.put("highlight", s.getHighlight());
        }
        if (response.hasCreateOption()) {
            body.putObject("createOption").put("text", response.getCreateOption().getText());
        } else {
            body.putNull("createOption");
        }
        return body;
    }

    @Post
    public HttpResponse<String> create(@PathVariable String tableId, @PathVariable String columnId,
                                       @Nullable @Header("Authorization") String auth, @Nullable @Body String body) {
        Principal p = access.tenantCall(auth, Role.EDITOR);
        ObjectNode in = Json.object(body, CREATE_FIELDS);
        String text = Json.requiredText(in, "text", "");
        if (text.isBlank()) {
            throw Problem.invalid("text", "must not be blank");
        }
        Table table = backends.schema(p.tenant()).getTable(GetTableRequest.newBuilder().setTableId(tableId).build());
        Column column = table.getColumnsList().stream().filter(c -> c.getId().equals(columnId)).findFirst()
            .orElseThrow(() -> Problem.notFound("column " + columnId));
        if (!column.hasLink()) {
            throw Problem.invalid("columnId", "the column is not linked to another table");
        }
        Link link = column.getLink();
        Table target = backends.schema(p.tenant()).getTable(
            GetTableRequest.newBuilder().setTableId(link.getTargetTableId()).build());
        String display = target.getDisplayColumnId();
        Column displayColumn = target.getColumnsList().stream().filter(c -> c.getId().equals(display)).findFirst()
            .orElseThrow(() -> Problem.notFound("display column"));
        if (displayColumn.getType() != ColumnType.TEXT) {
            throw Problem.invalid("text", "the linked table's display column is not a text column");
        }
        Record created = backends.records(p.tenant()).createRecord(CreateRecordRequest.newBuilder()
            .setTableId(target.getId()).putValues(display, Value.newBuilder().setText(text).build()).build());
        Value value = link.getTargetColumnId().equals(target.getPrimaryKeyColumnId())
            ? Value.newBuilder().setInteger(created.getId()).build()
            : created.getValuesOrDefault(link.getTargetColumnId(), Value.getDefaultInstance());
        ObjectNode out = Json.MAPPER.createObjectNode();
        out.put("recordId", created.getId());
        out.set("value", Json.value(value));
        out.put("summary", text);
        return Responses.json(HttpStatus.CREATED, out);
    }
}
