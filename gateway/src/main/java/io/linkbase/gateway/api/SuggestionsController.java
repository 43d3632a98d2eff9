package io.linkbase.gateway.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.linkbase.gateway.auth.Access;
import io.linkbase.gateway.auth.Principal;
import io.linkbase.gateway.auth.Role;
import io.linkbase.gateway.backend.Backends;
import io.linkbase.gateway.flows.LinkFlows;
import io.linkbase.gateway.errors.Problem;
import io.linkbase.gateway.json.Json;
import io.linkbase.gateway.json.Limits;
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
import io.micronaut.http.annotation.Header;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;
import jakarta.inject.Named;

import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/** Autocomplete on a linked column and "add a new record" (API.md "Autocomplete"). */
@Controller("/api/v1/tables/{tableId}/columns/{columnId}/suggestions")
public class SuggestionsController {
    private static final Set<String> CREATE_FIELDS = Set.of("text", "recordId");

    private final Access access;
    private final Backends backends;
    private final LinkFlows flows;
    private final Executor blocking;

    public SuggestionsController(Access access, Backends backends, LinkFlows flows,
                                 @Named(TaskExecutors.BLOCKING) Executor blocking) {
        this.access = access;
        this.backends = backends;
        this.flows = flows;
        this.blocking = blocking;
    }

    /**
     * The autocomplete, once per keystroke: it never blocks a thread. Checks run on the event
     * loop (unless one must wait on the network), the search-service call is asynchronous, and the
     * answer is rendered on the gRPC transport thread — no hand-off to a worker pool and back.
     */
    @Get
    public CompletableFuture<HttpResponse<String>> suggest(@PathVariable String tableId, @PathVariable String columnId,
                                                           @Nullable @Header("Authorization") String auth,
                                                           @Nullable @QueryValue String q, @Nullable @QueryValue String limit) {
        return access.tenantCallAsync(auth, Role.VIEWER, blocking).thenCompose(p -> {
            Responses.ids(tableId, columnId);
            if (q != null && q.length() > Limits.MAX_Q) {
                throw Problem.limit("q", "at most " + Limits.MAX_Q + " characters; it has " + q.length());
            }
            SuggestRequest request = SuggestRequest.newBuilder()
                .setTableId(tableId).setColumnId(columnId).setQ(q == null ? "" : q)
                .setLimit(Responses.intParam(limit, "limit", 1, 50, 10)).build();
            return Backends.completable(backends.searchFuture(p.tenant()).suggest(request));
        }).thenApply(response -> Responses.ok(render(response)));
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
    public HttpResponse<String> create(@PathVariable String tableId, @PathVariable String columnId,
                                       @Nullable @Header("Authorization") String auth, @Nullable @Body String body) {
        Principal p = access.tenantCall(auth, Role.EDITOR);
        Responses.ids(tableId, columnId);
        ObjectNode in = Json.object(body, CREATE_FIELDS);
        String text = Json.requiredText(in, "text", "");
        Limits.text(text, "text");
        JsonNode recordId = in.get("recordId");
        if (recordId != null && !recordId.isNull() && !(recordId.isIntegralNumber() && recordId.canConvertToLong())) {
            throw Problem.invalid("recordId", "must be the id of a record of this table (a whole number)");
        }
        CreateSuggestedRecordResponse created = flows.createSuggestedRecord(p.tenant(), tableId, columnId, text,
            recordId == null || recordId.isNull() ? null : recordId.longValue());
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
