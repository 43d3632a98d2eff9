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
import io.linkbase.gateway.ops.SuggestionOps;
import io.linkbase.proto.v1.CreateSuggestedRecordResponse;
import io.linkbase.proto.v1.SuggestRequest;
import io.linkbase.proto.v1.SuggestResponse;
import io.linkbase.proto.v1.Suggestion;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;

import java.util.Set;
import java.util.concurrent.CompletableFuture;

/** Autocomplete on a linked column and "add a new record" (API.md "Autocomplete"). */
@Controller("/api/v1/tables/{tableId}/columns/{columnId}/suggestions")
class SuggestionsController {
    private final SuggestionOps suggestions;

    public SuggestionsController(SuggestionOps suggestions) {
        this.suggestions = suggestions;
    }

    /**
     * The autocomplete, once per keystroke: it never blocks a thread. The caller is admitted on
     * the event loop (AccessFilter; unless it must wait on the network), the search-service call
     * is asynchronous, and the answer is rendered on the gRPC transport thread — no hand-off to a
     * worker pool and back.
     */
    @Get
    @Op(Operation.SUGGEST)
    public CompletableFuture<HttpResponse<String>> suggest(Principal p, @PathVariable String tableId, @PathVariable String columnId,
                                                           @Nullable @QueryValue String q, @Nullable @QueryValue String limit) {
        Responses.ids(tableId, columnId);
        SuggestRequest request = SuggestRequest.newBuilder()
            .setTableId(tableId).setColumnId(columnId).setQ(q == null ? "" : q)
            .setLimit(Responses.intParam(limit, "limit", 1, Limits.MAX_SUGGESTIONS, Limits.DEFAULT_SUGGESTIONS)).build();
        return suggestions.suggest(p, request).thenApply(response -> Responses.ok(render(response)));
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
    @ExecuteOn(TaskExecutors.BLOCKING)
    @Op(Operation.CREATE_SUGGESTED_RECORD)
    public HttpResponse<String> create(Principal p, @PathVariable String tableId, @PathVariable String columnId,
                                       @Nullable @Body String body) {
        Responses.ids(tableId, columnId);
        Bodies.SuggestedRecord in = BodyReader.read(body, Bodies.SuggestedRecord.class);
        String text = in.text();
        JsonNode recordId = in.recordId();
        if (recordId != null && !(recordId.isIntegralNumber() && recordId.canConvertToLong())) {
            throw Problem.invalid("recordId", "must be the id of a record of this table (a whole number)");
        }
        CreateSuggestedRecordResponse created = suggestions.createRecord(p, tableId, columnId, text,
            recordId == null ? null : recordId.longValue());
        ObjectNode out = Json.MAPPER.createObjectNode();
        out.put("recordId", created.getRecordId());
        out.set("value", Json.value(created.getValue()));
        out.put("summary", created.getSummary());
        if (created.hasRecord()) {
            out.set("record", Json.record(created.getRecord()));
        }
        return Responses.json(HttpStatus.CREATED, out);
    }
}
