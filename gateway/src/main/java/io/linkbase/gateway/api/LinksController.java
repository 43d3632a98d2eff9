package io.linkbase.gateway.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.linkbase.gateway.auth.Access;
import io.linkbase.gateway.auth.Principal;
import io.linkbase.gateway.auth.Role;
import io.linkbase.gateway.backend.Backends;
import io.linkbase.gateway.flows.LinkFlows;
import io.linkbase.gateway.json.Json;
import io.linkbase.proto.v1.ClearedSample;
import io.linkbase.proto.v1.GetTableRequest;
import io.linkbase.proto.v1.Table;
import io.linkbase.proto.v1.Link;
import io.linkbase.proto.v1.LinkCandidateColumn;
import io.linkbase.proto.v1.LinkCandidateTable;
import io.linkbase.proto.v1.LinkCandidatesRequest;
import io.linkbase.proto.v1.LinkColumnRequest;
import io.linkbase.proto.v1.LinkPreview;
import io.linkbase.proto.v1.LinkPreviewRequest;
import io.linkbase.proto.v1.LinkState;
import io.linkbase.proto.v1.UnlinkColumnRequest;
import io.micronaut.core.annotation.Nullable;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.HttpStatus;
import io.micronaut.http.annotation.Body;
import io.micronaut.http.annotation.Controller;
import io.micronaut.http.annotation.Delete;
import io.micronaut.http.annotation.Get;
import io.micronaut.http.annotation.Header;
import io.micronaut.http.annotation.PathVariable;
import io.micronaut.http.annotation.Post;
import io.micronaut.http.annotation.Put;
import io.micronaut.http.annotation.QueryValue;
import io.micronaut.scheduling.TaskExecutors;
import io.micronaut.scheduling.annotation.ExecuteOn;

import java.util.Set;

/** Link candidates, preview, link, unlink (API.md "Links"). */
@Controller("/api/v1/tables/{tableId}/columns/{columnId}")
@ExecuteOn(TaskExecutors.BLOCKING)
public class LinksController {
    private static final Set<String> LINK_FIELDS = Set.of("targetTableId", "targetColumnId", "onDelete");
    private static final Set<String> PREVIEW_FIELDS = Set.of("targetTableId", "targetColumnId");

    private final Access access;
    private final Backends backends;
    private final LinkFlows flows;

    public LinksController(Access access, Backends backends, LinkFlows flows) {
        this.access = access;
        this.backends = backends;
        this.flows = flows;
    }

    @Get("/link-candidates")
    public HttpResponse<String> candidates(@PathVariable String tableId, @PathVariable String columnId,
                                           @Nullable @Header("Authorization") String auth) {
        Principal p = access.tenantCall(auth, Role.VIEWER);
        Responses.ids(tableId, columnId);
        ObjectNode body = Json.MAPPER.createObjectNode();
        ArrayNode tables = body.putArray("tables");
        for (LinkCandidateTable t : backends.schema(p.tenant()).getLinkCandidates(
            LinkCandidatesRequest.newBuilder().setTableId(tableId).setColumnId(columnId).build()).getTablesList()) {
            ObjectNode o = tables.addObject();
            o.put("tableId", t.getTableId());
            o.put("name", t.getName());
            o.put("defaultColumnId", t.getDefaultColumnId());
            ArrayNode columns = o.putArray("columns");
            for (LinkCandidateColumn c : t.getColumnsList()) {
                columns.addObject().put("columnId", c.getColumnId()).put("name", c.getName())
                    .put("type", Json.typeName(c.getType())).put("primaryKey", c.getPrimaryKey()).put("unique", c.getUnique());
            }
        }
        return Responses.ok(body);
    }

    @Post("/link/preview")
    public HttpResponse<String> preview(@PathVariable String tableId, @PathVariable String columnId,
                                        @Nullable @Header("Authorization") String auth, @Nullable @Body String body) {
        Principal p = access.tenantCall(auth, Role.OWNER);
        Responses.ids(tableId, columnId);
        ObjectNode in = Json.object(body, PREVIEW_FIELDS);
        LinkPreviewRequest.Builder request = LinkPreviewRequest.newBuilder().setTableId(tableId).setColumnId(columnId)
            .setTargetTableId(Json.requiredText(in, "targetTableId", ""));
        String targetColumn = Json.text(in, "targetColumnId", "");
        if (targetColumn != null) {
            request.setTargetColumnId(targetColumn);
        }
        LinkPreview preview = backends.records(p.tenant(), table(p, tableId), table(p, request.getTargetTableId()))
            .previewLink(request.build());
        ObjectNode out = Json.MAPPER.createObjectNode();
        out.put("keptCount", preview.getKeptCount());
        out.put("clearedCount", preview.getClearedCount());
        ArrayNode samples = out.putArray("clearedSamples");
        for (ClearedSample s : preview.getClearedSamplesList()) {
            samples.addObject().put("recordId", s.getRecordId()).set("value", Json.value(s.getValue()));
        }
        return Responses.ok(out);
    }

