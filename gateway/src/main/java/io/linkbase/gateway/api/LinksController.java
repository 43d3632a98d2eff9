package io.linkbase.gateway.api;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.linkbase.gateway.auth.Access;
import io.linkbase.gateway.auth.Principal;
import io.linkbase.gateway.auth.Role;
import io.linkbase.gateway.backend.Backends;
import io.linkbase.gateway.json.Json;
import io.linkbase.proto.v1.ClearedSample;
import io.linkbase.proto.v1.GetLinkRequest;
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
    static final int MAX_WAIT_SECONDS = 30;

    private final Access access;
    private final Backends backends;

    public LinksController(Access access, Backends backends) {
        this.access = access;
        this.backends = backends;
    }

    @Get("/link-candidates")
    public HttpResponse<String> candidates(@PathVariable String tableId, @PathVariable String columnId,
                                           @Nullable @Header("Authorization") String auth) {
        Principal p = access.tenantCall(auth, Role.VIEWER);
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
        ObjectNode in = Json.object(body, PREVIEW_FIELDS);
        LinkPreviewRequest.Builder request = LinkPreviewRequest.newBuilder().setTableId(tableId).setColumnId(columnId)
            .setTargetTableId(Json.requiredText(in, "targetTableId", ""));
        String targetColumn = Json.text(in, "targetColumnId", "");
        if (targetColumn != null) {
            request.setTargetColumnId(targetColumn);
        }
        LinkPreview preview = backends.records(p.tenant()).previewLink(request.build());
        ObjectNode out = Json.MAPPER.createObjectNode();
        out.put("keptCount", preview.getKeptCount());
        out.put("clearedCount", preview.getClearedCount());
        ArrayNode samples = out.putArray("clearedSamples");
        for (ClearedSample s : preview.getClearedSamplesList()) {
            samples.addObject().put("recordId", s.getRecordId()).set("value", Json.value(s.getValue()));
        }
        return Responses.ok(out);
    }

    @Put("/link")
    public HttpResponse<String> link(@PathVariable String tableId, @PathVariable String columnId,
                                     @Nullable @Header("Authorization") String auth, @Nullable @QueryValue String wait,
                                     @Nullable @Body String body) {
        Principal p = access.tenantCall(auth, Role.OWNER);
        int waitSeconds = Responses.intParam(wait, "wait", 0, MAX_WAIT_SECONDS, 0);
        ObjectNode in = Json.object(body, LINK_FIELDS);
        LinkColumnRequest.Builder request = LinkColumnRequest.newBuilder().setTableId(tableId).setColumnId(columnId)
            .setTargetTableId(Json.requiredText(in, "targetTableId", ""))
            .setOnDelete(Json.onDelete(Json.text(in, "onDelete", ""), "onDelete"));
        String targetColumn = Json.text(in, "targetColumnId", "");
        if (targetColumn != null) {
            request.setTargetColumnId(targetColumn);
        }
        Link link = backends.schema(p.tenant()).linkColumn(request.build());
        if (waitSeconds > 0 && link.getState() != LinkState.ACTIVE) {
            link = awaitActive(p.tenant(), tableId, columnId, waitSeconds);
        }
        return Responses.json(link.getState() == LinkState.ACTIVE && waitSeconds > 0 ? HttpStatus.OK : HttpStatus.ACCEPTED,
            Json.link(link));
    }

    @Get("/link")
    public HttpResponse<String> get(@PathVariable String tableId, @PathVariable String columnId,
                                    @Nullable @Header("Authorization") String auth) {
        Principal p = access.tenantCall(auth, Role.VIEWER);
        return Responses.ok(Json.link(getLink(p.tenant(), tableId, columnId)));
    }

    @Delete("/link")
    public HttpResponse<String> unlink(@PathVariable String tableId, @PathVariable String columnId,
                                       @Nullable @Header("Authorization") String auth, @Nullable @QueryValue String wait) {
        Principal p = access.tenantCall(auth, Role.OWNER);
        int waitSeconds = Responses.intParam(wait, "wait", 0, MAX_WAIT_SECONDS, 0);
        backends.schema(p.tenant()).unlinkColumn(
            UnlinkColumnRequest.newBuilder().setTableId(tableId).setColumnId(columnId).build());
        // The link is gone from the table as soon as ColumnUnlinked is stored; with ?wait the
        // caller is told so with a 200.
        return HttpResponse.status(waitSeconds > 0 ? HttpStatus.OK : HttpStatus.ACCEPTED);
    }

    private Link getLink(String tenant, String tableId, String columnId) {
        return backends.schema(tenant).getLink(GetLinkRequest.newBuilder().setTableId(tableId).setColumnId(columnId).build());
    }

    /**
     * Waits for the link to become ACTIVE, asking schema-service with a growing interval (20 ms
     * doubling to 250 ms) so a waiting client never turns into a tight polling loop.
     */
    private Link awaitActive(String tenant, String tableId, String columnId, int seconds) {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        long pause = 20;
        Link link = getLink(tenant, tableId, columnId);
        while (link.getState() != LinkState.ACTIVE) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                return link;
            }
            try {
                Thread.sleep(Math.min(pause, left));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return link;
            }
            pause = Math.min(pause * 2, 250);
            link = getLink(tenant, tableId, columnId);
        }
        return link;
    }
}