    private Table table(Principal p, String tableId) {
        return backends.schema(p.tenant()).getTable(GetTableRequest.newBuilder().setTableId(tableId).build());
    }

    @Put("/link")
    public HttpResponse<String> link(@PathVariable String tableId, @PathVariable String columnId,
                                     @Nullable @Header("Authorization") String auth,
                                     @Nullable @Header("If-Match") String ifMatch, @Nullable @QueryValue String wait,
                                     @Nullable @Body String body) {
        Principal p = access.tenantCall(auth, Role.OWNER);
        Responses.ids(tableId, columnId);
        int waitSeconds = Responses.intParam(wait, "wait", 0, LinkFlows.MAX_WAIT_SECONDS, 0);
        ObjectNode in = Json.object(body, LINK_FIELDS);
        LinkColumnRequest.Builder request = LinkColumnRequest.newBuilder().setTableId(tableId).setColumnId(columnId)
            .setTargetTableId(Json.requiredText(in, "targetTableId", ""))
            .setOnDelete(Json.onDelete(Json.text(in, "onDelete", ""), "onDelete"));
        String targetColumn = Json.text(in, "targetColumnId", "");
        if (targetColumn != null) {
            request.setTargetColumnId(targetColumn);
        }
        Long expected = Responses.expectedVersion(ifMatch);
        if (expected != null) {
            request.setExpectedVersion(expected);
        }
        Link link = backends.schema(p.tenant()).linkColumn(request.build());
        if (waitSeconds > 0 && link.getState() != LinkState.ACTIVE) {
            link = flows.awaitActive(p.tenant(), tableId, columnId, waitSeconds);
        }
        return Responses.json(link.getState() == LinkState.ACTIVE && waitSeconds > 0 ? HttpStatus.OK : HttpStatus.ACCEPTED,
            Json.link(link));
    }

    @Post("/link/undo")
    public HttpResponse<String> undo(@PathVariable String tableId, @PathVariable String columnId,
                                     @Nullable @Header("Authorization") String auth,
                                     @Nullable @Header("If-Match") String ifMatch) {
        Principal p = access.tenantCall(auth, Role.OWNER);
        Responses.ids(tableId, columnId);
        Table t = flows.undoLink(p.tenant(), tableId, columnId, Responses.expectedVersion(ifMatch));
        return Responses.ok(Json.table(t)).header("ETag", "\"" + t.getVersion() + "\"");
    }

    @Get("/link")
    public HttpResponse<String> get(@PathVariable String tableId, @PathVariable String columnId,
                                    @Nullable @Header("Authorization") String auth) {
        Principal p = access.tenantCall(auth, Role.VIEWER);
        Responses.ids(tableId, columnId);
        return Responses.ok(Json.link(flows.getLink(p.tenant(), tableId, columnId)));
    }

    @Delete("/link")
    public HttpResponse<String> unlink(@PathVariable String tableId, @PathVariable String columnId,
                                       @Nullable @Header("Authorization") String auth,
                                       @Nullable @Header("If-Match") String ifMatch, @Nullable @QueryValue String wait) {
        Principal p = access.tenantCall(auth, Role.OWNER);
        Responses.ids(tableId, columnId);
        int waitSeconds = Responses.intParam(wait, "wait", 0, LinkFlows.MAX_WAIT_SECONDS, 0);
        UnlinkColumnRequest.Builder request = UnlinkColumnRequest.newBuilder().setTableId(tableId).setColumnId(columnId);
        Long expected = Responses.expectedVersion(ifMatch);
        if (expected != null) {
            request.setExpectedVersion(expected);
        }
        backends.schema(p.tenant()).unlinkColumn(request.build());
        // The link is gone from the table as soon as ColumnUnlinked is stored; with ?wait the
        // caller is told so with a 200.
        return HttpResponse.status(waitSeconds > 0 ? HttpStatus.OK : HttpStatus.ACCEPTED);
    }

}
